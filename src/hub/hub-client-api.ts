// What the reconcile engine needs from a hub. Implemented over azure-iothub by HubClient; the engine and its
// tests depend only on this interface.
import type { DeviceRecord, HubSnapshot, ManagedTwin, TwinPatch, TwinRef, TwinSlot } from '../twins/types.js';

export interface CallOptions {
  /**
   * Cancels waiting for quota, backoff sleeps and the request in flight; the call then rejects with a HubError
   * of kind 'Cancelled'.
   *
   * Cancelling cannot take back a request the hub has received, so a 'Cancelled' error means the outcome is
   * unknown: if an attempt had been sent, a PATCH may have been applied and a module may have been created
   * (the error does not say whether one had been sent). After one, assume neither outcome: re-read the twin
   * (`readTwins` with `consistent: true`, since queries lag writes) and plan from what the hub holds.
   * The client destroys the HTTP request of a cancelled attempt: its connection is closed, not reused, and a
   * late answer is never read.
   */
  abort?: AbortSignal;
  /**
   * Called synchronously just before each attempt of a write is sent (after any wait for quota or backoff);
   * throwing refuses the attempt and ends the call with what it threw (a HubError of kind 'Cancelled' reads as a
   * stop). For a writer that may lose the right to write while a call waits (a hub's Lease, with --sharding).
   */
  beforeSend?: () => void;
}

export interface ReadOptions extends CallOptions {
  /** Read by GET, never by query: queries may lag writes (after a 412 the current twin is needed). */
  consistent?: boolean;
  /**
   * Twins of the slot in the hub (the last snapshot's count): when the devices asked for are much of it, reading
   * every twin page by page is cheaper than `IN` queries.
   */
  fleetSize?: number;
}

export interface SnapshotReadOptions extends CallOptions {
  /**
   * The last snapshot read: a twin the query shows at the same etag and version as there (and read there by a
   * query too) is taken from it as it is, instead of made again from the hub's JSON.
   */
  previous?: HubSnapshot;
  /**
   * Called with each page as soon as it is made into records, before the next one is read (the engine plans the
   * devices it completes while the rest is read). Query order is not promised: a device's record and its twins
   * may come on pages far apart. Must not throw.
   */
  onPage?: (page: SnapshotPage) => void;
}

/** One query page of a snapshot: devices (from the devices' query), or twins of one slot, or both (device twins). */
export interface SnapshotPage {
  devices: readonly DeviceRecord[];
  /** The slot of `twins`. */
  slot: TwinSlot;
  twins: readonly ManagedTwin[];
}

export interface HubAccess {
  /** The hub's host name, for messages and metrics; never a key. */
  readonly hubName: string;
  /**
   * Times the hub went away so far (three attempts in a row got no answer: refused, reset, timed out); it only goes
   * up. A hub that went away may come back without the writes it acknowledged last, so the engine checks those it
   * cannot see. A single connection reset is no outage: it would send a GET for every twin a query has yet to show.
   */
  readonly outages?: number;
  /**
   * Every device (id, tags, status, connectionState, modelId) and every twin of the slots asked for (modules by
   * id; DEVICE_TWIN, the device twins), through paged queries with the largest page the hub allows; never one GET
   * per device.
   */
  readSnapshot(slots: readonly TwinSlot[], options?: SnapshotReadOptions): Promise<HubSnapshot>;
  /**
   * Fresh twins of one slot of some devices (e.g. pending ones, or one that answered 412), by `deviceId IN [...]`
   * queries in batches or by GETs, whichever the quotas make cheaper. Devices without the module are absent.
   */
  readTwins(
    slot: TwinSlot,
    deviceIds: readonly string[],
    options?: ReadOptions,
  ): Promise<Map<string, ManagedTwin>>;
  /**
   * One PATCH with If-Match `etag` (never `*`); resolves with the twin the hub returns. A stale etag rejects
   * with a HubError of kind 'PreconditionFailed' and nothing is written.
   *
   * Rejected with 'Cancelled', the patch may or may not have been applied (see `CallOptions.abort`): re-read
   * the twin before planning this device again. Sending the same patch with the same etag stays safe (If-Match
   * turns a landed first write into a 412), but the snapshot's etag, versions and desired section are stale.
   */
  patchTwin(twin: TwinRef, patch: TwinPatch, etag: string, options?: CallOptions): Promise<ManagedTwin>;
  /**
   * Creates the module `twin.slot` of the device when missing; never replaces one that exists. Rejected with
   * 'Cancelled', the module may or may not have been created: re-read (a later call answers 'existed' if it
   * was). A device that already has the most modules a device may have rejects with 'InvalidArgument', final.
   */
  ensureModule(twin: TwinRef, options?: CallOptions): Promise<'created' | 'existed'>;
}

/**
 * A hub read page by page, for callers that must not hold the whole fleet (export): each page is a query page
 * of up to 1,000 items, paced and retried as every call; a failure rejects the iteration with a HubError.
 */
export interface HubPageReader {
  readonly hubName: string;
  devicePages(options?: CallOptions): AsyncIterable<DeviceRecord[]>;
  /** Every twin of a slot (a module, or the device twins), page by page. */
  twinPages(slot: TwinSlot, options?: CallOptions): AsyncIterable<ManagedTwin[]>;
}
