// planHubReconcile: one hub, all the SecurityModuleConfigs that point at it, one snapshot in; the twin writes
// to make and the status of every resource out. Pure: no I/O, no clock (the time is an input).

import { type DeviceEvaluation, evaluateDevice, type OwnerPolicy } from './device-evaluation.js';
import { deviceState } from './device-state.js';
import { compareContributions } from './layering.js';
import { compileTarget, type DeviceMatcher, missingListedDevices } from './membership.js';
import { readOwnership } from './ownership.js';
import {
  countState,
  emptyCounts,
  MAX_REPORTED_FAILURES,
  type ResourceReport,
  resourceConditions,
} from './resource-report.js';
import { resourceRevision } from './revision.js';
import { type RolloutProgress, rolloutProgress } from './rollout.js';
import type { DeviceFailure, HubSnapshot, PlannedResource, TwinWrite } from './types.js';

export interface HubReconcileInput {
  snapshot: HubSnapshot;
  /** Every resource that targets this hub, suspended ones included. */
  resources: readonly PlannedResource[];
  /** Epoch milliseconds. */
  now: number;
  /** Owners recorded in twins that are not among `resources`: leave their settings, or remove them (prune). */
  unknownOwners: 'keep' | 'remove';
  /** Resources being deleted, with their deletion policy. */
  departing?: ReadonlyMap<string, 'Remove' | 'Retain'>;
  /** Devices whose last write the hub refused, by device id. */
  writeFailures?: ReadonlyMap<string, DeviceFailure>;
  /** Devices already admitted to the current rollout batch (a retry after 412): not gated again. */
  admitted?: ReadonlySet<string>;
}

export interface HubPlan {
  writes: TwinWrite[];
  /** Devices that lack the security module and are targeted by a resource that creates it. */
  moduleCreations: string[];
  reports: Map<string, ResourceReport>;
  /** Devices some resource counts as pending or stalled: the ones worth re-reading while waiting. */
  unsettledDevices: string[];
}

interface Tally {
  resource: PlannedResource;
  report: Omit<ResourceReport, 'conditions' | 'rollout'>;
  failures: DeviceFailure[];
  reached: number;
  inFlight: number;
  failing: number;
  changing: Set<string>;
}

function newTally(resource: PlannedResource): Tally {
  return {
    resource,
    report: {
      resourceKey: resource.key,
      counts: emptyCounts(),
      failures: [],
      suspended: resource.suspend,
      plannedWrites: 0,
      changingSettings: [],
      sampleDeviceIds: [],
      deferredDevices: 0,
    },
    failures: [],
    reached: 0,
    inFlight: 0,
    failing: 0,
    changing: new Set(),
  };
}

function deviceFailure(
  evaluation: DeviceEvaluation,
  input: HubReconcileInput,
  creates: boolean,
): DeviceFailure | undefined {
  const deviceId = evaluation.device.deviceId;
  if (!evaluation.module) {
    if (creates) return undefined;
    return {
      deviceId,
      reason: 'SecurityModuleMissing',
      message: "the device has no 'azureiotsecurity' module; set createMissingModules or create it",
    };
  }
  if (evaluation.agentErrors.length) {
    const contributors = [...new Set(evaluation.layered.owners.values())].sort().join(', ');
    return {
      deviceId,
      reason: 'InvalidMergedConfiguration',
      message: `the merged configuration (from ${contributors}) would be rejected by the agent, so it was not written: ${evaluation.agentErrors.map((e) => e.message).join('; ')}`,
    };
  }
  return input.writeFailures?.get(deviceId);
}

export function planHubReconcile(input: HubReconcileInput): HubPlan {
  const resources = [...input.resources].sort((a, b) =>
    compareContributions(
      { resourceKey: a.key, priority: a.priority, settings: {} },
      { resourceKey: b.key, priority: b.priority, settings: {} },
    ),
  );
  const byKey = new Map(resources.map((r) => [r.key, r]));
  const revisions = new Map(resources.map((r) => [r.key, resourceRevision(r)]));
  const matchers = new Map<string, DeviceMatcher>(resources.map((r) => [r.key, compileTarget(r)]));
  const ownerPolicy = (key: string): OwnerPolicy => {
    const resource = byKey.get(key);
    if (resource) return resource.suspend ? 'suspended' : 'active';
    const departing = input.departing?.get(key);
    if (departing) return departing === 'Retain' ? 'retain' : 'remove';
    return input.unknownOwners;
  };
  const context = { resources: byKey, revisions, ownerPolicy };
  const tallies = new Map(resources.map((r) => [r.key, newTally(r)]));
  const devices = [...input.snapshot.devices].sort((a, b) =>
    a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0,
  );

  const candidates: { evaluation: DeviceEvaluation; tallies: Tally[] }[] = [];
  const moduleCreations: string[] = [];
  const unsettledDevices: string[] = [];
  for (const device of devices) {
    const matchingAll = resources.filter((r) => matchers.get(r.key)!(device));
    const module = input.snapshot.modules.get(device.deviceId);
    const active = matchingAll.filter((r) => !r.suspend);
    if (
      active.length === 0 &&
      matchingAll.length === 0 &&
      (!module || readOwnership(module.tags).owners.size === 0)
    )
      continue;
    const evaluation = evaluateDevice(device, module, active, context);
    const creates = active.some((r) => r.createMissingModules);
    if (!module && creates) moduleCreations.push(device.deviceId);
    const failure = deviceFailure(evaluation, input, creates);
    const recorded = readOwnership(module?.tags).revisions;
    const deviceTallies = matchingAll.map((r) => tallies.get(r.key)!);
    const conflicted = new Map<string, string[]>();
    for (const conflict of evaluation.layered.conflicts) {
      for (const [self, other] of [
        [conflict.winner, conflict.loser],
        [conflict.loser, conflict.winner],
      ]) {
        const lines = conflicted.get(self) ?? [];
        lines.push(
          `${conflict.setting}: ${other} sets ${JSON.stringify(other === conflict.winner ? conflict.winnerValue : conflict.loserValue)} at the same priority ${conflict.priority}; ${conflict.winner} wins (lowest namespace/name)`,
        );
        conflicted.set(self, lines);
      }
    }
    let unsettled = false;
    for (const tally of deviceTallies) {
      const state = tally.resource.suspend
        ? evaluation.converged
          ? 'converged'
          : 'pending'
        : deviceState(evaluation, tally.resource, failure, input.now);
      const counts = tally.report.counts;
      counts.targetedDevices++;
      if (evaluation.module && evaluation.applied) counts.appliedDevices++;
      countState(counts, state);
      if (state === 'pending' || state === 'stalled') unsettled = true;
      if (failure) tally.failures.push(failure);
      const conflicts = conflicted.get(tally.resource.key);
      if (conflicts) {
        counts.conflictingDevices++;
        tally.failures.push({
          deviceId: device.deviceId,
          reason: 'ConflictingSettings',
          message: conflicts.join('; '),
        });
      }
      if (recorded.get(tally.resource.key) === revisions.get(tally.resource.key)) {
        tally.reached++;
        if (state === 'pending' && evaluation.applied) tally.inFlight++;
        if (state === 'stalled' || state === 'failed') tally.failing++;
      }
    }
    if (unsettled && evaluation.module) unsettledDevices.push(device.deviceId);
    if (evaluation.patch && !failure) candidates.push({ evaluation, tallies: deviceTallies });
  }

  for (const resource of resources) {
    const tally = tallies.get(resource.key)!;
    const known = new Set(devices.map((d) => d.deviceId));
    for (const deviceId of missingListedDevices(resource, known)) {
      tally.report.counts.targetedDevices++;
      tally.report.counts.failedDevices++;
      tally.failures.push({
        deviceId,
        reason: 'DeviceNotFound',
        message: 'the hub has no device with this id',
      });
    }
  }

  const progress = new Map<string, RolloutProgress>();
  for (const [key, tally] of tallies) {
    progress.set(
      key,
      rolloutProgress(
        tally.resource.rollout,
        tally.report.counts.targetedDevices,
        tally.reached,
        tally.inFlight,
        tally.failing,
      ),
    );
  }
  const capacity = new Map([...progress].map(([key, p]) => [key, p.capacity]));

  const writes: TwinWrite[] = [];
  for (const { evaluation, tallies: deviceTallies } of candidates) {
    const gated = input.admitted?.has(evaluation.device.deviceId) ? [] : evaluation.rolloutResources;
    if (gated.some((key) => (capacity.get(key) ?? 0) <= 0)) {
      for (const key of gated) tallies.get(key)!.report.deferredDevices++;
      continue;
    }
    for (const key of gated) capacity.set(key, capacity.get(key)! - 1);
    const module = evaluation.module!;
    writes.push({
      deviceId: module.deviceId,
      etag: module.etag,
      patch: evaluation.patch!,
      changedSettings: evaluation.changedSettings,
    });
    const current = readOwnership(module.tags).owners;
    for (const tally of deviceTallies) {
      const touches = evaluation.changedSettings.filter(
        (s) =>
          evaluation.layered.owners.get(s) === tally.resource.key || current.get(s) === tally.resource.key,
      );
      if (touches.length === 0 && !gated.includes(tally.resource.key)) continue;
      tally.report.plannedWrites++;
      for (const s of touches) tally.changing.add(s);
      if (tally.report.sampleDeviceIds.length < 5) tally.report.sampleDeviceIds.push(module.deviceId);
    }
  }

  const reports = new Map<string, ResourceReport>();
  for (const [key, tally] of tallies) {
    const failures = tally.failures
      .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0))
      .slice(0, MAX_REPORTED_FAILURES);
    const partial = {
      ...tally.report,
      failures,
      changingSettings: [...tally.changing].sort(),
      rollout: progress.get(key)!,
    };
    reports.set(key, {
      ...partial,
      conditions: resourceConditions(partial, String(tally.resource.rollout.failureThreshold)),
    });
  }
  return { writes, moduleCreations, reports, unsettledDevices };
}
