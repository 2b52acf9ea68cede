// HubAccess over the in-memory FakeHub, with the hub behaviours the engine must survive: query lag (a
// snapshot older than the writes) and other writers racing us (412).
import type { HubAccess, SnapshotReadOptions } from '../../src/hub/hub-client-api.js';
import type { HubSnapshot, ManagedTwin, TwinPatch, TwinRef, TwinSlot } from '../../src/planner/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { type Clock, systemClock } from '../../src/runtime/clock.js';
import { type FakeHub, moduleTwin } from './planner-fixtures.js';

export class FakeHubAccess implements HubAccess {
  readonly hubName = 'fake-hub.example';
  calls = { snapshots: 0, patches: 0, rereads: 0, creations: 0 };
  /** The device ids of each readTwins call, in order. */
  reads: string[][] = [];
  /** When set, readSnapshot returns this (stale) snapshot instead of the hub's state: query lag. */
  laggingSnapshot?: HubSnapshot;
  /** Called before each patch; may change the twin behind our back (another writer). */
  beforePatch?: (deviceId: string) => void;
  /**
   * When set, readSnapshot hands each device on as a page of its own (record and security module twin), devices in
   * this order (ids not listed come after, in the hub's order), as the hub client does while it reads.
   */
  pageOrder?: string[];
  /** The hub's time, stamped on desired writes. */
  clock: Pick<Clock, 'now'> = systemClock;

  constructor(readonly hub: FakeHub) {}

  async readSnapshot(_slots: readonly TwinSlot[], options: SnapshotReadOptions = {}): Promise<HubSnapshot> {
    this.calls.snapshots++;
    const snapshot = structuredClone(this.laggingSnapshot ?? this.hub.snapshot());
    if (this.pageOrder && options.onPage) {
      const rank = (id: string) => {
        const at = this.pageOrder!.indexOf(id);
        return at < 0 ? this.pageOrder!.length : at;
      };
      const twins = snapshot.twins.get(SECURITY_MODULE_ID);
      for (const device of [...snapshot.devices].sort((a, b) => rank(a.deviceId) - rank(b.deviceId))) {
        const twin = twins?.get(device.deviceId);
        options.onPage({ devices: [device], slot: SECURITY_MODULE_ID, twins: twin ? [twin] : [] });
      }
    }
    return snapshot;
  }

  /** The fake hub keeps only security module twins: every read is of that slot. */
  async readTwins(_slot: TwinSlot, deviceIds: readonly string[]): Promise<Map<string, ManagedTwin>> {
    this.calls.rereads++;
    this.reads.push([...deviceIds]);
    const out = new Map<string, ManagedTwin>();
    for (const id of deviceIds) {
      const twin = this.hub.modules.get(id);
      // As the hub client's GETs do: the current twin, marked so.
      if (twin) out.set(id, { ...structuredClone(twin), current: true });
    }
    return out;
  }

  async patchTwin({ slot, deviceId }: TwinRef, patch: TwinPatch, etag: string): Promise<ManagedTwin> {
    this.calls.patches++;
    this.beforePatch?.(deviceId);
    const refused = this.hub.apply([{ slot, deviceId, etag, patch, changedSettings: [] }], this.clock.now());
    if (refused.length)
      throw Object.assign(new Error(`precondition failed for ${deviceId}`), { kind: 'PreconditionFailed' });
    return structuredClone(this.hub.modules.get(deviceId)!);
  }

  async ensureModule({ deviceId }: TwinRef): Promise<'created' | 'existed'> {
    this.calls.creations++;
    if (this.hub.modules.has(deviceId)) return 'existed';
    this.hub.modules.set(deviceId, moduleTwin(deviceId, { etag: 'new' }));
    return 'created';
  }
}
