// The one owner of a hub's snapshot between full reads. A session plans many steps from one read, and what it
// learns between them (twins re-read, the answers to its writes, the twins a lagging query stands for, devices
// back online) is put in here, through the named operations below, never by changing the read's maps in place:
// the rules of what may replace what are in this file.
import type { DeviceRecord, HubSnapshot, ManagedTwin, TwinRef, TwinSlot } from '../twins/types.js';

export class FleetSnapshot implements HubSnapshot {
  readonly devices: readonly DeviceRecord[];
  private readonly slots = new Map<TwinSlot, Map<string, ManagedTwin>>();

  /** Takes over a read of the hub: the caller keeps no reference to change it by. */
  constructor(read: HubSnapshot) {
    // In the order the planner walks them, once per read rather than at every plan.
    this.devices = [...read.devices].sort((a, b) =>
      a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0,
    );
    for (const [slot, twins] of read.twins) this.slots.set(slot, new Map(twins));
  }

  get twins(): ReadonlyMap<TwinSlot, ReadonlyMap<string, ManagedTwin>> {
    return this.slots;
  }

  /** Whether the slot's twins were read (a twin of a slot not read is neither present nor absent). */
  hasSlot(slot: TwinSlot): boolean {
    return this.slots.has(slot);
  }

  private slot(slot: TwinSlot): Map<string, ManagedTwin> {
    let twins = this.slots.get(slot);
    if (!twins) {
      twins = new Map();
      this.slots.set(slot, twins);
    }
    return twins;
  }

  /** Twins read again (by query or GET) since the snapshot: they replace what it holds of those devices. */
  replaceTwins(slot: TwinSlot, fresh: ReadonlyMap<string, ManagedTwin>): void {
    const twins = this.slot(slot);
    for (const [deviceId, twin] of fresh) twins.set(deviceId, twin);
  }

  /**
   * Twins read by GET, which never lags: a device asked for without one lacks the module now. Returns those
   * devices, so that nothing remembered of them stands in.
   */
  takeFresh(slot: TwinSlot, deviceIds: readonly string[], fresh: ReadonlyMap<string, ManagedTwin>): string[] {
    const twins = this.slot(slot);
    const missing: string[] = [];
    for (const deviceId of deviceIds) {
      const twin = fresh.get(deviceId);
      if (twin) twins.set(deviceId, twin);
      else {
        twins.delete(deviceId);
        missing.push(deviceId);
      }
    }
    return missing;
  }

  /** The hub's answer to a write: its current twin, as a GET is. Returns the twin as the snapshot now holds it. */
  applyWriteAnswer(ref: TwinRef, twin: ManagedTwin): ManagedTwin {
    const answer = { ...twin, reportedMayBeStale: false, current: true };
    this.slot(ref.slot).set(ref.deviceId, answer);
    return answer;
  }

  /**
   * Twins read back while writes go on (a query may lag the write): each replaces the snapshot's only when it is
   * at least as new as the write (`writtenVersion`, the twin's version the write's answer had).
   */
  takeCheck(
    slot: TwinSlot,
    fresh: ReadonlyMap<string, ManagedTwin>,
    written: readonly { deviceId: string; version?: number }[],
  ): void {
    const twins = this.slot(slot);
    for (const { deviceId, version } of written) {
      const twin = fresh.get(deviceId);
      if (twin && (version === undefined || (twin.version ?? 0) >= version)) twins.set(deviceId, twin);
    }
  }

  /** What this process wrote stands in for a twin that a lagging read shows older (see twin-memory.ts). */
  standIn(ref: TwinRef, twin: ManagedTwin): void {
    this.slot(ref.slot).set(ref.deviceId, twin);
  }

  /** The device was seen coming back online at `since` (epoch ms): its convergence timeout runs from then. */
  markOnlineSince(device: DeviceRecord, since: number): void {
    (device as { onlineSince?: number }).onlineSince = since;
  }
}
