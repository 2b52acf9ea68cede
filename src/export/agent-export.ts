// Export of the security agent's configuration into SecurityModuleConfigs: from each `azureiotsecurity` module
// twin, the settings of its desired configuration that the chosen manager may take over, unwrapped and in
// canonical form (or why the twin gives none); the message frequencies and the sizes are chosen as pairs the
// agent accepts.
import { readOwnership } from '../planner/ownership.js';
import {
  AGENT_CONFIGURATION_KEY,
  type AgentSettings,
  agentConfigurationOf,
  checkAgentSettings,
  EVENT_PRIORITIES,
  effectiveSettings,
  SETTINGS_BY_KEY,
  type SettingValue,
  unwrapTwinConfiguration,
} from '../profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../profiles/security-agent/profile.js';
import type { ManagedTwin } from '../twins/types.js';
import type { ExportKind } from './export-kind.js';
import { type TwinSettings, unclaimedSettings } from './settings.js';

/** What export reads of a security module twin: its tags and the agent's desired configuration object. */
export interface AgentTwinView {
  tags: Record<string, unknown>;
  desiredConfiguration: unknown;
}

/** The agent's view of a security module twin. */
export function agentTwinView(twin: ManagedTwin): AgentTwinView {
  return { tags: twin.tags, desiredConfiguration: twin.desired[AGENT_CONFIGURATION_KEY] };
}

/** Event priorities as the API spells them: agents accept any case, the schema only High, Low and Off. */
function canonicalPriority(key: string, value: SettingValue): SettingValue {
  if (SETTINGS_BY_KEY.get(key)?.kind !== 'priority' || typeof value !== 'string') return value;
  return EVENT_PRIORITIES.find((p) => p.toLowerCase() === value.toLowerCase()) ?? value;
}

/**
 * The settings `manager` may export from a twin: those no ownership record claims and those its own record
 * claims. A configuration the agent would refuse as it stands is `rejected`.
 */
export function twinSettings(twin: AgentTwinView, manager: string): TwinSettings {
  const { settings, problems } = unwrapTwinConfiguration(twin.desiredConfiguration);
  const error = problems.find((p) => p.severity === 'error');
  if (error) return { kind: 'rejected', reason: error.message };
  const canonical = Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [key, canonicalPriority(key, value)]),
  );
  const { managedElsewhere } = readOwnership(twin.tags, manager);
  return unclaimedSettings(canonical, (key) => managedElsewhere.get(key));
}

export const agentExport: ExportKind = {
  resourceKind: 'SecurityModuleConfig',
  slot: SECURITY_MODULE_ID,
  read: (twin, manager) => twinSettings(agentTwinView(twin), manager),
  // Each resource must pass alone over the agent's defaults, as `validate` judges it.
  coupling: {
    pairs: [
      ['highPriorityMessageFrequency', 'lowPriorityMessageFrequency'],
      ['maxMessageSizeInBytes', 'maxLocalCacheSizeInBytes'],
    ],
    accepts: (values) =>
      !checkAgentSettings(effectiveSettings(values as AgentSettings)).some((p) => p.severity === 'error'),
  },
  spec: (settings) => ({ agentConfiguration: agentConfigurationOf(settings as AgentSettings) }),
  nameWords: [],
  targetsByModel: false,
  words: {
    twins: 'security module twins',
    noModule: 'without the security module',
    noConfiguration: 'without a configuration',
    rejected: 'whose configuration the agent or the API would refuse',
  },
};
