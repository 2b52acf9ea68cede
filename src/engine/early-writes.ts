// Writes planned while the snapshot is still read: a cold rollout's first write comes after the first pages, not
// after the whole fleet. Each device is planned, once its record and its twin of a slot are read, exactly as the
// plan of the whole read would plan it (the same planner, every resource of the slot, the same layering by
// priority, what this process remembers of its own writes standing in for a lagging query), and only writes that
// need nothing of the rest of the fleet start early:
// - no rollout can hold the device back: every resource of the slot rolls out to all its devices at once
//   (batchSize 100%, the default), and no device read so far carries one's current revision (a rollout under way:
//   its batches and its failureThreshold count devices not read yet), nor did the caller's last plan find one
//   (`underWay`): the devices a rollout reached may come late in the read, after devices it holds back;
// - the write removes nothing (a prune, a departing resource, a device no longer matched): removals wait for the
//   whole read;
// - the device is not one whose earlier write the hub may have lost (read again by GET first).
// Counts, status, Ready, module creations and everything else are decided on the whole read, as before.
import type { HubReconcileInput } from '../planner/plan-hub-reconcile.js';
import { planHubReconcile } from '../planner/plan-hub-reconcile.js';
import type { PlannedResource, TwinWrite } from '../planner/types.js';
import type { HubSnapshot, TwinPatch, TwinSlot } from '../twins/types.js';
import { FleetSnapshot } from './fleet-snapshot.js';
import type { CompletedSlot } from './read-completion.js';
import type { HubMoment, TwinMemory } from './twin-memory.js';

export type EarlyPlanInput = Omit<HubReconcileInput, 'snapshot' | 'resources' | 'now' | 'writeFailures'>;

/** Whether a rollout setting lets a resource's devices be written before the whole fleet is read. */
export function rollsOutAtOnce(resource: PlannedResource): boolean {
  if (resource.suspend) return true;
  const { batchSize } = resource.rollout;
  return typeof batchSize === 'string' && Number.parseInt(batchSize, 10) >= 100;
}

function removesSomething(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value !== 'object') return false;
  for (const v of Object.values(value as Record<string, unknown>)) if (removesSomething(v)) return true;
  return false;
}

/** Whether a patch deletes a desired property or a tag (a null sets nothing: it removes). */
export function patchRemoves(patch: TwinPatch): boolean {
  return removesSomething(patch.tags) || removesSomething(patch.properties?.desired);
}

export class EarlyWrites {
  /** Slots no longer planned early in this read (a rollout under way found). */
  private readonly closed = new Set<TwinSlot>();
  planned = 0;

  constructor(
    private readonly resources: readonly PlannedResource[],
    private readonly input: EarlyPlanInput,
    private readonly memory: TwinMemory,
    private readonly moment: () => HubMoment,
    private readonly write: (write: TwinWrite) => void,
    underWay: ReadonlySet<string> = new Set(),
  ) {
    for (const slot of new Set(resources.map((r) => r.slot)))
      if (!resources.every((r) => r.slot !== slot || (rollsOutAtOnce(r) && !underWay.has(r.key))))
        this.closed.add(slot);
  }

  /** Plans the devices of `slot` just completed, and hands on the writes that can start now. */
  plan(slot: TwinSlot, completed: CompletedSlot): void {
    if (this.closed.has(slot)) return;
    const resources = this.resources.filter((r) => r.slot === slot);
    // Slots no resource manages only have removals to plan.
    if (resources.length === 0) return;
    const read: HubSnapshot = { devices: completed.devices, twins: new Map([[slot, completed.twins]]) };
    const snapshot = new FleetSnapshot(read);
    const suspects = new Set(this.memory.overlay(snapshot, this.moment()).map((ref) => ref.deviceId));
    const plan = planHubReconcile({ ...this.input, snapshot, resources, now: this.moment().now });
    for (const resource of resources) {
      if (!resource.suspend && (plan.reports.get(resource.key)?.rollout.reached ?? 0) > 0) {
        this.closed.add(slot);
        return;
      }
    }
    for (const write of plan.writes) {
      if (suspects.has(write.deviceId) || patchRemoves(write.patch)) continue;
      this.planned++;
      this.write(write);
    }
  }
}
