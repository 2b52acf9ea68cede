// Per device and per setting, the highest-priority resource that sets it wins; equal priorities that disagree
// are a conflict, won by the lowest namespace/name so that every run decides the same way.
import type { AgentSettings, SettingValue } from '../agent/index.js';
import { sameSettingValue } from './setting-values.js';

export interface Contribution {
  resourceKey: string;
  priority: number;
  settings: AgentSettings;
}

export interface SettingConflict {
  setting: string;
  winner: string;
  loser: string;
  winnerValue: SettingValue;
  loserValue: SettingValue;
  priority: number;
}

export interface LayeredSettings {
  settings: AgentSettings;
  /** Setting -> the resource whose value won. */
  owners: Map<string, string>;
  conflicts: SettingConflict[];
}

export function compareContributions(a: Contribution, b: Contribution): number {
  return (
    b.priority - a.priority || (a.resourceKey < b.resourceKey ? -1 : a.resourceKey > b.resourceKey ? 1 : 0)
  );
}

/** `contributions` must be sorted with compareContributions. */
export function layerSettings(contributions: readonly Contribution[]): LayeredSettings {
  const settings: AgentSettings = {};
  const owners = new Map<string, string>();
  const winnerPriority = new Map<string, number>();
  const conflicts: SettingConflict[] = [];
  for (const contribution of contributions) {
    for (const [key, value] of Object.entries(contribution.settings)) {
      const owner = owners.get(key);
      if (owner === undefined) {
        settings[key] = value;
        owners.set(key, contribution.resourceKey);
        winnerPriority.set(key, contribution.priority);
      } else if (
        winnerPriority.get(key) === contribution.priority &&
        !sameSettingValue(key, settings[key], value)
      ) {
        conflicts.push({
          setting: key,
          winner: owner,
          loser: contribution.resourceKey,
          winnerValue: settings[key],
          loserValue: value,
          priority: contribution.priority,
        });
      }
    }
  }
  return { settings, owners, conflicts };
}
