// A token bucket: `capacity` tokens at most, refilled continuously at `limit` per `windowMs`.
import { type Clock, systemClock } from '../runtime/clock.js';
import type { Quota } from './tiers.js';

export interface TokenBucketOptions {
  /** The most tokens the bucket holds (the burst a caller may spend at once). */
  capacity: number;
  /** Tokens added per millisecond. */
  refillPerMs: number;
  /** Injectable so tests control time (the system clock by default). */
  clock?: Pick<Clock, 'now'>;
  /** Tokens at creation; a full bucket by default. */
  initialTokens?: number;
}

export class TokenBucket {
  readonly capacity: number;
  readonly refillPerMs: number;
  private readonly clock: Pick<Clock, 'now'>;
  private tokens: number;
  private updatedAt: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.capacity > 0)) throw new RangeError(`capacity must be above 0, not ${options.capacity}`);
    if (!(options.refillPerMs > 0))
      throw new RangeError(`refillPerMs must be above 0, not ${options.refillPerMs}`);
    this.capacity = options.capacity;
    this.refillPerMs = options.refillPerMs;
    this.clock = options.clock ?? systemClock;
    this.tokens = Math.min(options.initialTokens ?? options.capacity, options.capacity);
    this.updatedAt = this.clock.now();
  }

  /** A bucket that allows a quota's whole window at once, then its steady rate. */
  static forQuota(quota: Quota, clock?: Pick<Clock, 'now'>): TokenBucket {
    return new TokenBucket({ capacity: quota.limit, refillPerMs: quota.limit / quota.windowMs, clock });
  }

  /** Tokens available now (fractional while refilling). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes `count` tokens if they are all there; takes nothing otherwise. */
  tryTake(count = 1): boolean {
    this.refill();
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** Milliseconds until `count` tokens are available (0 when they are now). */
  msUntilAvailable(count = 1): number {
    if (count > this.capacity) return Number.POSITIVE_INFINITY;
    this.refill();
    return this.tokens >= count ? 0 : Math.ceil((count - this.tokens) / this.refillPerMs);
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.refillPerMs);
      this.updatedAt = now;
    }
  }
}
