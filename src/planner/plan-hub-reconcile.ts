// planHubReconcile: one hub, all the resources that point at it, one snapshot in; the twin writes to make and the
// status of every resource out. Pure: no I/O, no clock (the time is an input). Each twin slot (a module, or the
// device twin) is planned on its own: a resource manages one slot, and each twin has its own etag and record.

import { formatKubeTime } from '../api/kube-time.js';
import { isRetriedFailure } from '../api/reasons.js';
import { profileFor } from '../profiles/profiles.js';
import {
  type DeviceRecord,
  type HubSnapshot,
  type ManagedTwin,
  type TwinSlot,
  twinsOf,
} from '../twins/types.js';
import {
  type DeviceEvaluation,
  type EvaluationContext,
  evaluateDevice,
  type OwnerPolicy,
  reportedDifferences,
  reportedStateFor,
  writtenAtFor,
} from './device-evaluation.js';
import { deviceBaseState, deviceState } from './device-state.js';
import { FailureSample } from './failure-sample.js';
import type { SettingConflict } from './layering.js';
import { compileTarget, missingListedDevices } from './membership.js';
import { DEFAULT_MANAGER, type ResourceScope, readOwnership } from './ownership.js';
import {
  countState,
  emptyCounts,
  type ResourceReport,
  readiness,
  resourceConditions,
} from './resource-report.js';
import { resourceRevision } from './revision.js';
import { type RolloutProgress, rolloutProgress } from './rollout.js';
import type { DeviceFailure, PlannedResource, TwinRef, TwinWrite } from './types.js';

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
  /**
   * Resources that exist but cannot be planned (a spec the agent would reject), by key, with their priority when
   * known: nothing is written for them and the settings they own stay as they are, as if suspended.
   */
  held?: ReadonlyMap<string, number>;
  /** Whose ownership record this plan reads and writes (DEFAULT_MANAGER, `sync`, unless given). */
  manager?: string;
  /**
   * The resources of that record this plan answers for (all when undefined): entries of others are left alone, as
   * another manager's are.
   */
  scope?: ResourceScope;
  /** Twins whose last write (or module creation) the hub refused, by twinKey. */
  writeFailures?: ReadonlyMap<string, DeviceFailure>;
  /** Twins already admitted to the current rollout batch (a retry after 412), by twinKey: not gated again. */
  admitted?: ReadonlySet<string>;
}

/** The key of one twin of one device in the plan's maps. */
export function twinKey(ref: TwinRef): string {
  return `${ref.slot}/${ref.deviceId}`;
}

/** Settings owned by resources that are not among the input's resources, by owner. */
export interface ForeignOwner {
  owner: string;
  /**
   * `removed`: this plan deletes them (prune, or a departing resource with deletionPolicy Remove); `released`: the
   * values stay and ownership is dropped (deletionPolicy Retain); `kept`: they stay, owned, below every resource.
   */
  fate: 'removed' | 'released' | 'kept';
  devices: number;
  settings: string[];
}

export interface HubPlan {
  writes: TwinWrite[];
  /** Modules missing on devices that a resource creating them targets. */
  moduleCreations: TwinRef[];
  reports: Map<string, ResourceReport>;
  /** Twins of online devices yet to answer what desired holds: the ones worth re-reading while waiting. */
  unsettledTwins: TwinRef[];
  foreignOwners: ForeignOwner[];
}

interface Tally {
  resource: PlannedResource;
  report: Omit<
    ResourceReport,
    'conditions' | 'rollout' | 'failures' | 'firstRejection' | 'changingSettings' | 'ready' | 'stuck'
  >;
  failures: FailureSample;
  reached: number;
  inFlight: number;
  failing: number;
  changing: Set<string>;
}

const byDeviceId = (a: { deviceId: string }, b: { deviceId: string }) =>
  a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0;

/** The devices by id: as they are when already in order (a FleetSnapshot's are), a sorted copy otherwise. */
function inDeviceOrder(devices: readonly DeviceRecord[]): readonly DeviceRecord[] {
  for (let i = 1; i < devices.length; i++)
    if (byDeviceId(devices[i - 1], devices[i]) > 0) return [...devices].sort(byDeviceId);
  return devices;
}

/** Highest priority first; on a tie, the lowest namespace/name (the order layering decides conflicts in). */
const byPrecedence = (a: PlannedResource, b: PlannedResource) =>
  b.priority - a.priority || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

function newTally(resource: PlannedResource, revision: string): Tally {
  return {
    resource,
    report: {
      resourceKey: resource.key,
      revision,
      counts: emptyCounts(),
      suspended: resource.suspend,
      plannedWrites: 0,
      sampleDeviceIds: [],
      deferredDevices: 0,
      retryingDevices: 0,
      busyDevices: 0,
      lostConflictDevices: 0,
      managedElsewhereDevices: 0,
      outOfScopeDevices: 0,
      unanswered: profileFor(resource.convergence).unanswered(resource.convergence),
    },
    failures: new FailureSample(),
    reached: 0,
    inFlight: 0,
    failing: 0,
    changing: new Set(),
  };
}

/** The manager and resource of a winner another record holds (`manager:namespace/name`). */
function managedBy(winner: string): { manager: string; owner: string } {
  const colon = winner.indexOf(':');
  return { manager: winner.slice(0, colon), owner: winner.slice(colon + 1) };
}

/**
 * Whether a conflict was lost to an entry of this plan's own manager, of a resource out of its scope (one the same
 * manager keeps for another IoTHub): not another manager, whatever the record says.
 */
function lostOutOfScope(c: SettingConflict, manager: string): boolean {
  return c.managedElsewhere === true && managedBy(c.winner).manager === manager;
}

function conflictFailure(
  deviceId: string,
  self: string,
  conflicts: SettingConflict[],
  manager: string,
): DeviceFailure {
  const lines = conflicts.map((c) => {
    if (c.managedElsewhere) {
      const { manager: owning, owner } = managedBy(c.winner);
      const place = c.overlaps === undefined ? '' : ` (its ${c.overlaps} overlaps it in desired)`;
      if (owning === manager)
        return `${c.setting}: managed on this twin by ${owner}${place}, which the same manager '${manager}' keeps for another IoTHub (out of this one's scope; value ${JSON.stringify(c.winnerValue)}); this resource's ${JSON.stringify(c.loserValue)} is not written`;
      return `${c.setting}: managed on this twin by ${owner} of manager '${owning}'${place} (value ${JSON.stringify(c.winnerValue)}); this resource's ${JSON.stringify(c.loserValue)} is not written`;
    }
    const [other, value] = c.winner === self ? [c.loser, c.loserValue] : [c.winner, c.winnerValue];
    if (c.overlaps !== undefined) {
      const [mine, theirs] = c.winner === self ? [c.overlaps, c.setting] : [c.setting, c.overlaps];
      return `${mine}: overlaps ${theirs} in desired, which ${other} sets to ${JSON.stringify(value)} at the same priority ${c.priority}; ${c.winner} wins (lowest key)`;
    }
    return `${c.setting}: ${other} sets ${JSON.stringify(value)} at the same priority ${c.priority}; ${c.winner} wins (lowest namespace/name)`;
  });
  return { deviceId, reason: 'ConflictingSettings', message: lines.join('; ') };
}

function stalledFailure(
  evaluation: DeviceEvaluation,
  resource: PlannedResource,
  writtenAt: number | undefined,
): DeviceFailure {
  // The time of the write, not its age: a message that changes by itself would rewrite the status at every resync.
  const written = writtenAt === undefined ? '' : ` written at ${formatKubeTime(writtenAt)}`;
  const differences = reportedDifferences(evaluation, resource, 3);
  return {
    deviceId: evaluation.device.deviceId,
    reason: 'ConvergenceTimeout',
    message: `online, but ${profileFor(resource.convergence).silence(written, resource.convergence)}${differences.length ? `; ${differences.join('; ')}` : ''}`,
  };
}

/** A module the device lacks, said in the words of the resource that wants it. */
function missingModule(
  deviceId: string,
  slot: TwinSlot,
  resources: readonly PlannedResource[],
): DeviceFailure {
  return resources.some((r) => r.kind === 'SecurityModuleConfig')
    ? {
        deviceId,
        reason: 'SecurityModuleMissing',
        message: `the device has no '${slot}' module; set createMissingModules or create it`,
      }
    : {
        deviceId,
        reason: 'ModuleMissing',
        message: `the device has no module '${slot}'; set spec.twin.createModule or create it`,
      };
}

function deviceFailure(
  evaluation: DeviceEvaluation,
  slot: TwinSlot,
  input: HubReconcileInput,
  creates: boolean,
): DeviceFailure | undefined {
  const deviceId = evaluation.device.deviceId;
  const refused = input.writeFailures?.get(twinKey({ slot, deviceId }));
  if (!evaluation.twin) return creates ? refused : missingModule(deviceId, slot, evaluation.matching);
  if (evaluation.judgeErrors.length) {
    const contributors = [...new Set(evaluation.layered.owners.values())].sort().join(', ');
    return {
      deviceId,
      reason: 'InvalidMergedConfiguration',
      message: `the merged configuration (from ${contributors || 'settings others wrote'}) would be rejected by the agent, so it was not written: ${evaluation.judgeErrors.join('; ')}`,
    };
  }
  return refused;
}

class ForeignOwners {
  private readonly owners = new Map<
    string,
    { fate: ForeignOwner['fate']; devices: number; settings: Set<string> }
  >();

  add(owner: string, fate: ForeignOwner['fate'], settings: string[]): void {
    const entry = this.owners.get(owner) ?? { fate, devices: 0, settings: new Set<string>() };
    entry.devices++;
    for (const s of settings) entry.settings.add(s);
    this.owners.set(owner, entry);
  }

  list(): ForeignOwner[] {
    return [...this.owners]
      .map(([owner, e]) => ({ owner, fate: e.fate, devices: e.devices, settings: [...e.settings].sort() }))
      .sort((a, b) => (a.owner < b.owner ? -1 : 1));
  }
}

export function planHubReconcile(input: HubReconcileInput): HubPlan {
  const slots = new Set<TwinSlot>([...input.resources.map((r) => r.slot), ...input.snapshot.twins.keys()]);
  const plan: HubPlan = {
    writes: [],
    moduleCreations: [],
    reports: new Map(),
    unsettledTwins: [],
    foreignOwners: [],
  };
  for (const slot of [...slots].sort()) {
    const part = planSlot(
      input,
      slot,
      input.resources.filter((r) => r.slot === slot),
      twinsOf(input.snapshot, slot),
    );
    plan.writes.push(...part.writes);
    plan.moduleCreations.push(...part.moduleCreations);
    for (const [key, report] of part.reports) plan.reports.set(key, report);
    plan.unsettledTwins.push(...part.unsettledTwins);
    plan.foreignOwners.push(...part.foreignOwners);
  }
  return plan;
}

/** The plan of one twin slot: the resources that manage it, over the twins of that slot. */
function planSlot(
  input: HubReconcileInput,
  slot: TwinSlot,
  slotResources: readonly PlannedResource[],
  twins: ReadonlyMap<string, ManagedTwin>,
): HubPlan {
  const resources = [...slotResources].sort(byPrecedence);
  const byKey = new Map(resources.map((r) => [r.key, r]));
  const held = input.held ?? new Map<string, number>();
  const manager = input.manager ?? DEFAULT_MANAGER;
  const ownerPolicy = (key: string): OwnerPolicy => {
    const resource = byKey.get(key);
    if (resource) return resource.suspend ? 'suspended' : 'active';
    if (held.has(key)) return 'suspended';
    const departing = input.departing?.get(key);
    if (departing) return departing === 'Retain' ? 'retain' : 'remove';
    return input.unknownOwners;
  };
  const context: EvaluationContext = {
    manager,
    scope: input.scope,
    resources: byKey,
    held,
    revisions: new Map(resources.map((r) => [r.key, resourceRevision(r)])),
    ownerPolicy,
    verdicts: new Map(),
    layerings: new Map(),
    templates: new Map(),
  };
  const tallies = new Map(resources.map((r) => [r.key, newTally(r, context.revisions.get(r.key)!)]));
  const compiled = resources.map((r) => ({
    resource: r,
    matches: compileTarget(r),
    tally: tallies.get(r.key)!,
  }));
  const devices = inDeviceOrder(input.snapshot.devices);
  const foreign = new ForeignOwners();

  const candidates: DeviceEvaluation[] = [];
  const moduleCreations: TwinRef[] = [];
  const unsettledTwins: TwinRef[] = [];
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
    const twin = twins.get(device.deviceId);
    const ownership = readOwnership(twin?.tags, manager, input.scope);
    if (deviceTallies.length === 0 && ownership.owners.size === 0) continue;
    const evaluation = evaluateDevice(device, twin, active, context, ownership, matchingKey);
    const creates = active.some((r) => r.createModule);
    if (!twin && creates) moduleCreations.push({ slot, deviceId: device.deviceId });
    const failure = deviceFailure(evaluation, slot, input, creates);
    const conflicts = evaluation.layered.conflicts;
    let awaiting = false;
    for (const tally of deviceTallies) {
      const key = tally.resource.key;
      const counts = tally.report.counts;
      counts.targetedDevices++;
      if (twin && evaluation.applied) counts.appliedDevices++;
      const reported = reportedStateFor(evaluation, tally.resource);
      if (tally.resource.suspend) {
        countState(counts, reported.state === 'converged' ? 'converged' : 'pending');
        continue;
      }
      const base = deviceBaseState(evaluation, reported, failure);
      if (base === 'awaitingDevice') awaiting = true;
      const state = deviceState(base, evaluation, tally.resource, input.now);
      countState(counts, state);
      if (failure) tally.failures.add(device.deviceId, failure.reason, failure);
      const retrying = failure !== undefined && isRetriedFailure(failure.reason);
      if (retrying) tally.report.retryingDevices++;
      if (failure?.reason === 'TwinBusy') tally.report.busyDevices++;
      if (reported.state === 'rejected' && !failure)
        tally.failures.add(device.deviceId, 'DeviceRejected', {
          deviceId: device.deviceId,
          reason: 'DeviceRejected',
          message: reported.message,
        });
      if (state === 'stalled')
        tally.failures.add(device.deviceId, 'ConvergenceTimeout', () =>
          stalledFailure(evaluation, tally.resource, writtenAtFor(evaluation, tally.resource)),
        );
      if (conflicts.length) {
        const mine = conflicts.filter((c) => c.winner === key || c.loser === key);
        if (mine.length) {
          counts.conflictingDevices++;
          if (mine.some((c) => c.loser === key)) tally.report.lostConflictDevices++;
          const lostElsewhere = mine.filter((c) => c.loser === key && c.managedElsewhere);
          if (lostElsewhere.length) tally.report.managedElsewhereDevices++;
          if (lostElsewhere.length && lostElsewhere.every((c) => lostOutOfScope(c, manager)))
            tally.report.outOfScopeDevices++;
          tally.failures.add(device.deviceId, 'ConflictingSettings', () =>
            conflictFailure(device.deviceId, key, mine, manager),
          );
        }
      }
      if (ownership.revisions.get(key) === context.revisions.get(key)) {
        tally.reached++;
        if (state === 'pending' && evaluation.applied) tally.inFlight++;
        if (state === 'stalled' || state === 'rejected' || (state === 'failed' && !retrying)) tally.failing++;
      }
    }
    if (awaiting) unsettledTwins.push({ slot, deviceId: device.deviceId });
    for (const owner of new Set(evaluation.layered.owners.values())) {
      if (ownerPolicy(owner) === 'keep') {
        foreign.add(
          owner,
          'kept',
          [...evaluation.layered.owners].filter(([, o]) => o === owner).map(([s]) => s),
        );
      }
    }
    if (evaluation.patch && !failure) candidates.push(evaluation);
  }

  const known = new Set(devices.map((d) => d.deviceId));
  for (const resource of resources) {
    const tally = tallies.get(resource.key)!;
    for (const deviceId of missingListedDevices(resource, known)) {
      tally.report.counts.targetedDevices++;
      tally.report.counts.failedDevices++;
      tally.failures.add(deviceId, 'DeviceNotFound', {
        deviceId,
        reason: 'DeviceNotFound',
        message: 'the hub has no device with this id',
      });
    }
  }

  const progress = new Map<string, RolloutProgress>();
  for (const [key, tally] of tallies) {
    const { counts } = tally.report;
    progress.set(
      key,
      rolloutProgress(
        tally.resource.rollout,
        counts.targetedDevices,
        tally.reached,
        tally.inFlight,
        tally.failing,
      ),
    );
  }
  const capacity = new Map([...progress].map(([key, p]) => [key, p.capacity]));

  const writes: TwinWrite[] = [];
  for (const candidate of candidates) {
    const ref = { slot, deviceId: candidate.device.deviceId };
    const gated = input.admitted?.has(twinKey(ref)) ? [] : candidate.rolloutResources;
    let evaluation: DeviceEvaluation | undefined = candidate;
    if (gated.some((key) => (capacity.get(key) ?? 0) <= 0)) {
      for (const key of gated) tallies.get(key)!.report.deferredDevices++;
      evaluation = withoutRollouts(candidate, gated, context);
      if (!evaluation) continue;
    } else {
      for (const key of gated) capacity.set(key, capacity.get(key)! - 1);
    }
    writes.push({
      ...ref,
      etag: evaluation.twin!.etag,
      patch: evaluation.patch!,
      changedSettings: evaluation.changedSettings,
    });
    accountWrite(evaluation, evaluation === candidate ? gated : [], tallies, ownerPolicy, foreign);
  }

  const reports = new Map<string, ResourceReport>();
  for (const [key, tally] of tallies) {
    const partial = {
      ...tally.report,
      failures: tally.failures.list(),
      firstRejection: tally.failures.first('DeviceRejected'),
      changingSettings: [...tally.changing].sort(),
      rollout: progress.get(key)!,
    };
    const conditions = resourceConditions(partial, String(tally.resource.rollout.failureThreshold));
    reports.set(key, { ...partial, conditions, ...readiness(partial, conditions) });
  }
  return { writes, moduleCreations, reports, unsettledTwins, foreignOwners: foreign.list() };
}

/**
 * A device held back by a rollout still gets what does not wait for one (removals, changes of resources that
 * roll out nothing new): the device planned as if the held-back resources were suspended on it.
 */
function withoutRollouts(
  evaluation: DeviceEvaluation,
  held: string[],
  context: EvaluationContext,
): DeviceEvaluation | undefined {
  const heldSet = new Set(held);
  const partial = evaluateDevice(
    evaluation.device,
    evaluation.twin,
    evaluation.matching.filter((r) => !heldSet.has(r.key)),
    // No matching key: this device's layering and plan are its own, never taken from or put in the shared caches.
    { ...context, ownerPolicy: (key) => (heldSet.has(key) ? 'suspended' : context.ownerPolicy(key)) },
    evaluation.ownership,
  );
  if (!partial.patch || partial.judgeErrors.length || partial.changedSettings.length === 0) return undefined;
  return partial;
}

/** Counts a write for the resources it acts for: those whose settings it sets or removes, and those it rolls out. */
function accountWrite(
  evaluation: DeviceEvaluation,
  rolledOut: string[],
  tallies: Map<string, Tally>,
  ownerPolicy: (key: string) => OwnerPolicy,
  foreign: ForeignOwners,
): void {
  const current = evaluation.ownership.owners;
  const touched = new Map<string, string[]>();
  for (const setting of evaluation.changedSettings) {
    for (const owner of [evaluation.layered.owners.get(setting), current.get(setting)]) {
      if (owner === undefined) continue;
      const settings = touched.get(owner) ?? [];
      if (!settings.includes(setting)) settings.push(setting);
      touched.set(owner, settings);
    }
  }
  for (const key of rolledOut) if (!touched.has(key)) touched.set(key, []);
  for (const [key, settings] of touched) {
    const tally = tallies.get(key);
    if (!tally) {
      const policy = ownerPolicy(key);
      if (policy === 'remove') foreign.add(key, 'removed', settings);
      if (policy === 'retain') foreign.add(key, 'released', settings);
      continue;
    }
    tally.report.plannedWrites++;
    for (const s of settings) tally.changing.add(s);
    if (tally.report.sampleDeviceIds.length < 5)
      tally.report.sampleDeviceIds.push(evaluation.device.deviceId);
  }
}
