// The hub's quotas as token buckets, one per operation class, for a tier and unit count.
import {
  type Clock,
  type HubTier,
  hubQuotas,
  OPERATION_CLASSES,
  type OperationClass,
  TokenBucket,
} from '../quotas/index.js';
import { hubErrors } from './errors.js';

export class HubThrottle {
  private readonly buckets: Map<OperationClass, TokenBucket>;

  constructor(
    readonly tier: HubTier,
    readonly units: number,
    readonly enabled: boolean,
    clock: Clock = Date.now,
  ) {
    const quotas = hubQuotas(tier, units);
    this.buckets = new Map(OPERATION_CLASSES.map((op) => [op, TokenBucket.forQuota(quotas[op], clock)]));
  }

  /** Takes one operation's token; throws the hub's 429 when the class is over its quota. */
  admit(operation: OperationClass): void {
    if (!this.enabled) return;
    const bucket = this.buckets.get(operation)!;
    if (!bucket.tryTake()) throw hubErrors.throttled(operation, bucket.msUntilAvailable() / 1000);
  }

  /** Milliseconds until the class has a token again (jobs pace their device operations with it). */
  msUntilAvailable(operation: OperationClass): number {
    return this.enabled ? this.buckets.get(operation)!.msUntilAvailable() : 0;
  }

  /** Takes a token if there is one, without failing (for the hub's own paced work). */
  tryTake(operation: OperationClass): boolean {
    return !this.enabled || this.buckets.get(operation)!.tryTake();
  }
}
