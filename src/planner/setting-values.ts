// Equality of setting values as the agent means them: enums in any case, durations by length.
import { SETTINGS_BY_KEY, type SettingValue, sameDuration } from '../agent/index.js';

export function sameSettingValue(
  key: string,
  a: SettingValue | undefined,
  b: SettingValue | undefined,
): boolean {
  if (a === b) return true;
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
  if (!wrapped || typeof wrapped !== 'object' || !('value' in wrapped)) return undefined;
  const value = (wrapped as { value: unknown }).value;
  return value === null || typeof value !== 'object' ? (value as SettingValue) : undefined;
}
