// The fleet baseline and the layers on top of it. A layer at a higher priority can override a baseline value but
// cannot unset it, so the baseline holds only settings every exported device carries, each at its most common
// value; a device with another value (or one the baseline lacks) gets it from its group's layer.
import { type AgentSettings, checkAgentSettings, effectiveSettings } from '../agent/index.js';

export interface CountedSettings {
  settings: AgentSettings;
  devices: number;
}

/**
 * Settings the agent judges together: each resource must pass alone over the agent's defaults (as `validate`
 * judges it), so these are chosen, and copied into layers, as pairs.
 */
const COUPLED: readonly (readonly [string, string])[] = [
  ['highPriorityMessageFrequency', 'lowPriorityMessageFrequency'],
  ['maxMessageSizeInBytes', 'maxLocalCacheSizeInBytes'],
];
const PARTNER = new Map(COUPLED.flatMap(([a, b]) => [[a, b] as const, [b, a] as const]));

/** Most devices first; on a tie the lowest JSON text, so that the same fleet always gives the same baseline. */
function byFrequency(a: { text: string; devices: number }, b: { text: string; devices: number }): number {
  return b.devices - a.devices || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
}

/** How many devices carry each combination of values of `keys`, most common first. */
function combinations(
  configurations: readonly CountedSettings[],
  keys: readonly string[],
): { values: AgentSettings; text: string; devices: number }[] {
  const counted = new Map<string, { values: AgentSettings; text: string; devices: number }>();
  for (const { settings, devices } of configurations) {
    const values = Object.fromEntries(keys.map((key) => [key, settings[key]]));
    const text = JSON.stringify(keys.map((key) => settings[key]));
    const entry = counted.get(text);
    if (entry) entry.devices += devices;
    else counted.set(text, { values, text, devices });
  }
  return [...counted.values()].sort(byFrequency);
}

/**
 * The baseline of a set of configurations (each with how many devices carry it): every setting all of them
 * carry, at its most common value. Coupled settings take their most common combination that the agent accepts
 * over its defaults; if none does, they are left to the layers.
 */
export function chooseBaseline(configurations: readonly CountedSettings[]): AgentSettings {
  if (configurations.length === 0) return {};
  const common = Object.keys(configurations[0].settings).filter((key) =>
    configurations.every((c) => Object.hasOwn(c.settings, key)),
  );
  const baseline: AgentSettings = {};
  for (const key of common.filter((k) => !PARTNER.has(k)))
    Object.assign(baseline, combinations(configurations, [key])[0].values);
  for (const pair of COUPLED) {
    const keys = pair.filter((key) => common.includes(key));
    if (keys.length === 0) continue;
    const accepted = combinations(configurations, keys).find(
      ({ values }) => !checkAgentSettings(effectiveSettings(values)).some((p) => p.severity === 'error'),
    );
    if (accepted) Object.assign(baseline, accepted.values);
  }
  return Object.fromEntries(Object.entries(baseline).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * What a group's layer sets so that the baseline under it gives the group's settings: every setting the
 * baseline lacks or holds at another value. A setting coupled with one the layer sets comes along (when the
 * group carries it), so that the layer alone passes the agent's rules as the group's settings do.
 */
export function layerDifference(settings: AgentSettings, baseline: AgentSettings): AgentSettings {
  const layer: AgentSettings = {};
  for (const [key, value] of Object.entries(settings))
    if (!Object.hasOwn(baseline, key) || baseline[key] !== value) layer[key] = value;
  for (const key of Object.keys(layer)) {
    const partner = PARTNER.get(key);
    if (partner !== undefined && Object.hasOwn(settings, partner)) layer[partner] = settings[partner];
  }
  return Object.fromEntries(Object.entries(layer).sort(([a], [b]) => (a < b ? -1 : 1)));
}
