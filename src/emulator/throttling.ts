// The hub's quotas as token buckets, one per operation class, for a tier and unit count, with optional
// overrides of single classes.
import {
  type HubTier,
  hubQuotas,
  OPERATION_CLASSES,
  type OperationClass,
  type Quota,
  TokenBucket,
} from '../quotas/index.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { hubErrors } from './errors.js';

/** Quotas that replace the tier's for some operation classes. */
export type QuotaOverrides = Partial<Record<OperationClass, Quota>>;

function isOperationClass(value: string): value is OperationClass {
  return (OPERATION_CLASSES as readonly string[]).includes(value);
}

/** Validates quota overrides; throws a RangeError naming the bad class or quota. */
export function checkQuotaOverrides(overrides: unknown): QuotaOverrides {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new RangeError('quotas must be an object keyed by operation class');
  }
  for (const [operation, quota] of Object.entries(overrides)) {
    if (!isOperationClass(operation)) {
      throw new RangeError(
        `unknown operation class '${operation}' in quotas; use one of ${OPERATION_CLASSES.join(', ')}`,
      );
    }
    if (quota === undefined) continue;
    const { limit, windowMs } = (quota ?? {}) as Partial<Quota>;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`quotas.${operation}.limit must be a whole number of at least 1, not ${limit}`);
    }
    if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0) {
      throw new RangeError(`quotas.${operation}.windowMs must be a number above 0, not ${windowMs}`);
    }
  }
  return overrides as QuotaOverrides;
}

/** A quota as people write it: `20/s`, `100/min`, or `5/250ms`. */
export function describeQuota(quota: Quota): string {
  if (quota.windowMs === 1000) return `${quota.limit}/s`;
  if (quota.windowMs === 60_000) return `${quota.limit}/min`;
  return `${quota.limit}/${quota.windowMs}ms`;
}

export class HubThrottle {
  /** The quota of each class: the tier's, or its override. */
  readonly quotas: Readonly<Record<OperationClass, Quota>>;
  private readonly buckets: Map<OperationClass, TokenBucket>;
  /** Classes whose quota applies: all of them when throttling is on, only overridden ones when it is off. */
  private readonly enforced: ReadonlySet<OperationClass>;

  constructor(
    readonly tier: HubTier,
    readonly units: number,
    /** The tier's quotas on or off; overridden classes are throttled either way. */
    readonly enabled: boolean,
    clock: Pick<Clock, 'now'> = systemClock,
    overrides: QuotaOverrides = {},
  ) {
    checkQuotaOverrides(overrides);
    const quotas = { ...hubQuotas(tier, units) };
    for (const op of OPERATION_CLASSES) {
      const override = overrides[op];
      if (override) quotas[op] = { limit: override.limit, windowMs: override.windowMs };
    }
    this.quotas = quotas;
    this.buckets = new Map(OPERATION_CLASSES.map((op) => [op, TokenBucket.forQuota(quotas[op], clock)]));
    this.enforced = new Set(OPERATION_CLASSES.filter((op) => enabled || overrides[op] !== undefined));
  }

  /** Takes one operation's token; throws the hub's 429 when the class is over its quota. */
  admit(operation: OperationClass): void {
    if (!this.enforced.has(operation)) return;
    const bucket = this.buckets.get(operation)!;
    if (!bucket.tryTake()) throw hubErrors.throttled(operation, bucket.msUntilAvailable() / 1000);
  }

  /** Milliseconds until the class has `count` tokens again (jobs pace their device operations with it). */
  msUntilAvailable(operation: OperationClass, count = 1): number {
    return this.enforced.has(operation) ? this.buckets.get(operation)!.msUntilAvailable(count) : 0;
  }

  /** Takes a token if there is one, without failing (for the hub's own paced work). */
  tryTake(operation: OperationClass): boolean {
    return !this.enforced.has(operation) || this.buckets.get(operation)!.tryTake();
  }
}
