// `sync --dry-run` in a terminal or a CI log: per resource and setting, the value on the hub now and the new one
// with device counts, as `terraform plan` shows a change.

import type {
  OutOfScopeOwner,
  PlanDiff,
  ResourceChange,
  SettingChange,
  SettingTransition,
} from '../planner/plan-diff.js';
import type { ForeignOwner } from '../planner/plan-hub-reconcile.js';
import { describeResourceKey } from '../planner/resource-input.js';
import { profileOf, typedPropertyIn } from '../profiles/profiles.js';
import { printable } from '../validation/printable-text.js';
import type { LeftOutResource } from './hub-selection.js';

/** Transitions of one setting printed on one line; more go one per line. */
const TRANSITIONS_PER_LINE = 3;

export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * A value desired holds now (`from`) or will hold (`to`) for `setting`; null is unset, or removed. Its control
 * characters are written as escapes: a twin's value is data, and a newline in it must not start a line.
 */
export function settingValueText(value: unknown, side: 'from' | 'to', setting: string): string {
  if (value === null) return side === 'from' ? '(unset)' : `(${profileOf(setting).removedMeans})`;
  return printable(typeof value === 'string' ? value : JSON.stringify(value));
}

/** Who takes a setting from whom, when the owner changes. */
export function ownerNote(transition: SettingTransition): string {
  if (transition.takenOverFrom) return `taking over from ${transition.takenOverFrom}`;
  if (transition.takenOverBy) return `${transition.takenOverBy} takes over`;
  return '';
}

/** What a plan does with the settings of an owner gone from the files. */
export function foreignLine(owner: ForeignOwner, dryRun: boolean): string {
  const settings = owner.settings.join(', ');
  const devices = plural(owner.devices, 'device');
  switch (owner.fate) {
    case 'removed':
      return `${owner.owner} (not in the files): ${settings} ${dryRun ? 'would be' : 'were'} removed from ${devices}`;
    case 'released':
      return `${owner.owner} (deleted, deletionPolicy Retain): ${settings} left on ${devices}, no longer owned`;
    case 'kept':
      return `${owner.owner} (not in the files): ${settings} kept on ${devices}; --prune removes them`;
  }
}

/** Where the docs say how to take another hub's resources off a hub. */
export const ONE_HUB_PER_RUN = 'docs/command-line.md, "One hub per run"';

/** The hub the files give each resource they leave out of this run. */
export function otherHubLookup(
  leftOut: readonly LeftOutResource[],
): (resource: string) => string | undefined {
  const hubs = new Map(leftOut.map((l) => [l.resource, l.iotHub]));
  return (resource) => hubs.get(resource);
}

/**
 * Settings of a resource the files give another hub, found on this one: left alone, and how to remove them.
 * `iotHub` is that hub (undefined: out of the run's scope for another reason).
 */
export function outOfScopeLine(owner: OutOfScopeOwner, iotHub: string | undefined): string {
  const whose = iotHub ? `a resource of hub ${iotHub} in the files` : "out of this run's scope";
  return `${owner.owner} (${whose}): ${plural(owner.settings.length, 'setting')} on ${plural(owner.devices, 'device')}, left alone (${owner.settings.join(', ')}); to remove them run sync -f <files without it> --prune, see ${ONE_HUB_PER_RUN}`;
}

/** `SecurityModuleConfig ns/name` or `TwinConfig ns/name`, from a resource's key. */
export function resourceTitle(key: string): string {
  const { kind, name } = describeResourceKey(key);
  return `${kind} ${name}`;
}

/** What a plan creates: "3 security modules", or "3 modules (thermostat-agent)". */
export function moduleCreationsText(creations: PlanDiff['moduleCreations']): string {
  const { devices, moduleIds = [] } = creations;
  if (moduleIds.length === 0) return plural(devices, 'module');
  const nouns = new Set(moduleIds.map((id) => typedPropertyIn(id)?.moduleNoun));
  const [noun] = nouns;
  if (nouns.size === 1 && noun !== undefined) return plural(devices, noun);
  return `${plural(devices, 'module')} (${moduleIds.join(', ')})`;
}

/** The totals of a plan in one sentence (no trailing period). */
export function planSummary(diff: PlanDiff): string {
  if (!diff.changes) return 'no changes';
  const { summary } = diff;
  const parts = [
    `${plural(summary.devicesToWrite, 'device twin')} to write for ${plural(summary.resourcesChanging, 'resource')} (${plural(summary.settingChanges, 'setting change')})`,
  ];
  if (summary.modulesToCreate) parts.push(`${moduleCreationsText(diff.moduleCreations)} to create`);
  if (summary.deferredDevices)
    parts.push(`${plural(summary.deferredDevices, 'device')} waiting for later rollout batches`);
  return parts.join(', ');
}

function transitionText(setting: string, transition: SettingTransition): string {
  const note = ownerNote(transition);
  return `${plural(transition.devices, 'device')}: ${settingValueText(transition.from, 'from', setting)} -> ${settingValueText(transition.to, 'to', setting)}${note ? ` (${note})` : ''}`;
}

function settingLines(setting: SettingChange): string[] {
  const parts = setting.transitions.map((t) => transitionText(setting.setting, t));
  const more = setting.moreTransitions;
  if (more)
    parts.push(`${plural(more.transitions, 'other transition')} on ${plural(more.devices, 'device')}`);
  if (parts.length <= TRANSITIONS_PER_LINE) return [`${setting.field}: ${parts.join('; ')}`];
  return [`${setting.field}: ${plural(setting.devices, 'device')}:`, ...parts.map((p) => `  ${p}`)];
}

/** `SecurityModuleConfig ns/name (priority 50, 192 devices targeted)`, or an owner gone from the files. */
function resourceHeading(change: ResourceChange, foreign: ForeignOwner | undefined): string {
  if (change.source === 'notInFiles')
    return foreign ? foreignLine(foreign, true) : `${change.resource} (not in the files)`;
  const about = [
    `priority ${change.priority}`,
    `${plural(change.targetedDevices ?? 0, 'device')} targeted`,
    ...(change.suspended ? ['suspended'] : []),
  ];
  return `${resourceTitle(change.resource)} (${about.join(', ')})`;
}

function resourceLines(change: ResourceChange, foreign: ForeignOwner | undefined): string[] {
  const heading = resourceHeading(change, foreign);
  if (change.source === 'notInFiles' && change.devicesToWrite === 0) return [heading];
  if (change.suspended) return [`${heading}: nothing is written`];
  if (change.devicesToWrite === 0 && change.deferredDevices === 0) return [`${heading}: no change`];
  const sample = change.sampleDeviceIds.length ? `; e.g. ${change.sampleDeviceIds.join(', ')}` : '';
  const lines = [
    change.source === 'files'
      ? `${heading}: ${plural(change.devicesToWrite, 'device twin')} to write${sample}`
      : heading,
  ];
  for (const setting of change.settings) lines.push(...settingLines(setting).map((l) => `  ${l}`));
  if (change.ownershipOnlyDevices)
    lines.push(`  ${plural(change.ownershipOnlyDevices, 'device')}: ownership record only`);
  if (change.deferredDevices)
    lines.push(
      `  ${plural(change.deferredDevices, 'more device')} wait for later rollout batches of ${change.rolloutBatchSize}`,
    );
  return lines;
}

/** The plan of a dry run: a heading, then each resource and what changes under it. */
export function renderPlanText(
  diff: PlanDiff,
  heading: string,
  foreignOwners: readonly ForeignOwner[],
  /** The hub the files give a resource of another hub. */
  otherHubOf: (resource: string) => string | undefined = () => undefined,
): string[] {
  const foreign = new Map(foreignOwners.map((f) => [f.owner, f]));
  const lines = [`${heading}: ${planSummary(diff)}`];
  for (const change of diff.resources)
    lines.push(...resourceLines(change, foreign.get(change.resource)).map((l) => `  ${l}`));
  for (const owner of diff.outOfScopeOwners)
    lines.push(`  ${outOfScopeLine(owner, otherHubOf(owner.owner))}`);
  const { moduleCreations } = diff;
  if (moduleCreations.devices)
    lines.push(
      `  ${moduleCreationsText(moduleCreations)} to create; e.g. ${moduleCreations.sampleDeviceIds.join(', ')}`,
    );
  return lines;
}
