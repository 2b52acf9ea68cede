// Which devices a snapshot read in progress has completed. A twin slot of a device can be planned once its device
// record (what target conditions read) and its twin of that slot are both read. The hub promises no query order,
// so the two may come on pages far apart, in either order: the pair is complete when the later one arrives.
// A device without a twin of the slot (no such module) is never complete here: the plan of the whole read
// decides for it.
import type { SnapshotPage } from '../hub/hub-client-api.js';
import type { DeviceRecord, ManagedTwin, TwinSlot } from '../twins/types.js';

/** Devices of one slot newly complete, with their twins of it. */
export interface CompletedSlot {
  devices: DeviceRecord[];
  twins: Map<string, ManagedTwin>;
}

export class ReadCompletion {
  private readonly records = new Map<string, DeviceRecord>();
  /** Twins read before their device's record, by slot. */
  private readonly early = new Map<TwinSlot, Map<string, ManagedTwin>>();

  constructor(private readonly slots: readonly TwinSlot[]) {
    for (const slot of slots) this.early.set(slot, new Map());
  }

  /** Takes a page; returns, by slot, the devices it completes. */
  take(page: SnapshotPage): Map<TwinSlot, CompletedSlot> {
    const done = new Map<TwinSlot, CompletedSlot>();
    const complete = (slot: TwinSlot, device: DeviceRecord, twin: ManagedTwin) => {
      let part = done.get(slot);
      if (!part) {
        part = { devices: [], twins: new Map() };
        done.set(slot, part);
      }
      part.devices.push(device);
      part.twins.set(device.deviceId, twin);
    };
    // Twins first: a page may carry a device and its twin (the device twins come with the devices' query).
    const waiting = this.early.get(page.slot);
    if (waiting) {
      for (const twin of page.twins) {
        const device = this.records.get(twin.deviceId);
        if (device) complete(page.slot, device, twin);
        else waiting.set(twin.deviceId, twin);
      }
    }
    for (const device of page.devices) {
      this.records.set(device.deviceId, device);
      for (const slot of this.slots) {
        const twins = this.early.get(slot)!;
        const twin = twins.get(device.deviceId);
        if (!twin) continue;
        twins.delete(device.deviceId);
        complete(slot, device, twin);
      }
    }
    return done;
  }
}
