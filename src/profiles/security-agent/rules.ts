// The checks the security agent applies to a configuration it receives. An agent that finds an error keeps its
// previous configuration and sends a ConfigurationError event, so we must judge exactly as it does before
// anything is written to a twin.
import { parseIsoDuration } from './iso-duration.js';
import {
  type AgentSettings,
  EVENT_PRIORITIES,
  SETTINGS,
  SETTINGS_BY_KEY,
  type SettingValue,
} from './settings.js';

export type AgentErrorType = 'TypeMismatch' | 'NotOptimal' | 'Conflict';

export interface AgentProblem {
  /** The twin key of the setting at fault. */
  setting: string;
  errorType: AgentErrorType;
  /** NotOptimal is a warning: the agent still applies the configuration. */
  severity: 'error' | 'warning';
  message: string;
}

export const MIN_MESSAGE_SIZE = 8192;
export const MAX_MESSAGE_SIZE = 262144;
export const OPTIMAL_MESSAGE_SIZE_MULTIPLE = 4096;
export const MIN_CACHE_SIZE = 8192;
const SHA256 = /^[0-9a-fA-F]{64}$/;

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

// The agent's words for the rules the API server also judges on one resource (src/validation/crd-rules.ts builds
// its CEL messages from these same functions, so `kubectl apply` and `validate` print the same text).
export const notADurationMessage = (key: string, shown: string) =>
  `${key} ${shown} is not an ISO 8601 duration (e.g. PT7M, PT1H, P1D)`;
export const notLongerThanZeroMessage = (key: string, shown: string) =>
  `${key} ${shown} must be longer than zero`;
export const cacheBelowMessageSizeMessage = (cache: string, message: string) =>
  `maxLocalCacheSizeInBytes ${cache} is below maxMessageSizeInBytes ${message}; the cache must hold at least one message`;
export const highLongerThanLowMessage = (high: string, low: string) =>
  `highPriorityMessageFrequency ${high} is longer than lowPriorityMessageFrequency ${low}; high-priority messages must be sent at least as often`;

/** Type and range of one setting; undefined when it is fine. */
export function checkSettingValue(key: string, value: SettingValue): AgentProblem | undefined {
  const definition = SETTINGS_BY_KEY.get(key);
  if (!definition) return undefined;
  const mismatch = (message: string): AgentProblem => ({
    setting: key,
    errorType: 'TypeMismatch',
    severity: 'error',
    message,
  });
  switch (definition.kind) {
    case 'duration': {
      if (typeof value !== 'string')
        return mismatch(`${key} must be an ISO 8601 duration such as PT7M, not ${describe(value)}`);
      const ms = parseIsoDuration(value);
      if (ms === undefined) return mismatch(notADurationMessage(key, describe(value)));
      if (ms <= 0) return mismatch(notLongerThanZeroMessage(key, describe(value)));
      return undefined;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value))
        return mismatch(`${key} must be an integer, not ${describe(value)}`);
      return undefined;
    case 'priority':
      if (
        typeof value !== 'string' ||
        !EVENT_PRIORITIES.some((p) => p.toLowerCase() === value.toLowerCase())
      ) {
        return mismatch(`${key} must be one of High, Low, Off, not ${describe(value)}`);
      }
      return undefined;
    case 'boolean':
      if (typeof value !== 'boolean') return mismatch(`${key} must be true or false, not ${describe(value)}`);
      return undefined;
    case 'nullableString':
      if (value !== null && typeof value !== 'string')
        return mismatch(`${key} must be a string or null, not ${describe(value)}`);
      if (key === 'baselineCustomChecksFileHash' && typeof value === 'string' && !SHA256.test(value)) {
        return mismatch(`${key} must be a SHA-256 hash (64 hexadecimal digits), not ${describe(value)}`);
      }
      return undefined;
    case 'string':
      if (typeof value !== 'string') return mismatch(`${key} must be a string, not ${describe(value)}`);
      return undefined;
  }
}

/**
 * Every problem the agent would find in the configuration it would run. `effective` must hold every setting
 * (see effectiveSettings); the cross-setting rules are judged on those values.
 */
export function checkAgentSettings(effective: AgentSettings): AgentProblem[] {
  const problems: AgentProblem[] = [];
  for (const definition of SETTINGS) {
    const problem = checkSettingValue(definition.key, effective[definition.key] ?? definition.default);
    if (problem) problems.push(problem);
  }
  const invalid = new Set(problems.map((p) => p.setting));
  const usable = (key: string) => !invalid.has(key);

  const messageSize = effective.maxMessageSizeInBytes as number;
  if (usable('maxMessageSizeInBytes')) {
    if (messageSize < MIN_MESSAGE_SIZE || messageSize > MAX_MESSAGE_SIZE) {
      problems.push({
        setting: 'maxMessageSizeInBytes',
        errorType: 'TypeMismatch',
        severity: 'error',
        message: `maxMessageSizeInBytes ${messageSize} is outside the agent's range ${MIN_MESSAGE_SIZE}..${MAX_MESSAGE_SIZE}`,
      });
    } else if (messageSize % OPTIMAL_MESSAGE_SIZE_MULTIPLE !== 0) {
      problems.push({
        setting: 'maxMessageSizeInBytes',
        errorType: 'NotOptimal',
        severity: 'warning',
        message: `maxMessageSizeInBytes ${messageSize} is not a multiple of ${OPTIMAL_MESSAGE_SIZE_MULTIPLE}; the agent reports it as NotOptimal`,
      });
    }
  }
  const cacheSize = effective.maxLocalCacheSizeInBytes as number;
  if (usable('maxLocalCacheSizeInBytes')) {
    if (cacheSize < MIN_CACHE_SIZE) {
      problems.push({
        setting: 'maxLocalCacheSizeInBytes',
        errorType: 'TypeMismatch',
        severity: 'error',
        message: `maxLocalCacheSizeInBytes ${cacheSize} is below the agent's minimum ${MIN_CACHE_SIZE}`,
      });
    } else if (usable('maxMessageSizeInBytes') && cacheSize < messageSize) {
      problems.push({
        setting: 'maxLocalCacheSizeInBytes',
        errorType: 'Conflict',
        severity: 'error',
        message: cacheBelowMessageSizeMessage(String(cacheSize), String(messageSize)),
      });
    }
  }
  if (usable('highPriorityMessageFrequency') && usable('lowPriorityMessageFrequency')) {
    const high = effective.highPriorityMessageFrequency as string;
    const low = effective.lowPriorityMessageFrequency as string;
    if (parseIsoDuration(high)! > parseIsoDuration(low)!) {
      problems.push({
        setting: 'highPriorityMessageFrequency',
        errorType: 'Conflict',
        severity: 'error',
        message: highLongerThanLowMessage(high, low),
      });
    }
  }
  return problems;
}
