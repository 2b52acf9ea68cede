// From what was read of a hub to the resources that reproduce it: devices grouped by identical settings, the
// fleet baseline, a layer per group that differs from it, a target and a name for each. Pure: a FleetIndex and
// the export's kind in, resources and a summary out.

import { API_GROUP_VERSION } from '../api/schemas.js';
import { formatFieldPath } from '../validation/issues.js';
import { validateResource } from '../validation/validate-resource.js';
import { chooseBaseline, layerDifference } from './baseline.js';
import type { ExportKind } from './export-kind.js';
import type { FleetIndex, LeftOut } from './fleet-index.js';
import { deviceListWords, nameFromWords, uniqueNames } from './names.js';
import type { Settings } from './settings.js';
import { TagIndex } from './tag-index.js';
import type { WantedDevices } from './target-candidates.js';
import { type ChosenTarget, chooseTargets } from './targets.js';

export const BASELINE_PRIORITY = 10;
/** Layers select disjoint groups, so they share one priority above the baseline. */
export const LAYER_PRIORITY = 20;
/** The export's IoTHub document is written as `iothub.yaml`: no resource may take that name. */
const RESERVED_NAMES = ['iothub'];

export interface ExportedResource {
  name: string;
  role: 'baseline' | 'layer';
  priority: number;
  target: { condition: string } | { deviceIds: string[] };
  settings: Settings;
  devices: number;
  /** A set whose devices take several lists: which list of how many. */
  part?: { index: number; of: number };
}

export interface ExportSummary {
  /** Devices the devices collection listed. */
  hubDevices: number;
  exportedDevices: number;
  /** Distinct configurations exported (groups). */
  configurations: number;
  leftOut: Record<LeftOut, number>;
  /** Devices with settings of other managers left out, by manager. */
  otherManagers: [string, number][];
  /** Devices whose twin holds IoT Plug and Play components that were not exported, by component. */
  componentsLeftOut: [string, number][];
  /** Exported devices whose twin announced a model (a modelId). */
  announcedModel: number;
  rejectedExample?: { deviceId: string; reason: string };
  /** Module twins whose device the devices collection did not list (deleted while the hub was read). */
  unlistedModules: number;
  /** Groups given device lists without a search for a condition (too many groups). */
  unsearched: number;
}

export interface ExportPlan {
  resources: ExportedResource[];
  summary: ExportSummary;
}

/**
 * Why `validate` would refuse a resource holding these settings, or undefined when it would pass. A schema in a
 * ConfigMap is not at hand: the settings are judged as the hub takes them, the schema judges them in `validate`.
 */
function refusal(settings: Settings, kind: ExportKind): string | undefined {
  const { issues } = validateResource(
    {
      apiVersion: API_GROUP_VERSION,
      kind: kind.resourceKind,
      metadata: { name: 'export' },
      spec: { hubRef: { name: 'export' }, target: { deviceIds: ['export'] }, ...kind.spec(settings) },
    },
    { missing: 'warning' },
  );
  const error = issues.find((issue) => issue.severity === 'error');
  return error ? `${formatFieldPath(error.path)}: ${error.message}` : undefined;
}

interface Group {
  configuration: number;
  members: number[];
}

interface Draft extends Omit<ExportedResource, 'name'> {
  baseName: string;
  /** Orders drafts of one base name, so that suffixes fall the same way every time. */
  key: string;
}

function drafts(
  role: ExportedResource['role'],
  target: ChosenTarget,
  settings: Settings,
  devices: number,
  prefix: readonly string[],
): Draft[] {
  const priority = role === 'baseline' ? BASELINE_PRIORITY : LAYER_PRIORITY;
  const named = (words: readonly string[]) => nameFromWords([...prefix, ...words]);
  if (target.kind === 'condition') {
    const baseName = role === 'baseline' ? named(['baseline']) : named(target.words);
    return [
      {
        role,
        priority,
        settings,
        devices,
        baseName,
        key: target.condition,
        target: { condition: target.condition },
      },
    ];
  }
  const of = target.lists.length;
  return target.lists.map((deviceIds, i) => {
    const words = deviceListWords(deviceIds);
    const baseName =
      role === 'baseline' ? named(of === 1 ? ['baseline'] : ['baseline', ...words]) : named(words);
    return {
      role,
      priority,
      settings,
      devices: deviceIds.length,
      baseName,
      key: deviceIds[0],
      target: { deviceIds },
      ...(of > 1 ? { part: { index: i + 1, of } } : {}),
    };
  });
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function planExport(fleet: FleetIndex, kind: ExportKind): ExportPlan {
  const tags = new TagIndex(fleet);
  const refusals = fleet.configurations.map((c) => refusal(c.settings, kind));
  const leftOut: Record<LeftOut, number> = {
    noModule: 0,
    noConfiguration: 0,
    managedElsewhere: 0,
    rejected: 0,
    otherModel: 0,
  };
  let rejectedExample = fleet.rejectedExample;
  const byConfiguration = new Map<number, Group>();
  for (const device of tags.devices) {
    const standing = fleet.standing(device);
    if (typeof standing === 'string') {
      leftOut[standing]++;
    } else if (refusals[standing] !== undefined) {
      leftOut.rejected++;
      rejectedExample ??= { deviceId: fleet.deviceIds[device], reason: refusals[standing] };
    } else {
      let group = byConfiguration.get(standing);
      if (!group) {
        group = { configuration: standing, members: [] };
        byConfiguration.set(standing, group);
      }
      group.members.push(device);
    }
  }
  const groups = [...byConfiguration.values()].sort((a, b) =>
    compareText(fleet.configurations[a.configuration].text, fleet.configurations[b.configuration].text),
  );
  const groupOf = new Int32Array(fleet.size).fill(-1);
  groups.forEach((group, i) => {
    for (const device of group.members) groupOf[device] = i;
  });
  const settingsOf = (group: Group) => fleet.configurations[group.configuration].settings;
  const baseline = chooseBaseline(
    groups.map((g) => ({ settings: settingsOf(g), devices: g.members.length })),
    kind.coupling,
  );
  // A group outside the baseline takes all its settings from its layer.
  const layers = groups
    .map((group, i) => ({
      group: i,
      settings: baseline.members[i]
        ? layerDifference(settingsOf(group), baseline.settings, kind.coupling)
        : settingsOf(group),
    }))
    .filter((layer) => Object.keys(layer.settings).length > 0);

  const exported = tags.devices.filter((device) => groupOf[device] >= 0);
  const inBaseline = (device: number) => groupOf[device] >= 0 && baseline.members[groupOf[device]];
  const baselineDevices = exported.filter(inBaseline);
  const wanted: WantedDevices[] = [];
  if (baselineDevices.length > 0) wanted.push({ members: baselineDevices, isMember: inBaseline });
  const layerStart = wanted.length;
  for (const layer of layers)
    wanted.push({
      members: groups[layer.group].members,
      isMember: (device) => groupOf[device] === layer.group,
    });
  const { targets, unsearched } = chooseTargets(tags, wanted);

  const all: Draft[] = [];
  const prefix = kind.nameWords;
  if (layerStart > 0)
    all.push(...drafts('baseline', targets[0], baseline.settings, baselineDevices.length, prefix));
  for (const [i, layer] of layers.entries()) {
    const devices = groups[layer.group].members.length;
    all.push(...drafts('layer', targets[layerStart + i], layer.settings, devices, prefix));
  }
  // Baselines first, then by name; suffixes for repeated names are handed out in that order.
  all.sort(
    (a, b) =>
      (a.role === b.role ? 0 : a.role === 'baseline' ? -1 : 1) ||
      compareText(a.baseName, b.baseName) ||
      compareText(a.key, b.key),
  );
  const names = uniqueNames(
    all.map((d) => d.baseName),
    RESERVED_NAMES,
  );
  const resources = all.map(({ baseName: _b, key: _k, ...draft }, i) => ({ name: names[i], ...draft }));

  let unlistedModules = 0;
  for (let device = 0; device < fleet.size; device++)
    if (!fleet.listed(device) && fleet.standing(device) !== 'noModule') unlistedModules++;
  return {
    resources,
    summary: {
      hubDevices: tags.hubSize,
      exportedDevices: exported.length,
      configurations: groups.length,
      leftOut,
      otherManagers: [...fleet.otherManagers].sort(([a], [b]) => compareText(a, b)),
      componentsLeftOut: [...fleet.componentsLeftOut].sort(([a], [b]) => compareText(a, b)),
      announcedModel: exported.filter((device) => fleet.announced(device)).length,
      ...(rejectedExample ? { rejectedExample } : {}),
      unlistedModules,
      unsearched,
    },
  };
}
