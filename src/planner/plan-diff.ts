// What a plan changes, as a person reviews it (as `terraform plan` or `kubectl diff` show it): per resource and
// setting, the value desired holds on the hub now and the one the write brings, with device counts. Pure: the plan
// and the snapshot it was made from in, plain data out (the `plan` of sync's JSON, which the text and markdown
// views render). Its size is bounded by resources, settings and distinct transitions, never by devices: device
// ids are a sample.
import { profileOf } from '../profiles/profiles.js';
import { mergeDesired } from './desired-merge.js';
import { compileTarget, type DeviceMatcher } from './membership.js';
import {
  DEFAULT_MANAGER,
  type Ownership,
  type ResourceScope,
  readOwnership,
  readOwnershipAfter,
} from './ownership.js';
import type { ForeignOwner, HubPlan } from './plan-hub-reconcile.js';
import type { DeviceFailure, HubSnapshot, PlannedResource, TwinWrite } from './types.js';

/** Device ids listed per transition and per resource. */
export const PLAN_SAMPLE_SIZE = 5;
/** Transitions listed per resource and setting (most devices first); the rest are counted. */
export const MAX_TRANSITIONS = 20;
/** Failures listed per resource (its status has the first 20). */
const MAX_FAILURES = 3;

export interface SettingTransition {
  /** What desired holds now; null: not set. */
  from: unknown;
  /** What the write leaves; null: removed (the agent's own default applies). */
  to: unknown;
  devices: number;
  sampleDeviceIds: string[];
  /** The resource that owned `from`, when another: this resource takes the setting over from it. */
  takenOverFrom?: string;
  /** The resource that owns `to`, when another: it takes the setting over from this resource. */
  takenOverBy?: string;
}

export interface SettingChange {
  /** The twin key. */
  setting: string;
  /** Where the setting lives under spec.agentConfiguration. */
  field: string;
  devices: number;
  /** Most devices first; at most MAX_TRANSITIONS. */
  transitions: SettingTransition[];
  /** Transitions beyond those listed, and their devices. */
  moreTransitions?: { transitions: number; devices: number };
}

export interface ResourceChange {
  /** `namespace/name`. */
  resource: string;
  /** In the files, or only in the twins' ownership records (gone from the files). */
  source: 'files' | 'notInFiles';
  /** For a resource gone from the files: what this plan does with its settings (see ForeignOwner). */
  fate?: ForeignOwner['fate'];
  priority?: number;
  suspended?: boolean;
  targetedDevices?: number;
  /**
   * Twins written for this resource: setting changes it causes (each change is listed under one resource), or
   * changes of its entries in the ownership record alone.
   */
  devicesToWrite: number;
  sampleDeviceIds: string[];
  /** Of those, writes that change only the ownership record (who owns what, the revision applied). */
  ownershipOnlyDevices: number;
  /** Devices that need a write but wait for a later rollout batch of `rolloutBatchSize`. */
  deferredDevices: number;
  rolloutBatchSize?: number | string;
  /** Devices not written: failed (a merge the agent would reject, no module, unknown id...) or lost conflicts. */
  failedDevices: number;
  conflictingDevices: number;
  firstFailures: DeviceFailure[];
  settings: SettingChange[];
}

export interface PlanDiff {
  /** Anything to write, a module to create, or devices waiting for a rollout batch: what a sync would change. */
  changes: boolean;
  summary: {
    devicesToWrite: number;
    /** Settings changed, summed over devices. */
    settingChanges: number;
    resourcesChanging: number;
    modulesToCreate: number;
    deferredDevices: number;
  };
  /** In the files by precedence (highest priority first), then those gone from the files by name. */
  resources: ResourceChange[];
  moduleCreations: { devices: number; sampleDeviceIds: string[] };
}

export interface PlanDiffInput {
  plan: HubPlan;
  /** The snapshot the plan was made from (before any write). */
  snapshot: HubSnapshot;
  resources: readonly PlannedResource[];
  /** The manager and scope the plan was made for: they say whose ownership record the writes change. */
  manager?: string;
  scope?: ResourceScope;
}

/** Whether a sync of this plan would change the hub. */
export function hasChanges(plan: HubPlan): boolean {
  if (plan.writes.length > 0 || plan.moduleCreations.length > 0) return true;
  return [...plan.reports.values()].some((r) => r.deferredDevices > 0);
}

function sample(ids: string[], deviceId: string): void {
  if (ids.length < PLAN_SAMPLE_SIZE) ids.push(deviceId);
}

interface ResourceTally {
  devices: number;
  sampleDeviceIds: string[];
  ownershipOnly: number;
  /** By setting, by transition key. */
  settings: Map<string, Map<string, SettingTransition>>;
}

class Tallies {
  readonly byResource = new Map<string, ResourceTally>();

  get(resource: string): ResourceTally {
    let tally = this.byResource.get(resource);
    if (!tally) {
      tally = { devices: 0, sampleDeviceIds: [], ownershipOnly: 0, settings: new Map() };
      this.byResource.set(resource, tally);
    }
    return tally;
  }

  transition(
    resource: string,
    setting: string,
    deviceId: string,
    base: Omit<SettingTransition, 'devices' | 'sampleDeviceIds'>,
  ): void {
    const bySetting = this.get(resource).settings;
    let transitions = bySetting.get(setting);
    if (!transitions) {
      transitions = new Map();
      bySetting.set(setting, transitions);
    }
    const key = JSON.stringify([base.from, base.to, base.takenOverFrom ?? null, base.takenOverBy ?? null]);
    let entry = transitions.get(key);
    if (!entry) {
      entry = { ...base, devices: 0, sampleDeviceIds: [] };
      transitions.set(key, entry);
    }
    entry.devices++;
    sample(entry.sampleDeviceIds, deviceId);
  }
}

/** Resources whose entries in the record differ: revisions recorded or dropped, settings claimed or released. */
function recordChanges(before: Ownership, after: Ownership): Set<string> {
  const changed = new Set<string>();
  for (const key of new Set([...before.revisions.keys(), ...after.revisions.keys()]))
    if (before.revisions.get(key) !== after.revisions.get(key)) changed.add(key);
  for (const setting of new Set([...before.owners.keys(), ...after.owners.keys()])) {
    const [was, now] = [before.owners.get(setting), after.owners.get(setting)];
    if (was === now) continue;
    if (was !== undefined) changed.add(was);
    if (now !== undefined) changed.add(now);
  }
  return changed;
}

/**
 * Whether `owner` still sets `setting` on the device after this plan: a resource of the files that targets it and
 * names the setting, or a suspended one (its settings stay as they are).
 */
type StillSets = (owner: string, setting: string, deviceId: string) => boolean;

function stillSetsFor(input: PlanDiffInput): StillSets {
  const byKey = new Map(input.resources.map((r) => [r.key, r]));
  const matchers = new Map<string, DeviceMatcher>();
  const devices = new Map(input.snapshot.devices.map((d) => [d.deviceId, d]));
  return (owner, setting, deviceId) => {
    const resource = byKey.get(owner);
    if (!resource) return false;
    if (resource.suspend) return true;
    if (resource.settings[setting] === undefined) return false;
    let matches = matchers.get(owner);
    if (!matches) {
      matches = compileTarget(resource);
      matchers.set(owner, matches);
    }
    const device = devices.get(deviceId);
    return device !== undefined && matches(device);
  };
}

/**
 * Each setting's change is listed once, under the resource that causes it: the one that now sets it, unless the
 * previous owner is the one leaving (gone from the files, retargeted, or no longer naming the setting), when
 * the next layer only fills in.
 */
function tallyWrite(
  write: TwinWrite,
  input: PlanDiffInput,
  manager: string,
  stillSets: StillSets,
  tallies: Tallies,
): void {
  const twin = input.snapshot.twins.get(write.slot)?.get(write.deviceId);
  const before = readOwnership(twin?.tags, manager, input.scope);
  const after = write.patch.tags
    ? readOwnershipAfter(twin?.tags, write.patch.tags, manager, input.scope)
    : before;
  const touched = write.changedSettings.length ? new Set<string>() : recordChanges(before, after);
  const desiredAfter = mergeDesired(twin?.desired ?? {}, write.patch.properties?.desired ?? {});
  for (const setting of write.changedSettings) {
    const profile = profileOf(setting);
    const from = profile.read(twin?.desired, setting) ?? null;
    const to = profile.read(desiredAfter, setting) ?? null;
    const [was, now] = [before.owners.get(setting), after.owners.get(setting)];
    const handOver = was !== undefined && now !== undefined && was !== now;
    const leaving = was !== undefined && was !== now && !stillSets(was, setting, write.deviceId);
    const cause = leaving ? was : (now ?? was);
    if (cause === undefined) continue;
    touched.add(cause);
    tallies.transition(cause, setting, write.deviceId, {
      from,
      to,
      ...(handOver && cause === now ? { takenOverFrom: was } : {}),
      ...(handOver && cause === was ? { takenOverBy: now } : {}),
    });
  }
  for (const resource of touched) {
    const tally = tallies.get(resource);
    tally.devices++;
    sample(tally.sampleDeviceIds, write.deviceId);
    if (write.changedSettings.length === 0) tally.ownershipOnly++;
  }
}

function settingChanges(bySetting: Map<string, Map<string, SettingTransition>>): SettingChange[] {
  const changes: SettingChange[] = [];
  for (const [setting, transitions] of bySetting) {
    const sorted = [...transitions.values()].sort(
      (a, b) => b.devices - a.devices || (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1),
    );
    const listed = sorted.slice(0, MAX_TRANSITIONS);
    const rest = sorted.slice(MAX_TRANSITIONS);
    changes.push({
      setting,
      field: profileOf(setting).describe(setting),
      devices: sorted.reduce((sum, t) => sum + t.devices, 0),
      transitions: listed,
      ...(rest.length
        ? {
            moreTransitions: {
              transitions: rest.length,
              devices: rest.reduce((sum, t) => sum + t.devices, 0),
            },
          }
        : {}),
    });
  }
  return changes.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
}

export function planDiff(input: PlanDiffInput): PlanDiff {
  const { plan } = input;
  const manager = input.manager ?? DEFAULT_MANAGER;
  const tallies = new Tallies();
  const stillSets = stillSetsFor(input);
  let settingCount = 0;
  for (const write of plan.writes) {
    tallyWrite(write, input, manager, stillSets, tallies);
    settingCount += write.changedSettings.length;
  }
  const priorities = new Map(input.resources.map((r) => [r.key, r.priority]));
  const resources: ResourceChange[] = [];
  for (const report of plan.reports.values()) {
    const tally = tallies.get(report.resourceKey);
    resources.push({
      resource: report.resourceKey,
      source: 'files',
      priority: priorities.get(report.resourceKey),
      suspended: report.suspended,
      targetedDevices: report.counts.targetedDevices,
      devicesToWrite: tally.devices,
      sampleDeviceIds: tally.sampleDeviceIds,
      ownershipOnlyDevices: tally.ownershipOnly,
      deferredDevices: report.deferredDevices,
      rolloutBatchSize: report.rollout.batchSize,
      failedDevices: report.counts.failedDevices,
      conflictingDevices: report.counts.conflictingDevices,
      firstFailures: report.failures.slice(0, MAX_FAILURES),
      settings: settingChanges(tally.settings),
    });
  }
  const fates = new Map(plan.foreignOwners.map((f) => [f.owner, f.fate]));
  const gone = [...new Set([...fates.keys(), ...tallies.byResource.keys()])]
    .filter((key) => !plan.reports.has(key))
    .sort();
  for (const key of gone) {
    const tally = tallies.get(key);
    const fate = fates.get(key);
    resources.push({
      resource: key,
      source: 'notInFiles',
      ...(fate ? { fate } : {}),
      devicesToWrite: tally.devices,
      sampleDeviceIds: tally.sampleDeviceIds,
      ownershipOnlyDevices: tally.ownershipOnly,
      deferredDevices: 0,
      failedDevices: 0,
      conflictingDevices: 0,
      firstFailures: [],
      settings: settingChanges(tally.settings),
    });
  }
  const deferred = resources.reduce((sum, r) => sum + r.deferredDevices, 0);
  return {
    changes: hasChanges(plan),
    summary: {
      devicesToWrite: plan.writes.length,
      settingChanges: settingCount,
      resourcesChanging: resources.filter((r) => r.devicesToWrite > 0 || r.deferredDevices > 0).length,
      modulesToCreate: plan.moduleCreations.length,
      deferredDevices: deferred,
    },
    resources,
    moduleCreations: {
      devices: plan.moduleCreations.length,
      sampleDeviceIds: plan.moduleCreations.slice(0, PLAN_SAMPLE_SIZE).map((m) => m.deviceId),
    },
  };
}
