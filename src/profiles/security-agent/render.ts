// From a resource's spec.agentConfiguration to the settings it manages, and to the twin's object.
import type { AgentConfiguration } from '../../api/generated/types.js';
import {
  AGGREGATED_EVENTS,
  type AgentSettings,
  EVENT_NAMES,
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

/** The twin's `ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration` object for a resource's settings. */
export function renderAgentConfiguration(config: AgentConfiguration): TwinAgentConfiguration {
  return wrapSettings(agentSettingsOf(config));
}

/** The field path under a resource for a twin setting key, e.g. `spec.agentConfiguration.eventPriorities.Login`. */
export function settingFieldPath(key: string): string {
  const definition = SETTINGS_BY_KEY.get(key);
  return definition ? `spec.agentConfiguration.${definition.fieldPath}` : 'spec.agentConfiguration';
}
