// Per device and per setting, the highest-priority resource that sets it wins; equal priorities that disagree
// are a conflict, won by the lowest namespace/name so that every run decides the same way. Settings whose places in
// desired overlap (a TwinConfig's whole `thermostat1` and another's `thermostat1.targetTemperature`) are one place:
// the first in that order takes it, and at equal priorities the other one is a conflict too.
import { profileOf } from '../profiles/profiles.js';

/** The values a resource wants, by setting id. */
export type Settings = Record<string, unknown>;

const sameValue = (settingId: string, a: unknown, b: unknown) => profileOf(settingId).same(settingId, a, b);

export interface Contribution {
  resourceKey: string;
  priority: number;
  settings: Settings;
}

export interface SettingConflict {
  setting: string;
  winner: string;
  loser: string;
  winnerValue: unknown;
  loserValue: unknown;
  priority: number;
  /** The winner is another manager's resource (`manager:namespace/name`), which owns the setting on the twin. */
  managedElsewhere?: boolean;
  /** The winner's setting, when it is another one whose place in desired overlaps the loser's `setting`. */
  overlaps?: string;
}

export interface LayeredSettings {
  settings: Settings;
  /** Setting -> the resource whose value won. */
  owners: Map<string, string>;
  conflicts: SettingConflict[];
}

export function compareContributions(a: Contribution, b: Contribution): number {
  return (
    b.priority - a.priority || (a.resourceKey < b.resourceKey ? -1 : a.resourceKey > b.resourceKey ? 1 : 0)
  );
}

/** The places in desired taken so far: each setting's path, and every path a setting's path lies under. */
class Places {
  private readonly exact = new Map<string, string>();
  private readonly under = new Map<string, string>();

  /** A setting already placed whose path overlaps `settingId`'s (equal, inside it, or around it). */
  overlapping(settingId: string): string | undefined {
    const path = profileOf(settingId).desiredPath(settingId);
    for (let n = 1; n <= path.length; n++) {
      const found = this.exact.get(path.slice(0, n).join('\0'));
      if (found !== undefined && found !== settingId) return found;
    }
    return this.under.get(path.join('\0'));
  }

  take(settingId: string): void {
    const path = profileOf(settingId).desiredPath(settingId);
    this.exact.set(path.join('\0'), settingId);
    for (let n = 1; n < path.length; n++) {
      const prefix = path.slice(0, n).join('\0');
      if (!this.under.has(prefix)) this.under.set(prefix, settingId);
    }
  }
}

/** `contributions` must be sorted with compareContributions. */
export function layerSettings(contributions: readonly Contribution[]): LayeredSettings {
  const settings: Settings = {};
  const owners = new Map<string, string>();
  const winnerPriority = new Map<string, number>();
  const conflicts: SettingConflict[] = [];
  const places = new Places();
  for (const contribution of contributions) {
    for (const [key, value] of Object.entries(contribution.settings)) {
      const owner = owners.get(key);
      if (owner === undefined) {
        const taken = places.overlapping(key);
        if (taken !== undefined) {
          if (winnerPriority.get(taken) === contribution.priority)
            conflicts.push({
              setting: key,
              winner: owners.get(taken)!,
              loser: contribution.resourceKey,
              winnerValue: settings[taken],
              loserValue: value,
              priority: contribution.priority,
              overlaps: taken,
            });
          continue;
        }
        places.take(key);
        settings[key] = value;
        owners.set(key, contribution.resourceKey);
        winnerPriority.set(key, contribution.priority);
      } else if (winnerPriority.get(key) === contribution.priority && !sameValue(key, settings[key], value)) {
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

/**
 * Settings another manager owns on the twin are theirs, and so is every place in desired that overlaps one (their
 * whole `thermostat1` and our `thermostat1.targetTemperature`, or the other way round): removed from the layering,
 * and a conflict for every resource of ours that sets them (never a write war). `theirValue` reads the value the
 * twin holds.
 */
export function yieldToOtherManagers(
  layered: LayeredSettings,
  managedElsewhere: ReadonlyMap<string, string>,
  contributions: readonly Contribution[],
  theirValue: (setting: string) => unknown | undefined,
): LayeredSettings {
  if (managedElsewhere.size === 0) return layered;
  const theirs = new Places();
  for (const setting of managedElsewhere.keys()) theirs.take(setting);
  const taken = new Map<string, string>();
  for (const setting of layered.owners.keys()) {
    const their = managedElsewhere.has(setting) ? setting : theirs.overlapping(setting);
    if (their !== undefined) taken.set(setting, their);
  }
  if (taken.size === 0) return layered;
  const settings = { ...layered.settings };
  const owners = new Map(layered.owners);
  const conflicts = layered.conflicts.filter((c) => !taken.has(c.setting));
  for (const [setting, their] of taken) {
    delete settings[setting];
    owners.delete(setting);
    for (const contribution of contributions) {
      if (!(setting in contribution.settings)) continue;
      conflicts.push({
        setting,
        winner: managedElsewhere.get(their)!,
        loser: contribution.resourceKey,
        winnerValue: theirValue(their) ?? null,
        loserValue: contribution.settings[setting],
        priority: contribution.priority,
        managedElsewhere: true,
        ...(their !== setting ? { overlaps: their } : {}),
      });
    }
  }
  return { settings, owners, conflicts };
}
