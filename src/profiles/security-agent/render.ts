// From a resource's spec.agentConfiguration to the settings it manages (and back), and to the twin's object.
import type { AgentConfiguration } from '../../api/generated/types.js';
import {
  AGGREGATED_EVENTS,
  type AgentSettings,
  EVENT_NAMES,
  SETTINGS,
  SETTINGS_BY_KEY,
  type SettingValue,
} from './settings.js';
import { type TwinAgentConfiguration, wrapSettings } from './twin-configuration.js';

/** The settings a resource names, keyed by twin key; settings it leaves out are absent. */
export function agentSettingsOf(config: AgentConfiguration): AgentSettings {
  const settings: AgentSettings = {};
  const put = (key: string, value: SettingValue | undefined) => {
    if (value !== undefined) settings[key] = value;
  };
  put('highPriorityMessageFrequency', config.highPriorityMessageFrequency);
  put('lowPriorityMessageFrequency', config.lowPriorityMessageFrequency);
  put('snapshotFrequency', config.snapshotFrequency);
  put('maxLocalCacheSizeInBytes', config.maxLocalCacheSizeInBytes);
  put('maxMessageSizeInBytes', config.maxMessageSizeInBytes);
  for (const event of EVENT_NAMES) put(`eventPriority${event}`, config.eventPriorities?.[event]);
  for (const event of AGGREGATED_EVENTS) {
    put(`aggregationEnabled${event}`, config.aggregation?.[event]?.enabled);
    put(`aggregationInterval${event}`, config.aggregation?.[event]?.interval);
  }
  put('baselineCustomChecksEnabled', config.baselineCustomChecks?.enabled);
  put('baselineCustomChecksFilePath', config.baselineCustomChecks?.filePath);
  put('baselineCustomChecksFileHash', config.baselineCustomChecks?.fileHash);
  put('hubResourceId', config.hubResourceId);
  return settings;
}

/**
 * The inverse of agentSettingsOf: settings keyed by twin key as a resource's spec.agentConfiguration, nested
 * by each setting's field path, in the catalogue's order (so that equal settings always render alike).
 */
export function agentConfigurationOf(settings: AgentSettings): AgentConfiguration {
  const configuration: Record<string, unknown> = {};
  for (const definition of SETTINGS) {
    if (!Object.hasOwn(settings, definition.key)) continue;
    const segments = definition.fieldPath.split('.');
    let node = configuration;
    for (const segment of segments.slice(0, -1)) {
      node[segment] ??= {};
      node = node[segment] as Record<string, unknown>;
    }
    node[segments[segments.length - 1]] = settings[definition.key];
  }
  return configuration as AgentConfiguration;
}

/** The twin's `ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration` object for a resource's settings. */
export function renderAgentConfiguration(config: AgentConfiguration): TwinAgentConfiguration {
  return wrapSettings(agentSettingsOf(config));
}

/** The field path under a resource for a twin setting key, e.g. `spec.agentConfiguration.eventPriorities.Login`. */
export function settingFieldPath(key: string): string {
  const definition = SETTINGS_BY_KEY.get(key);
  return definition ? `spec.agentConfiguration.${definition.fieldPath}` : 'spec.agentConfiguration';
}
