// What export takes from one security module twin: the settings of its desired configuration that the chosen
// manager may take over, unwrapped and in canonical form, or why the twin contributes nothing.

import { readOwnership } from '../planner/ownership.js';
import {
  AGENT_CONFIGURATION_KEY,
  type AgentSettings,
  EVENT_PRIORITIES,
  SETTINGS_BY_KEY,
  type SettingValue,
  unwrapTwinConfiguration,
} from '../profiles/security-agent/index.js';
import type { ManagedTwin } from '../twins/types.js';

/** What export reads of a security module twin: its tags and the agent's desired configuration object. */
export interface AgentTwinView {
  tags: Record<string, unknown>;
  desiredConfiguration: unknown;
}

/** The agent's view of a security module twin. */
export function agentTwinView(twin: ManagedTwin): AgentTwinView {
  return { tags: twin.tags, desiredConfiguration: twin.desired[AGENT_CONFIGURATION_KEY] };
}

export type TwinSettings =
  | {
      kind: 'settings';
      settings: AgentSettings;
      /** Managers whose settings on this twin were left out. */
      othersLeftOut: string[];
    }
  /** No desired configuration, or one that names no setting. */
  | { kind: 'noConfiguration' }
  /** Every setting it carries belongs to other managers. */
  | { kind: 'managedElsewhere'; managers: string[] }
  /** The agent would refuse the configuration as it stands: reproducing it would be refused too. */
  | { kind: 'rejected'; reason: string };

/** Event priorities as the API spells them: agents accept any case, the schema only High, Low and Off. */
function canonicalValue(key: string, value: SettingValue): SettingValue {
  if (SETTINGS_BY_KEY.get(key)?.kind !== 'priority' || typeof value !== 'string') return value;
  return EVENT_PRIORITIES.find((p) => p.toLowerCase() === value.toLowerCase()) ?? value;
}

/**
 * The settings `manager` may export from a twin: those no ownership record claims and those its own record
 * claims. Settings another manager's record claims are theirs: `sync --manager` would never write them.
 */
export function twinSettings(twin: AgentTwinView, manager: string): TwinSettings {
  const { settings, problems } = unwrapTwinConfiguration(twin.desiredConfiguration);
  const error = problems.find((p) => p.severity === 'error');
  if (error) return { kind: 'rejected', reason: error.message };
  const keys = Object.keys(settings);
  if (keys.length === 0) return { kind: 'noConfiguration' };
  const { managedElsewhere } = readOwnership(twin.tags, manager);
  const kept: AgentSettings = {};
  const others = new Set<string>();
  for (const key of keys.sort()) {
    const owner = managedElsewhere.get(key);
    if (owner === undefined) kept[key] = canonicalValue(key, settings[key]);
    else others.add(owner.slice(0, owner.indexOf(':')));
  }
  const managers = [...others].sort();
  if (Object.keys(kept).length === 0) return { kind: 'managedElsewhere', managers };
  return { kind: 'settings', settings: kept, othersLeftOut: managers };
}

/** One text per distinct configuration: keys sorted, values as JSON. */
export function settingsFingerprint(settings: AgentSettings): string {
  return JSON.stringify(Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
