// A hub's access as the engine gets it when hubs are sharded across replicas: every write (twin patch, module
// create) asks, synchronously and again just before each attempt is sent, whether this replica still holds the hub
// (its Lease renewed within the renew deadline). The drain and abort that follow a lapse run on timers, which a
// busy event loop may fire late; this check does not depend on them. A refused write rejects as 'Cancelled', which
// the engine treats as a stop. Reads go through unchecked: they change nothing.
import { HubError } from '../hub/errors.js';
import type { CallOptions, HubAccess } from '../hub/hub-client-api.js';
import type { HubOwnership } from './hub-ownership.js';

export function ownedHubAccess(key: string, access: HubAccess, ownership: HubOwnership): HubAccess {
  const check = () => {
    if (!ownership.owns(key))
      throw new HubError({
        kind: 'Cancelled',
        hubName: access.hubName,
        message: `a write to hub ${key} was refused: this replica no longer holds its Lease`,
      });
  };
  const guarded = (options: CallOptions | undefined): CallOptions => ({
    ...options,
    beforeSend: () => {
      check();
      options?.beforeSend?.();
    },
  });
  return {
    get hubName() {
      return access.hubName;
    },
    get outages() {
      return access.outages;
    },
    readSnapshot: (slots, options) => access.readSnapshot(slots, options),
    readTwins: (slot, deviceIds, options) => access.readTwins(slot, deviceIds, options),
    async patchTwin(twin, patch, etag, options) {
      check();
      return access.patchTwin(twin, patch, etag, guarded(options));
    },
    async ensureModule(twin, options) {
      check();
      return access.ensureModule(twin, guarded(options));
    },
  };
}
