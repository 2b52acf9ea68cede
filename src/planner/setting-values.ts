// Equality of setting values as the agent means them: enums in any case, durations by length.
import { SETTINGS_BY_KEY, type SettingValue, sameDuration } from '../profiles/security-agent/index.js';

export function sameSettingValue(
  key: string,
  a: SettingValue | undefined,
  b: SettingValue | undefined,
): boolean {
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

/** The plain value of `key` in a raw twin configuration object ({key: {value}}), or undefined. */
export function rawSettingValue(raw: unknown, key: string): SettingValue | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const wrapped = (raw as Record<string, unknown>)[key];
  if (!wrapped || typeof wrapped !== 'object') return undefined;
  // `{"value": null}` comes back from the hub as `{}`.
  const value = 'value' in wrapped ? (wrapped as { value: unknown }).value : null;
  return value === null || typeof value !== 'object' ? (value as SettingValue) : undefined;
}
