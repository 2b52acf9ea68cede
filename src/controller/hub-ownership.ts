// Which hubs this process may reconcile, when hubs are sharded across replicas (sharding/hub-sharding.ts): the one
// question the controller asks, where hubs are queued and before each reconcile, and the one hook through which a
// hub's reconcile in progress is stopped when the process must let the hub go.
import type { Stop } from '../runtime/stop.js';

export interface HubOwnership {
  /** Whether this process may reconcile (write to) hub `key` now. */
  owns(key: string): boolean;
  /**
   * Runs one reconcile of hub `key` under `stop` and the hub's own: the latter drains (then aborts) the reconcile
   * when this process must stop writing to the hub.
   */
  guard<T>(key: string, stop: Stop, reconcile: (stop: Stop) => Promise<T>): Promise<T>;
}
