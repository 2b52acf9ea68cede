// IoT Hub operation quotas by tier and unit count (../shared/reference/iot-hub.md, section 4).

export const HUB_TIERS = ['F1', 'S1', 'S2', 'S3'] as const;
export type HubTier = (typeof HUB_TIERS)[number];

/** The classes of operation the hub throttles separately. */
export const OPERATION_CLASSES = [
  'registry',
  'twinRead',
  'twinUpdate',
  'query',
  'jobs',
  'jobDeviceOperations',
  'configurations',
] as const;
export type OperationClass = (typeof OPERATION_CLASSES)[number];

/** At most `limit` operations per `windowMs`. */
export interface Quota {
  limit: number;
  windowMs: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

type QuotaRule = (units: number) => Quota;

const perMinutePerUnit =
  (amount: number): QuotaRule =>
  (units) => ({ limit: amount * units, windowMs: MINUTE });
const perSecond =
  (amount: number): QuotaRule =>
  () => ({ limit: amount, windowMs: SECOND });
const perSecondPerUnit =
  (amount: number): QuotaRule =>
  (units) => ({ limit: amount * units, windowMs: SECOND });
/** S2's rule: the higher of a fixed floor and a per-unit rate. */
const perSecondAtLeast =
  (floor: number, perUnit: number): QuotaRule =>
  (units) => ({ limit: Math.max(floor, perUnit * units), windowMs: SECOND });

const STANDARD: Record<OperationClass, QuotaRule> = {
  registry: perMinutePerUnit(100),
  twinRead: perSecond(100),
  twinUpdate: perSecond(50),
  query: perMinutePerUnit(20),
  jobs: perMinutePerUnit(100),
  jobDeviceOperations: perSecond(10),
  configurations: perMinutePerUnit(20),
};

const RULES: Record<HubTier, Record<OperationClass, QuotaRule>> = {
  F1: STANDARD,
  S1: STANDARD,
  S2: {
    ...STANDARD,
    twinRead: perSecondAtLeast(100, 10),
    twinUpdate: perSecondAtLeast(50, 5),
    jobDeviceOperations: perSecondAtLeast(10, 1),
  },
  S3: {
    registry: perMinutePerUnit(5000),
    twinRead: perSecondPerUnit(500),
    twinUpdate: perSecondPerUnit(250),
    query: perMinutePerUnit(1000),
    jobs: perMinutePerUnit(5000),
    jobDeviceOperations: perSecondPerUnit(50),
    configurations: perMinutePerUnit(20),
  },
};

const MAX_CONCURRENT_JOBS: Record<HubTier, number> = { F1: 1, S1: 1, S2: 5, S3: 10 };
const MAX_UNITS: Record<HubTier, number> = { F1: 1, S1: 200, S2: 200, S3: 10 };

export function isHubTier(value: string): value is HubTier {
  return (HUB_TIERS as readonly string[]).includes(value);
}

/** Why a tier and unit count cannot exist, or undefined when they can. */
export function checkTierUnits(tier: HubTier, units: number): string | undefined {
  if (!Number.isInteger(units) || units < 1)
    return `units must be a whole number of at least 1, not ${units}`;
  if (units > MAX_UNITS[tier]) return `a ${tier} hub has at most ${MAX_UNITS[tier]} units, not ${units}`;
  return undefined;
}

/** The quota of one operation class on a hub of the given tier and units. */
export function quotaFor(tier: HubTier, units: number, operation: OperationClass): Quota {
  return RULES[tier][operation](units);
}

/** Every operation class's quota on a hub of the given tier and units. */
export function hubQuotas(tier: HubTier, units: number): Record<OperationClass, Quota> {
  return Object.fromEntries(OPERATION_CLASSES.map((op) => [op, quotaFor(tier, units, op)])) as Record<
    OperationClass,
    Quota
  >;
}

/** How many jobs may be active (queued, scheduled or running) at once. */
export function maxConcurrentJobs(tier: HubTier): number {
  return MAX_CONCURRENT_JOBS[tier];
}
