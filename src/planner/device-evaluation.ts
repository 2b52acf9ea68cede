// One device against the resources of its hub: the merged configuration, whether the agent would accept it,
// and the twin patch that would bring desired there without touching what the operator does not own.
import {
  AGENT_CONFIGURATION_KEY,
  type AgentProblem,
  type AgentSettings,
  checkAgentSettings,
  effectiveSettings,
  SETTINGS_BY_KEY,
  unwrapTwinConfiguration,
} from '../profiles/security-agent/index.js';
import {
  type Contribution,
  compareContributions,
  type LayeredSettings,
  layerSettings,
  yieldToOtherManagers,
} from './layering.js';
import { type Ownership, ownershipTagsPatch, type ResourceScope, readOwnership } from './ownership.js';
import { rawSettingValue, sameSettingValue } from './setting-values.js';
import type { DeviceRecord, PlannedResource, SecurityModuleTwin, TwinPatch } from './types.js';

/**
 * What happens to settings owned by a resource that is not active: `suspended` freezes them as they are, at the
 * resource's priority; `keep` (an owner we do not know, without --prune) keeps them below every active
 * resource, so they only fill settings nobody else sets; `remove` deletes them; `retain` leaves the values and
 * drops ownership.
 */
export type OwnerPolicy = 'active' | 'suspended' | 'keep' | 'remove' | 'retain';

export interface DeviceEvaluation {
  device: DeviceRecord;
  module?: SecurityModuleTwin;
  /** The ownership record the twin carries now. */
  ownership: Ownership;
  /** Active resources whose target matches the device, by priority. */
  matching: PlannedResource[];
  layered: LayeredSettings;
  /** Errors the agent would find in the configuration it would run after the write. */
  agentErrors: AgentProblem[];
  /** Desired already carries the merged configuration. */
  applied: boolean;
  /** The agent reports the merged configuration (and the report is not older than desired). */
  converged: boolean;
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
  /** Agent verdicts by configuration: devices of one fleet share a handful of merged configurations. */
  verdicts: Map<string, AgentProblem[]>;
  /** Layerings by set of matching resources, for devices with no frozen settings (most of them). */
  layerings: Map<string, LayeredSettings>;
  /** Twin plans shared by twins with no ownership record yet, the same layering and the same desired. */
  templates: Map<string, TwinPlan>;
}

/** Below every resource (priorities are >= 0). */
const KEPT_PRIORITY = -1;

/** Settings of suspended or unknown owners stay as the twin has them: one contribution per such owner. */
function frozenContributions(
  module: SecurityModuleTwin | undefined,
  current: Ownership,
  context: EvaluationContext,
): Contribution[] {
  const frozen = new Map<string, AgentSettings>();
  for (const [setting, owner] of current.owners) {
    const policy = context.ownerPolicy(owner);
    if (policy !== 'suspended' && policy !== 'keep') continue;
    const value = rawSettingValue(module?.desiredConfiguration, setting);
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
  module: SecurityModuleTwin | undefined,
  current: Ownership,
  context: EvaluationContext,
  matchingKey: string | undefined,
): LayeredSettings {
  const frozen = current.owners.size ? frozenContributions(module, current, context) : [];
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
    rawSettingValue(module?.desiredConfiguration, setting),
  );
  if (cacheable) context.layerings.set(matchingKey, layered);
  return layered;
}

/** The settings the agent does not report as desired holds them (at most `limit`), as "key: reported X, desired Y". */
export function reportedDifferences(
  module: SecurityModuleTwin,
  layered: AgentSettings,
  limit = Number.POSITIVE_INFINITY,
): string[] {
  const differences: string[] = [];
  const desired = module.desiredConfiguration;
  const reported = module.reportedConfiguration;
  const check = (key: string, expected: AgentSettings[string] | undefined) => {
    const actual = rawSettingValue(reported, key);
    if (differences.length < limit && !sameSettingValue(key, actual, expected)) {
      differences.push(
        `${key}: reported ${actual === undefined ? 'nothing' : JSON.stringify(actual)}, desired ${JSON.stringify(expected ?? null)}`,
      );
    }
  };
  for (const key of Object.keys(layered)) check(key, layered[key]);
  // Settings others wrote are part of what the agent must run too.
  if (desired && typeof desired === 'object') {
    for (const key of Object.keys(desired))
      if (SETTINGS_BY_KEY.has(key) && !(key in layered)) check(key, rawSettingValue(desired, key));
  }
  return differences;
}

function reportedMatches(module: SecurityModuleTwin, layered: AgentSettings): boolean {
  return !module.reportedMayBeStale && reportedDifferences(module, layered, 1).length === 0;
}

/**
 * The errors the agent would find in the configuration it would run once `desiredPatch` is written, read as
 * the agent reads it (a bare value someone else wrote is a TypeMismatch).
 */
function agentErrorsAfter(
  desired: unknown,
  desiredPatch: Record<string, unknown>,
  verdicts: Map<string, AgentProblem[]>,
): AgentProblem[] {
  const after: Record<string, unknown> = {};
  if (desired && typeof desired === 'object') {
    for (const [key, value] of Object.entries(desired)) if (SETTINGS_BY_KEY.has(key)) after[key] = value;
  }
  for (const [key, value] of Object.entries(desiredPatch)) {
    if (value === null) delete after[key];
    else after[key] = value;
  }
  const signature = JSON.stringify(after);
  let verdict = verdicts.get(signature);
  if (!verdict) {
    const { settings, problems } = unwrapTwinConfiguration(after);
    verdict = [...problems, ...checkAgentSettings(effectiveSettings(settings))].filter(
      (p) => p.severity === 'error',
    );
    verdicts.set(signature, verdict);
  }
  return verdict;
}

function sameOwners(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}

export function evaluateDevice(
  device: DeviceRecord,
  module: SecurityModuleTwin | undefined,
  matching: PlannedResource[],
  context: EvaluationContext,
  current: Ownership = readOwnership(module?.tags, context.manager, context.scope),
  /** Identifies the set of `matching` resources; devices with the same set share one layering. */
  matchingKey?: string,
): DeviceEvaluation {
  const layered = layeringFor(matching, module, current, context, matchingKey);
  const base: DeviceEvaluation = {
    device,
    module,
    ownership: current,
    matching,
    layered,
    agentErrors: [],
    applied: false,
    converged: false,
    changedSettings: [],
    rolloutResources: [],
  };
  if (!module) return base;

  // A twin without an ownership record (never managed yet) is planned like every other such twin with the same
  // layering and the same desired configuration: the plan is made once and shared.
  const shareable =
    matchingKey !== undefined &&
    current.owners.size === 0 &&
    current.revisions.size === 0 &&
    !current.otherManagers;
  const templateKey = shareable
    ? `${matchingKey}|${JSON.stringify(module.desiredConfiguration ?? null)}`
    : undefined;
  let template = templateKey === undefined ? undefined : context.templates.get(templateKey);
  if (!template) {
    template = planTwin(module, layered, current, context);
    if (templateKey !== undefined) context.templates.set(templateKey, template);
  }
  return {
    ...base,
    ...template,
    converged: template.applied && reportedMatches(module, layered.settings),
  };
}

interface TwinPlan {
  agentErrors: AgentProblem[];
  applied: boolean;
  changedSettings: string[];
  patch?: TwinPatch;
  rolloutResources: string[];
}

/** The patch that brings one twin to its layered configuration, and what the agent would say of the result. */
function planTwin(
  module: SecurityModuleTwin,
  layered: LayeredSettings,
  current: Ownership,
  context: EvaluationContext,
): TwinPlan {
  const desired = module.desiredConfiguration;
  const desiredPatch: Record<string, unknown> = {};
  const nextOwners = layered.owners;
  for (const [key, value] of Object.entries(layered.settings)) {
    if (!sameSettingValue(key, rawSettingValue(desired, key), value)) desiredPatch[key] = { value };
  }
  for (const [key, owner] of current.owners) {
    // Another manager claims it too: theirs, never removed by us (our claim is dropped below).
    if (layered.owners.has(key) || current.managedElsewhere.has(key)) continue;
    // The owner no longer sets this setting on this device (gone, retargeted, or dropped the setting).
    if (context.ownerPolicy(owner) !== 'retain' && rawSettingValue(desired, key) !== undefined)
      desiredPatch[key] = null;
  }
  const changedSettings = Object.keys(desiredPatch);

  const applied = changedSettings.length === 0;
  const evaluation: TwinPlan = {
    agentErrors: applied ? [] : agentErrorsAfter(desired, desiredPatch, context.verdicts),
    applied,
    changedSettings,
    rolloutResources: [],
  };
  if (applied && sameOwners(current.owners, nextOwners)) return evaluation;

  const nextRevisions = new Map<string, string>();
  for (const owner of new Set(nextOwners.values())) {
    const revision =
      context.ownerPolicy(owner) === 'active' ? context.revisions.get(owner) : current.revisions.get(owner);
    if (revision !== undefined) nextRevisions.set(owner, revision);
  }
  const tags = ownershipTagsPatch(current, { owners: nextOwners, revisions: nextRevisions }, context.manager);
  evaluation.patch = {
    ...(tags ? { tags } : {}),
    ...(changedSettings.length
      ? { properties: { desired: { [AGENT_CONFIGURATION_KEY]: desiredPatch } } }
      : {}),
  };
  const setBy = new Set(
    changedSettings.filter((k) => desiredPatch[k] !== null).map((k) => layered.owners.get(k)!),
  );
  evaluation.rolloutResources = [...setBy].filter(
    (owner) =>
      context.ownerPolicy(owner) === 'active' &&
      current.revisions.get(owner) !== context.revisions.get(owner),
  );
  return evaluation;
}
