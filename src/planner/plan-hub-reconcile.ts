// planHubReconcile: one hub, all the SecurityModuleConfigs that point at it, one snapshot in; the twin writes
// to make and the status of every resource out. Pure: no I/O, no clock (the time is an input).

import { type DeviceEvaluation, evaluateDevice, type OwnerPolicy } from './device-evaluation.js';
import { deviceBaseState, deviceState } from './device-state.js';
import { compareContributions, type SettingConflict } from './layering.js';
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

function recordFailure(tally: Tally, failure: DeviceFailure): void {
  if (tally.failures.length < MAX_REPORTED_FAILURES) tally.failures.push(failure);
}

function conflictFailure(deviceId: string, self: string, conflicts: SettingConflict[]): DeviceFailure {
  const lines = conflicts.map((c) => {
    const [other, value] = c.winner === self ? [c.loser, c.loserValue] : [c.winner, c.winnerValue];
    return `${c.setting}: ${other} sets ${JSON.stringify(value)} at the same priority ${c.priority}; ${c.winner} wins (lowest namespace/name)`;
  });
  return { deviceId, reason: 'ConflictingSettings', message: lines.join('; ') };
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
  const context = {
    resources: byKey,
    revisions,
    ownerPolicy,
    verdicts: new Map(),
    layerings: new Map(),
    templates: new Map(),
  };
  const tallies = new Map(resources.map((r) => [r.key, newTally(r)]));
  const devices = [...input.snapshot.devices].sort((a, b) =>
    a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0,
  );
  const compiled = resources.map((r) => ({
    resource: r,
    matches: matchers.get(r.key)!,
    tally: tallies.get(r.key)!,
  }));

  const candidates: DeviceEvaluation[] = [];
  const moduleCreations: string[] = [];
  const unsettledDevices: string[] = [];
  for (const device of devices) {
    const deviceTallies: Tally[] = [];
    const active: PlannedResource[] = [];
    let matchingKey = '';
    for (let i = 0; i < compiled.length; i++) {
      const { resource, matches, tally } = compiled[i];
      if (!matches(device)) continue;
      deviceTallies.push(tally);
      if (!resource.suspend) {
        active.push(resource);
        matchingKey += `${i},`;
      }
    }
    const module = input.snapshot.modules.get(device.deviceId);
    const ownership = readOwnership(module?.tags);
    if (deviceTallies.length === 0 && ownership.owners.size === 0) continue;
    const evaluation = evaluateDevice(device, module, active, context, ownership, matchingKey);
    const creates = active.some((r) => r.createMissingModules);
    if (!module && creates) moduleCreations.push(device.deviceId);
    const failure = deviceFailure(evaluation, input, creates);
    const conflicts = evaluation.layered.conflicts;
    let unsettled = false;
    const base = deviceBaseState(evaluation, failure);
    for (const tally of deviceTallies) {
      const key = tally.resource.key;
      const state = tally.resource.suspend
        ? evaluation.converged
          ? 'converged'
          : 'pending'
        : deviceState(base, evaluation, tally.resource, input.now);
      const counts = tally.report.counts;
      counts.targetedDevices++;
      if (module && evaluation.applied) counts.appliedDevices++;
      countState(counts, state);
      if (state === 'pending' || state === 'stalled') unsettled = true;
      // Devices come in id order, so the first failures recorded are the first by device id.
      if (failure) recordFailure(tally, failure);
      if (conflicts.length) {
        const mine = conflicts.filter((c) => c.winner === key || c.loser === key);
        if (mine.length) {
          counts.conflictingDevices++;
          if (tally.failures.length < MAX_REPORTED_FAILURES)
            recordFailure(tally, conflictFailure(device.deviceId, key, mine));
        }
      }
      if (ownership.revisions.get(key) === revisions.get(key)) {
        tally.reached++;
        if (state === 'pending' && evaluation.applied) tally.inFlight++;
        if (state === 'stalled' || state === 'failed') tally.failing++;
      }
    }
    if (unsettled && module) unsettledDevices.push(device.deviceId);
    if (evaluation.patch && !failure) candidates.push(evaluation);
  }

  const known = new Set(devices.map((d) => d.deviceId));
  for (const resource of resources) {
    const tally = tallies.get(resource.key)!;
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
  for (const evaluation of candidates) {
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
    const current = evaluation.ownership.owners;
    // The resources this write acts for: those whose settings it sets or removes, and those it rolls out.
    const touched = new Map<string, string[]>();
    for (const setting of evaluation.changedSettings) {
      for (const owner of [evaluation.layered.owners.get(setting), current.get(setting)]) {
        if (owner === undefined) continue;
        const settings = touched.get(owner) ?? [];
        if (!settings.includes(setting)) settings.push(setting);
        touched.set(owner, settings);
      }
    }
    for (const key of gated) if (!touched.has(key)) touched.set(key, []);
    for (const [key, settings] of touched) {
      const tally = tallies.get(key);
      if (!tally) continue;
      tally.report.plannedWrites++;
      for (const s of settings) tally.changing.add(s);
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
