// One twin of one device against the resources that target it: the layered settings, whether the device would
// accept the result, the patch that would bring desired there without touching what the operator does not own,
// and how each resource stands on it. What is specific to a kind of setting (where it sits, how values compare,
// how the device answers) comes from its profile (src/profiles/).
import { profileFor, profileOf } from '../profiles/profiles.js';
import type { ReportedState } from '../profiles/twin-profile.js';
import type { DeviceRecord, ManagedTwin, TwinPatch } from '../twins/types.js';
import { mergeDesired } from './desired-merge.js';
import {
  type Contribution,
  compareContributions,
  type LayeredSettings,
  layerSettings,
  type Settings,
  yieldToOtherManagers,
} from './layering.js';
import { type Ownership, ownershipTagsPatch, type ResourceScope, readOwnership } from './ownership.js';
import type { PlannedResource } from './types.js';

/**
 * What happens to settings owned by a resource that is not active: `suspended` freezes them as they are, at the
 * resource's priority; `keep` (an owner we do not know, without --prune) keeps them below every active
 * resource, so they only fill settings nobody else sets; `remove` deletes them; `retain` leaves the values and
 * drops ownership.
 */
export type OwnerPolicy = 'active' | 'suspended' | 'keep' | 'remove' | 'retain';

export interface DeviceEvaluation {
  device: DeviceRecord;
  /** The twin the resources manage; undefined when the device lacks that module. */
  twin?: ManagedTwin;
  /** The ownership record the twin carries now. */
  ownership: Ownership;
  /** Active resources whose target matches the device, by priority. */
  matching: PlannedResource[];
  layered: LayeredSettings;
  /** What the device would refuse in its desired properties after the write (its rules across settings). */
  judgeErrors: string[];
  /** Desired already carries the layered settings. */
  applied: boolean;
  /** The patch that would bring the twin to the plan; undefined when the twin is as planned. */
  patch?: TwinPatch;
  changedSettings: string[];
  /** Active resources whose current revision this write would newly bring to the device. */
  rolloutResources: string[];
}

export interface EvaluationContext {
  /** The manager this plan is made for: its ownership record is the one read and written. */
  manager: string;
  /** The resources of that record this plan answers for (all when undefined). */
  scope?: ResourceScope;
  resources: ReadonlyMap<string, PlannedResource>;
  /** Resources that exist but cannot be planned (an invalid spec): their settings stay as they are, by priority. */
  held: ReadonlyMap<string, number>;
  revisions: ReadonlyMap<string, string>;
  ownerPolicy: (resourceKey: string) => OwnerPolicy;
  /** Verdicts of the profiles' judges by content: devices of one fleet share a handful of configurations. */
  verdicts: Map<string, string[]>;
  /** Layerings by set of matching resources, for devices with no frozen settings (most of them). */
  layerings: Map<string, LayeredSettings>;
  /** Twin plans shared by twins with no ownership record yet, the same layering and the same desired. */
  templates: Map<string, TwinPlan>;
}

/** Below every resource (priorities are >= 0). */
const KEPT_PRIORITY = -1;

const readSetting = (twin: ManagedTwin | undefined, settingId: string) =>
  profileOf(settingId).read(twin?.desired, settingId);

/** Settings of suspended or unknown owners stay as the twin has them: one contribution per such owner. */
function frozenContributions(
  twin: ManagedTwin | undefined,
  current: Ownership,
  context: EvaluationContext,
): Contribution[] {
  const frozen = new Map<string, Settings>();
  for (const [setting, owner] of current.owners) {
    const policy = context.ownerPolicy(owner);
    if (policy !== 'suspended' && policy !== 'keep') continue;
    const value = readSetting(twin, setting);
    if (value === undefined) continue;
    const settings = frozen.get(owner) ?? {};
    settings[setting] = value;
    frozen.set(owner, settings);
  }
  return [...frozen].map(([owner, settings]) => ({
    resourceKey: owner,
    priority:
      context.ownerPolicy(owner) === 'suspended'
        ? (context.resources.get(owner)?.priority ?? context.held.get(owner) ?? KEPT_PRIORITY)
        : KEPT_PRIORITY,
    settings,
  }));
}

function layeringFor(
  matching: PlannedResource[],
  twin: ManagedTwin | undefined,
  current: Ownership,
  context: EvaluationContext,
  matchingKey: string | undefined,
): LayeredSettings {
  const frozen = current.owners.size ? frozenContributions(twin, current, context) : [];
  const cacheable = frozen.length === 0 && current.managedElsewhere.size === 0 && matchingKey !== undefined;
  if (cacheable) {
    const cached = context.layerings.get(matchingKey);
    if (cached) return cached;
  }
  const contributions: Contribution[] = matching.map((r) => ({
    resourceKey: r.key,
    priority: r.priority,
    settings: r.settings,
  }));
  const sorted = [...contributions, ...frozen].sort(compareContributions);
  const layered = yieldToOtherManagers(layerSettings(sorted), current.managedElsewhere, sorted, (setting) =>
    readSetting(twin, setting),
  );
  if (cacheable) context.layerings.set(matchingKey, layered);
  return layered;
}

/** The layered settings a resource waits for the device to take, with the profile that reads its answer. */
function wantedBy(resource: PlannedResource, layered: LayeredSettings) {
  const profile = profileFor(resource.convergence);
  const wanted = new Map<string, unknown>();
  for (const [id, value] of Object.entries(layered.settings)) {
    if (!profile.handles(id)) continue;
    // A device that reports its whole configuration must report every setting, whoever set it.
    if (profile.reportsWhole || layered.owners.get(id) === resource.key) wanted.set(id, value);
  }
  return { profile, wanted };
}

/** How the device stands for `resource`: converged only once desired carries the plan and the device says so. */
export function reportedStateFor(evaluation: DeviceEvaluation, resource: PlannedResource): ReportedState {
  if (!evaluation.twin || !evaluation.applied) return { state: 'pending' };
  const { profile, wanted } = wantedBy(resource, evaluation.layered);
  return profile.reportedState(evaluation.twin, wanted, resource.convergence);
}

/** What the device reports where it differs from what `resource` waits for (at most `limit` lines). */
export function reportedDifferences(
  evaluation: DeviceEvaluation,
  resource: PlannedResource,
  limit: number,
): string[] {
  if (!evaluation.twin) return [];
  const { profile, wanted } = wantedBy(resource, evaluation.layered);
  return profile.differences(evaluation.twin, wanted, limit, resource.convergence);
}

/** When the settings `resource` waits for were last written on the device's twin (epoch ms). */
export function writtenAtFor(evaluation: DeviceEvaluation, resource: PlannedResource): number | undefined {
  if (!evaluation.twin) return undefined;
  const { profile, wanted } = wantedBy(resource, evaluation.layered);
  return profile.writtenAt(evaluation.twin, [...wanted.keys()]);
}

/** What the device would refuse in desired once `desiredPatch` is written, judged by each profile it touches. */
function judgeAfter(
  desired: Readonly<Record<string, unknown>>,
  desiredPatch: Record<string, unknown>,
  changed: readonly string[],
  verdicts: Map<string, string[]>,
): string[] {
  const after = mergeDesired(desired, desiredPatch);
  const profiles = new Set(changed.map(profileOf));
  return [...profiles].flatMap((profile) => profile.judge(after, verdicts));
}

function sameOwners(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}

export function evaluateDevice(
  device: DeviceRecord,
  twin: ManagedTwin | undefined,
  matching: PlannedResource[],
  context: EvaluationContext,
  current: Ownership = readOwnership(twin?.tags, context.manager, context.scope),
  /** Identifies the set of `matching` resources; devices with the same set share one layering. */
  matchingKey?: string,
): DeviceEvaluation {
  const layered = layeringFor(matching, twin, current, context, matchingKey);
  const base: DeviceEvaluation = {
    device,
    twin,
    ownership: current,
    matching,
    layered,
    judgeErrors: [],
    applied: false,
    changedSettings: [],
    rolloutResources: [],
  };
  if (!twin) return base;

  const templateKey = matchingKey === undefined ? undefined : twinPlanKey(twin, current, matchingKey);
  let template = templateKey === undefined ? undefined : context.templates.get(templateKey);
  if (!template) {
    template = planTwin(twin, layered, current, context);
    if (templateKey !== undefined) context.templates.set(templateKey, template);
  }
  return { ...base, ...template };
}

/** Ids of the shared (frozen) values twin plans are keyed by. */
const valueIds = new WeakMap<object, number>();
let nextValueId = 0;
function valueId(value: object): number {
  let id = valueIds.get(value);
  if (id === undefined) {
    id = ++nextValueId;
    valueIds.set(value, id);
  }
  return id;
}

/**
 * What a twin's plan depends on besides the plan's context, when twins can share it: the resources matching, the
 * twin's desired properties and its ownership record. A twin without an ownership record (never managed yet) is
 * planned like every other such twin with the same layering and desired properties; a managed twin whose desired
 * properties and tags the hub client shared (frozen values: twins given the same configuration hold the same
 * objects, and readOwnership reads each shared record once) like every twin holding the same objects.
 */
function twinPlanKey(twin: ManagedTwin, current: Ownership, matchingKey: string): string | undefined {
  if (current.owners.size === 0 && current.revisions.size === 0 && !current.otherManagers)
    return `${matchingKey}|${Object.isFrozen(twin.desired) ? `#${valueId(twin.desired)}` : JSON.stringify(twin.desired)}`;
  if (!Object.isFrozen(twin.desired) || !Object.isFrozen(twin.tags)) return undefined;
  return `${matchingKey}|#${valueId(twin.desired)}|@${valueId(current)}`;
}

interface TwinPlan {
  judgeErrors: string[];
  applied: boolean;
  changedSettings: string[];
  patch?: TwinPatch;
  rolloutResources: string[];
}

/** The patch that brings one twin to its layered settings, and what the device would say of the result. */
function planTwin(
  twin: ManagedTwin,
  layered: LayeredSettings,
  current: Ownership,
  context: EvaluationContext,
): TwinPlan {
  /** Setting id, and the value to write or `removed`. */
  const changes: [string, { value: unknown } | 'removed'][] = [];
  const nextOwners = layered.owners;
  for (const [key, value] of Object.entries(layered.settings)) {
    const profile = profileOf(key);
    if (!profile.same(key, profile.read(twin.desired, key), value)) changes.push([key, { value }]);
  }
  for (const [key, owner] of current.owners) {
    // Another manager claims it too: theirs, never removed by us (our claim is dropped below).
    if (layered.owners.has(key) || current.managedElsewhere.has(key)) continue;
    // The owner no longer sets this setting on this device (gone, retargeted, or dropped the setting).
    if (context.ownerPolicy(owner) !== 'retain' && readSetting(twin, key) !== undefined)
      changes.push([key, 'removed']);
  }
  const changedSettings = changes.map(([key]) => key);
  let desiredPatch: Record<string, unknown> = {};
  // Removals first: a setting given up for one whose place overlaps it must not delete what that one writes.
  const ordered = [
    ...changes.filter(([, c]) => c === 'removed'),
    ...changes.filter(([, c]) => c !== 'removed'),
  ];
  for (const [key, change] of ordered) {
    const profile = profileOf(key);
    const part =
      change === 'removed'
        ? profile.remove(key)
        : profile.write(key, change.value, profile.read(twin.desired, key));
    desiredPatch = mergeDesired(desiredPatch, part, true);
  }

  const applied = changedSettings.length === 0;
  const plan: TwinPlan = {
    judgeErrors: applied ? [] : judgeAfter(twin.desired, desiredPatch, changedSettings, context.verdicts),
    applied,
    changedSettings,
    rolloutResources: [],
  };
  if (applied && sameOwners(current.owners, nextOwners)) return plan;

  const nextRevisions = new Map<string, string>();
  for (const owner of new Set(nextOwners.values())) {
    const revision =
      context.ownerPolicy(owner) === 'active' ? context.revisions.get(owner) : current.revisions.get(owner);
    if (revision !== undefined) nextRevisions.set(owner, revision);
  }
  const tags = ownershipTagsPatch(current, { owners: nextOwners, revisions: nextRevisions }, context.manager);
  plan.patch = {
    ...(tags ? { tags } : {}),
    ...(changedSettings.length ? { properties: { desired: desiredPatch } } : {}),
  };
  const setBy = new Set(
    changes.filter(([, change]) => change !== 'removed').map(([key]) => layered.owners.get(key)!),
  );
  plan.rolloutResources = [...setBy].filter(
    (owner) =>
      context.ownerPolicy(owner) === 'active' &&
      current.revisions.get(owner) !== context.revisions.get(owner),
  );
  return plan;
}
