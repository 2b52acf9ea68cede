// The agent configuration as it sits in a module twin: every setting wrapped as {"value": ...}.

import type { AgentProblem } from './rules.js';
import { checkSettingValue } from './rules.js';
import { type AgentSettings, SETTINGS_BY_KEY, type SettingValue } from './settings.js';

export type TwinAgentConfiguration = Record<string, { value: SettingValue }>;

export function wrapSettings(settings: AgentSettings): TwinAgentConfiguration {
  return Object.fromEntries(Object.entries(settings).map(([key, value]) => [key, { value }]));
}

/**
 * Reads the configuration object of a twin as the agent does: known keys must hold `{"value": ...}` (a bare
 * value is a TypeMismatch, as in the C# agent); unknown keys and twin metadata ($version...) are ignored.
 */
export function unwrapTwinConfiguration(raw: unknown): { settings: AgentSettings; problems: AgentProblem[] } {
  const settings: AgentSettings = {};
  const problems: AgentProblem[] = [];
  if (raw === undefined || raw === null) return { settings, problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      settings,
      problems: [
        {
          setting: '*',
          errorType: 'TypeMismatch',
          severity: 'error',
          message: 'the configuration must be an object',
        },
      ],
    };
  }
  for (const [key, wrapped] of Object.entries(raw as Record<string, unknown>)) {
    if (!SETTINGS_BY_KEY.has(key)) continue;
    if (wrapped === null) continue; // a deleted key: the default applies
    if (typeof wrapped !== 'object' || Array.isArray(wrapped)) {
      problems.push({
        setting: key,
        errorType: 'TypeMismatch',
        severity: 'error',
        message: `${key} must be an object {"value": ...}, not a bare value`,
      });
      continue;
    }
    // `{"value": null}` is stored by the hub as `{}` (a null in a patch deletes): read it as null.
    const value = (wrapped as { value?: unknown }).value ?? null;
    if (value !== null && typeof value === 'object') {
      problems.push({
        setting: key,
        errorType: 'TypeMismatch',
        severity: 'error',
        message: `${key} holds an object, not a value`,
      });
      continue;
    }
    const problem = checkSettingValue(key, value as SettingValue);
    if (problem) problems.push(problem);
    else settings[key] = value as SettingValue;
  }
  return { settings, problems };
}
