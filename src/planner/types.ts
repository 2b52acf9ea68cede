// The data the planner works on: a snapshot of one hub, the resources that target it, and what it decides.
import type { AgentSettings } from '../profiles/security-agent/index.js';
import type { Reason } from '../api/reasons.js';

/** A device as the hub's `devices` collection shows it (the fields target conditions may read). */
export interface DeviceRecord {
  deviceId: string;
  tags: Record<string, unknown>;
  status: string;
  connectionState: string;
  lastActivityTime?: string;
  /**
   * When this process saw the device come back online (epoch ms), set by the engine: the convergence timeout of
   * a device that was offline when its configuration was written starts when it reconnects.
   */
  onlineSince?: number;
}

/** The `azureiotsecurity` module twin of a device, reduced to what reconciling reads. */
export interface SecurityModuleTwin {
  deviceId: string;
  etag: string;
  /** The module twin's tags: the operator keeps its ownership record there. */
  tags: Record<string, unknown>;
  /** properties.desired[AGENT_CONFIGURATION_KEY], raw (each setting wrapped as {value}). */
  desiredConfiguration: unknown;
  /** properties.reported[AGENT_CONFIGURATION_KEY], raw. */
  reportedConfiguration: unknown;
  /** properties.desired.$version: only ever increases. */
  desiredVersion: number;
  /** properties.reported.$version: increases with every report of the device; absent if the twin has none. */
  reportedVersion?: number;
  /** The twin's `version`: increases with every change of tags, desired or reported. */
  version?: number;
  /** When the desired configuration was last written ($metadata.$lastUpdated), as epoch milliseconds. */
  desiredUpdatedAt?: number;
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

export interface HubSnapshot {
  devices: DeviceRecord[];
  /** By device id; a device without an entry lacks the security module. */
  modules: Map<string, SecurityModuleTwin>;
}

/** A SecurityModuleConfig as the planner needs it (validated, defaults applied). */
export interface PlannedResource {
  /** `namespace/name`: stable, unique per hub, recorded in twins as the owner of settings. */
  key: string;
  priority: number;
  target: { condition?: string; deviceIds?: string[] };
  /** The agent settings this resource names, by twin key. */
  settings: AgentSettings;
  suspend: boolean;
  createMissingModules: boolean;
  convergenceTimeoutMs: number;
  rollout: { batchSize: number | string; failureThreshold: number | string };
}

/** One PATCH of a module twin: only what changes, guarded by the etag the plan was made from. */
export interface TwinWrite {
  deviceId: string;
  etag: string;
  patch: TwinPatch;
  /** Twin keys of settings set (value) or removed (null). */
  changedSettings: string[];
}

export interface TwinPatch {
  tags?: Record<string, unknown>;
  properties?: { desired: Record<string, unknown> };
}

export type DeviceState = 'converged' | 'pending' | 'offline' | 'stalled' | 'failed';

export interface DeviceFailure {
  deviceId: string;
  /** A reason of the table (src/api/reasons.ts), which says whether it is retried at the next step. */
  reason: Reason;
  message: string;
}
