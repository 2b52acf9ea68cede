// The data the planner works on: the resources that target a hub, and what it decides. The twins it reads are
// the hub client's (src/twins/types.ts).
import type { Reason } from '../api/reasons.js';
import type { Convergence } from '../profiles/twin-profile.js';
import type { TwinPatch, TwinRef, TwinSlot } from '../twins/types.js';

export type { DeviceRecord, HubSnapshot, ManagedTwin, TwinPatch, TwinRef, TwinSlot } from '../twins/types.js';

/** A SecurityModuleConfig or a TwinConfig as the planner needs it (validated, defaults applied). */
export interface PlannedResource {
  /** Unique per hub and recorded in twins as the owner of settings: `namespace/name` (a TwinConfig's name marked). */
  key: string;
  kind: 'SecurityModuleConfig' | 'TwinConfig';
  priority: number;
  target: { condition?: string; deviceIds?: string[] };
  /** Which twin of each targeted device it manages: a module id, or DEVICE_TWIN. */
  slot: TwinSlot;
  /** The settings it manages, by setting id (see src/profiles/), with the values it wants. */
  settings: Record<string, unknown>;
  /** How a device says it took them. */
  convergence: Convergence;
  suspend: boolean;
  /** Create the module on targeted devices that lack it. */
  createModule: boolean;
  convergenceTimeoutMs: number;
  rollout: { batchSize: number | string; failureThreshold: number | string };
}

/** One PATCH of a twin: only what changes, guarded by the etag the plan was made from. */
export interface TwinWrite extends TwinRef {
  etag: string;
  patch: TwinPatch;
  /** Ids of the settings set (a value) or removed (null). */
  changedSettings: string[];
}

export type DeviceState = 'converged' | 'pending' | 'offline' | 'stalled' | 'failed' | 'rejected';

export interface DeviceFailure {
  deviceId: string;
  /** A reason of the table (src/api/reasons.ts), which says whether it is retried at the next step. */
  reason: Reason;
  message: string;
}
