// The security agent as a twin profile: its settings live in the `azureiotsecurity` module twin, inside the
// desired property AGENT_CONFIGURATION_KEY, each wrapped as {"value": ...}; values are equal as the agent means them
// (enums in any case, durations by length); the configuration a device would run is judged with the agent's rules;
// and the agent reports the whole configuration it runs, so a device is converged when it reports every setting
// desired holds, the operator's and others'.
import { type HubSnapshot, lastWritten, type ManagedTwin } from '../../twins/types.js';
import type { ReportedState, TwinProfile } from '../twin-profile.js';
import { sameDuration } from './iso-duration.js';
import { checkAgentSettings } from './rules.js';
import {
  AGENT_CONFIGURATION_KEY,
  effectiveSettings,
  SECURITY_MODULE_ID,
  SETTINGS_BY_KEY,
  type SettingValue,
} from './settings.js';
import { unwrapTwinConfiguration } from './twin-configuration.js';

export { SECURITY_MODULE_ID };

/** Devices with the security module, when the snapshot read its twins (an IoTHub's status shows the count). */
export function securityModuleCount(snapshot: HubSnapshot): number | undefined {
  return snapshot.twins.get(SECURITY_MODULE_ID)?.size;
}

/** The agent's configuration object in a twin's desired or reported properties. */
function section(properties: Readonly<Record<string, unknown>> | undefined): unknown {
  return properties?.[AGENT_CONFIGURATION_KEY];
}

/** The plain value of `key` in a raw configuration object ({key: {value}}), or undefined. */
function rawSettingValue(raw: unknown, key: string): SettingValue | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const wrapped = (raw as Record<string, unknown>)[key];
  if (!wrapped || typeof wrapped !== 'object') return undefined;
  // `{"value": null}` comes back from the hub as `{}`.
  const value = 'value' in wrapped ? (wrapped as { value: unknown }).value : null;
  return value === null || typeof value !== 'object' ? (value as SettingValue) : undefined;
}

function sameSettingValue(key: string, a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // A twin cannot store null (a null in a patch deletes): an absent value is the null default.
  if ((a ?? null) === null && (b ?? null) === null)
    return SETTINGS_BY_KEY.get(key)?.kind === 'nullableString';
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const kind = SETTINGS_BY_KEY.get(key)?.kind;
  if (kind === 'priority') return a.toLowerCase() === b.toLowerCase();
  if (kind === 'duration') return sameDuration(a, b);
  return false;
}

/** Every agent setting the device must report: the wanted ones, and the others desired holds (others wrote). */
function expected(twin: ManagedTwin, wanted: ReadonlyMap<string, unknown>): [string, unknown][] {
  const all: [string, unknown][] = [...wanted];
  const desired = section(twin.desired);
  if (desired && typeof desired === 'object')
    for (const key of Object.keys(desired))
      if (SETTINGS_BY_KEY.has(key) && !wanted.has(key)) all.push([key, rawSettingValue(desired, key)]);
  return all;
}

function differences(twin: ManagedTwin, wanted: ReadonlyMap<string, unknown>, limit: number): string[] {
  const lines: string[] = [];
  const reported = section(twin.reported);
  for (const [key, value] of expected(twin, wanted)) {
    if (lines.length >= limit) break;
    const actual = rawSettingValue(reported, key);
    if (!sameSettingValue(key, actual, value))
      lines.push(
        `${key}: reported ${actual === undefined ? 'nothing' : JSON.stringify(actual)}, desired ${JSON.stringify(value ?? null)}`,
      );
  }
  return lines;
}

export const securityAgentProfile: TwinProfile = {
  name: 'security agent',
  // Every id that is not a path: records written before profiles existed name agent settings this way.
  typedProperty: {
    slot: SECURITY_MODULE_ID,
    key: AGENT_CONFIGURATION_KEY,
    kind: 'SecurityModuleConfig',
    field: 'spec.agentConfiguration',
    moduleNoun: 'security module',
  },
  reportsWhole: true,
  removedMeans: 'agent default',
  describe: (settingId) => SETTINGS_BY_KEY.get(settingId)?.fieldPath ?? settingId,
  handles: (settingId) => !settingId.startsWith('/'),
  desiredPath: (settingId) => [AGENT_CONFIGURATION_KEY, settingId],
  read: (desired, settingId) => rawSettingValue(section(desired), settingId),
  // A null value is the agent's null (`{"value": null}`), not a removal.
  write: (settingId, value) => ({ [AGENT_CONFIGURATION_KEY]: { [settingId]: { value } } }),
  remove: (settingId) => ({ [AGENT_CONFIGURATION_KEY]: { [settingId]: null } }),
  same: sameSettingValue,
  judge(desiredAfter, cache) {
    // Read as the agent reads it: a bare value someone else wrote is a TypeMismatch.
    const raw = section(desiredAfter);
    const known: Record<string, unknown> = {};
    if (raw && typeof raw === 'object')
      for (const [key, value] of Object.entries(raw)) if (SETTINGS_BY_KEY.has(key)) known[key] = value;
    const signature = JSON.stringify(known);
    let verdict = cache.get(signature);
    if (!verdict) {
      const { settings, problems } = unwrapTwinConfiguration(known);
      verdict = [...problems, ...checkAgentSettings(effectiveSettings(settings))]
        .filter((p) => p.severity === 'error')
        .map((p) => p.message);
      cache.set(signature, verdict);
    }
    return verdict;
  },
  reportedState(twin, wanted): ReportedState {
    if (twin.reportedMayBeStale) return { state: 'pending' };
    return differences(twin, wanted, 1).length === 0 ? { state: 'converged' } : { state: 'pending' };
  },
  differences,
  silence: (written) =>
    `the agent has not reported the configuration${written} (it may have rejected it: look for its ConfigurationError event)`,
  unanswered: () => 'not reporting the configuration',
  writtenAt: (twin) => lastWritten(twin, [AGENT_CONFIGURATION_KEY]).at ?? lastWritten(twin, []).at,
};
