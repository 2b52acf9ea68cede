// The fleet baseline and the layers on top of it. A layer at a higher priority can override a baseline value but
// cannot unset it, so the baseline targets only devices that carry every setting it holds, each at its most
// common value; a device with another value (or a setting the baseline lacks) gets it from its group's layer,
// and a device outside the baseline gets all its settings from its layer. Settings are keyed by their names with
// canonical JSON values (settings.ts); which ones are judged together, the export's kind says.
import type { SettingCoupling } from './export-kind.js';
import { type Settings, sameSettingValue } from './settings.js';

export interface CountedSettings {
  settings: Settings;
  devices: number;
}

function partners(coupling: SettingCoupling): Map<string, string> {
  return new Map(coupling.pairs.flatMap(([a, b]) => [[a, b] as const, [b, a] as const]));
}

/** Most devices first; on a tie the lowest JSON text, so that the same fleet always gives the same baseline. */
function byFrequency(a: { text: string; devices: number }, b: { text: string; devices: number }): number {
  return b.devices - a.devices || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
}

/** How many devices carry each combination of values of `keys`, most common first. */
function combinations(
  configurations: readonly CountedSettings[],
  keys: readonly string[],
): { values: Settings; text: string; devices: number }[] {
  const counted = new Map<string, { values: Settings; text: string; devices: number }>();
  for (const { settings, devices } of configurations) {
    const values = Object.fromEntries(keys.map((key) => [key, settings[key]]));
    const text = JSON.stringify(keys.map((key) => settings[key]));
    const entry = counted.get(text);
    if (entry) entry.devices += devices;
    else counted.set(text, { values, text, devices });
  }
  return [...counted.values()].sort(byFrequency);
}

export interface Baseline {
  settings: Settings;
  /** Per configuration given, whether the baseline targets its devices (they carry every baseline setting). */
  members: boolean[];
}

const hasAll = (settings: Settings, keys: readonly string[]) =>
  keys.every((key) => Object.hasOwn(settings, key));

/**
 * Which settings the baseline holds, and so which configurations it covers (those that carry them all): of
 * the key sets met going down the configurations from the most common, intersecting as it goes, the one that
 * takes the most settings off the layers (keys x devices covered). A handful of devices configured apart
 * (a list that set one setting and nothing else) then does not leave the rest of the fleet without a baseline.
 */
function baselineKeys(configurations: readonly CountedSettings[]): string[] {
  const order = configurations
    .map((c, i) => ({ ...c, i, text: JSON.stringify(Object.keys(c.settings).sort()) }))
    .sort(byFrequency);
  let best: { keys: string[]; score: number; devices: number } = { keys: [], score: 0, devices: 0 };
  let keys = Object.keys(order[0].settings).sort();
  const tried = new Set<string>();
  for (const { settings } of order) {
    keys = keys.filter((key) => Object.hasOwn(settings, key));
    if (keys.length === 0) break;
    if (tried.has(keys.join())) continue;
    tried.add(keys.join());
    let devices = 0;
    for (const c of configurations) if (hasAll(c.settings, keys)) devices += c.devices;
    const score = keys.length * devices;
    if (score > best.score || (score === best.score && devices > best.devices))
      best = { keys, score, devices };
  }
  return best.keys;
}

/**
 * The baseline of a set of configurations (each with how many devices carry it): the settings chosen by
 * baselineKeys, each at its most common value among the configurations it covers. Coupled settings take their
 * most common combination that `coupling` accepts; if none is, they are left to the layers.
 */
export function chooseBaseline(
  configurations: readonly CountedSettings[],
  coupling: SettingCoupling,
): Baseline {
  if (configurations.length === 0) return { settings: {}, members: [] };
  const common = baselineKeys(configurations);
  const covered = configurations.filter((c) => hasAll(c.settings, common));
  const coupled = partners(coupling);
  const settings: Settings = {};
  for (const key of common.filter((k) => !coupled.has(k)))
    Object.assign(settings, combinations(covered, [key])[0].values);
  for (const pair of coupling.pairs) {
    const keys = pair.filter((key) => common.includes(key));
    if (keys.length === 0) continue;
    const accepted = combinations(covered, keys).find(({ values }) => coupling.accepts(values));
    if (accepted) Object.assign(settings, accepted.values);
  }
  const sorted = Object.fromEntries(Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : 1)));
  const keys = Object.keys(sorted);
  return {
    settings: sorted,
    members: configurations.map((c) => keys.length > 0 && hasAll(c.settings, keys)),
  };
}

/**
 * What a group's layer sets so that the baseline under it gives the group's settings: every setting the
 * baseline lacks or holds at another value. A setting coupled with one the layer sets comes along (when the
 * group carries it), so that the layer alone passes as the group's settings do.
 */
export function layerDifference(settings: Settings, baseline: Settings, coupling: SettingCoupling): Settings {
  const layer: Settings = {};
  for (const [key, value] of Object.entries(settings))
    if (!Object.hasOwn(baseline, key) || !sameSettingValue(baseline[key], value)) layer[key] = value;
  const coupled = partners(coupling);
  for (const key of Object.keys(layer)) {
    const partner = coupled.get(key);
    if (partner !== undefined && Object.hasOwn(settings, partner)) layer[partner] = settings[partner];
  }
  return Object.fromEntries(Object.entries(layer).sort(([a], [b]) => (a < b ? -1 : 1)));
}
