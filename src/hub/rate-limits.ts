// The rate each class of call may use on one hub: the tier's quota (src/quotas) unless the IoTHub resource
// overrides it.
import type { RateLimits } from '../api/generated/types.js';
import { checkTierUnits, type HubTier, isHubTier, type Quota, quotaFor } from '../quotas/index.js';
import { HubError } from './errors.js';

/** The classes the client paces separately; each maps to one of the hub's throttled operation classes. */
export const LIMITER_CLASSES = ['twinRead', 'twinUpdate', 'query', 'identity', 'job'] as const;
export type LimiterClass = (typeof LIMITER_CLASSES)[number];

export type HubRateLimits = Record<LimiterClass, Quota>;

/** The IoTHub resource's `rateLimits`: each replaces the tier's value. */
export type RateLimitOverrides = RateLimits;

const SECOND = 1000;
const MINUTE = 60 * SECOND;

function override(
  hubName: string,
  name: keyof RateLimitOverrides,
  value: number | undefined,
  windowMs: number,
) {
  if (value === undefined) return undefined;
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new HubError({
      kind: 'Configuration',
      hubName,
      message: `rateLimits.${name} for hub ${hubName} must be a number above 0, not ${String(value)}`,
    });
  }
  return { limit: value, windowMs };
}

/** Each class's nominal rate for a hub of `tier` with `units`, with the overrides applied. */
export function rateLimitsFor(
  hubName: string,
  tier: string,
  units: number,
  overrides: RateLimitOverrides = {},
): HubRateLimits {
  if (!isHubTier(tier)) {
    throw new HubError({
      kind: 'Configuration',
      hubName,
      message: /^B[123]$/.test(tier)
        ? `hub ${hubName}: tier ${tier} is a basic tier, which has no device or module twins; use F1, S1, S2 or S3`
        : `hub ${hubName}: tier ${tier} is not one of F1, S1, S2, S3`,
    });
  }
  const unitProblem = checkTierUnits(tier as HubTier, units);
  if (unitProblem)
    throw new HubError({ kind: 'Configuration', hubName, message: `hub ${hubName}: ${unitProblem}` });
  return {
    twinRead:
      override(hubName, 'twinReadsPerSecond', overrides.twinReadsPerSecond, SECOND) ??
      quotaFor(tier, units, 'twinRead'),
    twinUpdate:
      override(hubName, 'twinUpdatesPerSecond', overrides.twinUpdatesPerSecond, SECOND) ??
      quotaFor(tier, units, 'twinUpdate'),
    query:
      override(hubName, 'queriesPerMinute', overrides.queriesPerMinute, MINUTE) ??
      quotaFor(tier, units, 'query'),
    identity:
      override(hubName, 'identityOperationsPerMinute', overrides.identityOperationsPerMinute, MINUTE) ??
      quotaFor(tier, units, 'registry'),
    job: quotaFor(tier, units, 'jobs'),
  };
}

/** Milliseconds of a class's quota one call uses up (a query on S1: 3,000; a twin read: 10). */
export function quotaCostMs(quota: Quota): number {
  return quota.windowMs / quota.limit;
}
