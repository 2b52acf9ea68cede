// The security agent's settings as they appear in the module twin, with the agent's defaults
// (../shared/reference/iot-hub.md, section 1).

export const SECURITY_MODULE_ID = 'azureiotsecurity';
export const AGENT_CONFIGURATION_KEY = 'ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration';

export const EVENT_NAMES = [
  'ListeningPorts',
  'LocalUsers',
  'Login',
  'ConnectedHardware',
  'ProcessCreate',
  'ProcessTerminate',
  'SystemInformation',
  'ConnectionCreate',
  'FirewallConfiguration',
  'OSBaseline',
  'ConfigurationError',
  'DroppedEventsStatistics',
  'MessageStatistics',
  'Diagnostic',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export const AGGREGATED_EVENTS = ['ProcessCreate', 'ConnectionCreate', 'ProcessTerminate'] as const;

export const EVENT_PRIORITIES = ['High', 'Low', 'Off'] as const;
export type EventPriority = (typeof EVENT_PRIORITIES)[number];

/** A plain setting value, as carried inside `{"value": ...}` in the twin. */
export type SettingValue = string | number | boolean | null;

export type SettingKind = 'duration' | 'integer' | 'priority' | 'boolean' | 'nullableString' | 'string';

export interface SettingDefinition {
  key: string;
  kind: SettingKind;
  default: SettingValue;
  /** Where the setting lives under spec.agentConfiguration. */
  fieldPath: string;
}

const HIGH_BY_DEFAULT = new Set<EventName>(['ListeningPorts', 'LocalUsers', 'Login']);

function define(
  key: string,
  kind: SettingKind,
  defaultValue: SettingValue,
  fieldPath: string,
): SettingDefinition {
  return { key, kind, default: defaultValue, fieldPath };
}

export const SETTINGS: readonly SettingDefinition[] = [
  define('highPriorityMessageFrequency', 'duration', 'PT7M', 'highPriorityMessageFrequency'),
  define('lowPriorityMessageFrequency', 'duration', 'PT5H', 'lowPriorityMessageFrequency'),
  define('snapshotFrequency', 'duration', 'PT13H', 'snapshotFrequency'),
  define('maxLocalCacheSizeInBytes', 'integer', 2560000, 'maxLocalCacheSizeInBytes'),
  define('maxMessageSizeInBytes', 'integer', 204800, 'maxMessageSizeInBytes'),
  ...EVENT_NAMES.map((event) =>
    define(
      `eventPriority${event}`,
      'priority',
      HIGH_BY_DEFAULT.has(event) ? 'High' : 'Low',
      `eventPriorities.${event}`,
    ),
  ),
  ...AGGREGATED_EVENTS.flatMap((event) => [
    define(`aggregationEnabled${event}`, 'boolean', true, `aggregation.${event}.enabled`),
    define(`aggregationInterval${event}`, 'duration', 'PT1H', `aggregation.${event}.interval`),
  ]),
  define('baselineCustomChecksEnabled', 'boolean', false, 'baselineCustomChecks.enabled'),
  define('baselineCustomChecksFilePath', 'nullableString', null, 'baselineCustomChecks.filePath'),
  define('baselineCustomChecksFileHash', 'nullableString', null, 'baselineCustomChecks.fileHash'),
  define('hubResourceId', 'string', '', 'hubResourceId'),
];

export const SETTINGS_BY_KEY: ReadonlyMap<string, SettingDefinition> = new Map(
  SETTINGS.map((s) => [s.key, s]),
);

/** Settings keyed by their twin key (e.g. `eventPriorityLogin`), unwrapped. */
export type AgentSettings = Record<string, SettingValue>;

/** The configuration an agent runs when its twin names nothing: every setting at its default. */
export function agentDefaults(): AgentSettings {
  return Object.fromEntries(SETTINGS.map((s) => [s.key, s.default]));
}

/** The settings an agent would run: the given ones over the defaults. */
export function effectiveSettings(settings: AgentSettings): AgentSettings {
  return { ...agentDefaults(), ...settings };
}
