// What the reconcile engine needs from a hub. Implemented over azure-iothub by HubClient; the engine and its
// tests depend only on this interface.
import type { HubSnapshot, SecurityModuleTwin, TwinPatch } from '../planner/types.js';

export interface CallOptions {
  /** Cancels waiting for quota, backoff sleeps and the request in flight. */
  signal?: AbortSignal;
}

export interface ReadOptions extends CallOptions {
  /** Read by GET, never by query: queries may lag writes (after a 412 the current twin is needed). */
  consistent?: boolean;
}

export interface HubAccess {
  /** The hub's host name, for messages and metrics; never a key. */
  readonly hubName: string;
  /**
   * Every device (id, tags, status, connectionState) and every `azureiotsecurity` module twin, through paged
   * queries with the largest page the hub allows; never one GET per device.
   */
  readSnapshot(options?: CallOptions): Promise<HubSnapshot>;
  /**
   * Fresh module twins of some devices (e.g. pending ones, or one that answered 412), by `deviceId IN [...]`
   * queries in batches or by GETs, whichever the quotas make cheaper. Devices without the module are absent.
   */
  readModuleTwins(
    deviceIds: readonly string[],
    options?: ReadOptions,
  ): Promise<Map<string, SecurityModuleTwin>>;
  /**
   * One PATCH with If-Match `etag` (never `*`); resolves with the twin the hub returns. A stale etag rejects
   * with a HubError of kind 'PreconditionFailed' and nothing is written.
   */
  patchModuleTwin(
    deviceId: string,
    patch: TwinPatch,
    etag: string,
    options?: CallOptions,
  ): Promise<SecurityModuleTwin>;
  /** Creates the `azureiotsecurity` module when missing; never replaces one that exists. */
  ensureSecurityModule(deviceId: string, options?: CallOptions): Promise<'created' | 'existed'>;
}
