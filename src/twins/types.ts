// The twins of a hub as the operator reads and writes them: devices (what target conditions read), and the twins
// whose desired properties resources manage (a module twin, or the device twin itself). Shared by the hub client,
// which makes them, and the planner and the engine, which read them.

/** A device as the hub's `devices` collection shows it (the fields target conditions may read). */
export interface DeviceRecord {
  deviceId: string;
  tags: Record<string, unknown>;
  status: string;
  connectionState: string;
  lastActivityTime?: string;
  /** The IoT Plug and Play model the device announced (`modelId` of its twin), when it did. */
  modelId?: string;
  /**
   * When this process saw the device come back online (epoch ms), set by the engine: the convergence timeout of
   * a device that was offline when its configuration was written starts when it reconnects.
   */
  onlineSince?: number;
}

/** Which twin of each device: a module id, or DEVICE_TWIN for the device twin itself. */
export type TwinSlot = string;
export const DEVICE_TWIN: TwinSlot = '';

/** One twin of one device. */
export interface TwinRef {
  slot: TwinSlot;
  deviceId: string;
}

export function describeSlot(slot: TwinSlot): string {
  return slot === DEVICE_TWIN ? 'the device twin' : `the module twin '${slot}'`;
}

/**
 * properties.desired.$metadata, reduced to what lastWritten reads: when (`at`, epoch ms) and at which desired
 * version a value was last written. The hub gives every level of every property a stamp of its own, but a value
 * written at once carries one stamp throughout: so a stamp keeps `below` only the properties whose stamp differs
 * from its own (written later), and a property without one was written with its parent.
 */
export interface WriteStamp {
  at?: number;
  version?: number;
  below?: Record<string, WriteStamp>;
}

/** A twin of one device, reduced to what reconciling reads. */
export interface ManagedTwin {
  deviceId: string;
  /** The module, undefined for the device twin. */
  moduleId?: string;
  /** The IoT Plug and Play model the device (or module) announced, when it did. */
  modelId?: string;
  etag: string;
  /** The twin's tags: the operator keeps its ownership record there. */
  tags: Record<string, unknown>;
  /** properties.desired, without `$metadata` and `$version`. */
  desired: Record<string, unknown>;
  /** When, and at which desired version, its desired properties were last written (see lastWritten). */
  desiredWritten: WriteStamp;
  /** properties.reported, without `$metadata` and `$version`. */
  reported: Record<string, unknown>;
  /** properties.desired.$version: only ever increases. */
  desiredVersion: number;
  /** properties.reported.$version: increases with every report of the device; absent if the twin has none. */
  reportedVersion?: number;
  /** The twin's `version`: increases with every change of tags, desired or reported. */
  version?: number;
  /**
   * True when the reported side may predate the desired one we know of (our own write is newer than the
   * query that returned this twin): the device must not be counted as converged from it.
   */
  reportedMayBeStale?: boolean;
  /**
   * Read by GET (or returned by a write): the hub's current twin, never a lagging query result. Older than a
   * twin this process wrote, it means the hub lost that write (a failover), not that a query lags.
   */
  current?: boolean;
}

/**
 * A hub's devices and managed twins as read at one moment, for reading: the planner, status and export read it;
 * only the engine's FleetSnapshot (src/engine/fleet-snapshot.ts) changes one between reads.
 */
export interface HubSnapshot {
  readonly devices: readonly DeviceRecord[];
  /** The managed twins by slot, then by device id; a device without an entry lacks that module. */
  readonly twins: ReadonlyMap<TwinSlot, ReadonlyMap<string, ManagedTwin>>;
}

const NO_TWINS: ReadonlyMap<string, ManagedTwin> = new Map();

/** The twins of one slot in a snapshot (none when the slot was not read). */
export function twinsOf(snapshot: HubSnapshot, slot: TwinSlot): ReadonlyMap<string, ManagedTwin> {
  return snapshot.twins.get(slot) ?? NO_TWINS;
}

/** One PATCH of a twin: only what changes. */
export interface TwinPatch {
  tags?: Record<string, unknown>;
  properties?: { desired: Record<string, unknown> };
}

/**
 * When (epoch ms) and at which desired version the desired property at `path` was last written: nothing when
 * desired holds no value there (the hub keeps metadata for the values it holds, and only for those).
 */
export function lastWritten(twin: ManagedTwin, path: readonly string[]): { at?: number; version?: number } {
  let value: unknown = twin.desired;
  let node: WriteStamp | undefined = twin.desiredWritten;
  let stamp = node;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key))
      return {};
    value = (value as Record<string, unknown>)[key];
    node = node?.below?.[key];
    if (node) stamp = node;
  }
  const written: { at?: number; version?: number } = {};
  if (stamp.at !== undefined) written.at = stamp.at;
  if (stamp.version !== undefined) written.version = stamp.version;
  return written;
}
