// The hub client: HubAccess over azure-iothub, as a pipeline of rate limit -> retry -> transport.
export { type HubClock, systemClock } from './clock.js';
export { type HubConnectionString, parseHubConnectionString } from './connection-string.js';
export { HubError, type HubErrorKind, isHubError, parseHubErrorBody, toHubError } from './errors.js';
export {
  createHubClient,
  HubClient,
  type HubClientOptions,
  type HubClientSnapshot,
  type HubRegistry,
} from './hub-client.js';
export type { CallOptions, HubAccess } from './hub-client-api.js';
export { chooseModuleReadStrategy, MAX_QUERY_PAGE_SIZE, moduleQueryBatches } from './module-reads.js';
export {
  type AdaptationOptions,
  DEFAULT_ADAPTATION,
  HubRateLimiter,
  type RatePermit,
  sharedHubRateLimiter,
} from './rate-limiter.js';
export {
  type HubRateLimits,
  LIMITER_CLASSES,
  type LimiterClass,
  type RateLimitOverrides,
  rateLimitsFor,
} from './rate-limits.js';
export {
  backoffDelayMs,
  DEFAULT_RETRY,
  isRetryable,
  type RetryOptions,
  retryDelayMs,
  withRetry,
} from './retry.js';
export { HubTelemetry, type HubTelemetrySnapshot } from './telemetry.js';
export { deviceRecordFromJson, moduleTwinFromJson, patchIsApplied } from './twin-mapping.js';
