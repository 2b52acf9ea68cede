// One limiter per hub, shared by everything that talks to it: a token bucket per class of call, waited on in
// FIFO order. A 429 means the hub's quota is smaller than we thought (other clients share it), so the class's
// rate halves, down to a floor, and climbs back to nominal step by step while calls succeed.
import { type Quota, TokenBucket } from '../quotas/index.js';
import { type Clock, pause, systemClock } from '../runtime/clock.js';
import { followAbort, unfollowAbort } from '../runtime/follow-signal.js';
import { cancelledError } from './errors.js';
import { type HubRateLimits, LIMITER_CLASSES, type LimiterClass } from './rate-limits.js';

export interface AdaptationOptions {
  /** Share of the nominal rate kept free, so that our pacing and the hub's never meet exactly (0.05). */
  headroom: number;
  /** The burst allowed at once, as a share of one quota window (0.5: half the window's calls). */
  burstFraction: number;
  /** Factor applied to the rate on a 429 (0.5). */
  decreaseFactor: number;
  /** Lowest rate, as a share of nominal (0.1). */
  floorFraction: number;
  /** Rate added per recovery step, as a share of nominal (0.1). */
  recoveryStepFraction: number;
  /** Least time between recovery steps; a class recovers no faster than one step per window either. */
  recoveryIntervalMs: number;
}

export const DEFAULT_ADAPTATION: AdaptationOptions = {
  headroom: 0.02,
  burstFraction: 0.5,
  decreaseFactor: 0.5,
  floorFraction: 0.1,
  recoveryStepFraction: 0.1,
  recoveryIntervalMs: 2000,
};

/** Proof of a token: hand it back with the call's outcome so the limiter can adapt. */
export interface RatePermit {
  readonly limiterClass: LimiterClass;
  /** The rate generation the token was taken in; a 429 from an older generation was already answered. */
  readonly generation: number;
}

export interface RateClassState {
  nominalPerSecond: number;
  currentPerSecond: number;
  waiting: number;
  available: number;
}

interface Waiter {
  resolve(permit: RatePermit): void;
  reject(error: Error): void;
  detach(): void;
}

class ClassLimiter {
  private target: Quota;
  private rate: number;
  private bucket: TokenBucket;
  private generation = 0;
  private changedAt: number;
  private readonly queue: Waiter[] = [];
  private pumping = false;
  private pumpTimer?: AbortController;

  constructor(
    private readonly limiterClass: LimiterClass,
    quota: Quota,
    private readonly clock: Clock,
    private readonly adaptation: AdaptationOptions,
  ) {
    this.target = quota;
    this.rate = this.steadyLimit();
    this.bucket = this.bucketAt(this.rate);
    this.changedAt = clock.now();
  }

  acquire(abort: AbortSignal | undefined, what: () => string): Promise<RatePermit> {
    if (abort?.aborted) return Promise.reject(cancelledError(what()));
    if (this.queue.length === 0 && this.bucket.tryTake()) return Promise.resolve(this.permit());
    return new Promise<RatePermit>((resolve, reject) => {
      const onAbort = () => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        // Nobody left to serve: stop the pump's timer so that it does not hold the process open.
        if (this.queue.length === 0) this.pumpTimer?.abort();
        reject(cancelledError(what()));
      };
      // Followed, not listened to: the caller's signal is shared by every call waiting here (follow-signal.ts).
      const waiter: Waiter = {
        resolve,
        reject,
        detach: () => abort && unfollowAbort(abort, onAbort),
      };
      if (abort) followAbort(abort, onAbort);
      this.queue.push(waiter);
      void this.pump();
    });
  }

  throttled(permit: RatePermit): void {
    if (permit.generation !== this.generation) return;
    const floor = this.steadyLimit() * this.adaptation.floorFraction;
    this.setRate(Math.max(floor, this.rate * this.adaptation.decreaseFactor), 0);
  }

  succeeded(permit: RatePermit): void {
    const steady = this.steadyLimit();
    if (permit.generation !== this.generation || this.rate >= steady) return;
    const interval = Math.max(this.adaptation.recoveryIntervalMs, this.target.windowMs);
    if (this.clock.now() - this.changedAt < interval) return;
    const next = Math.min(steady, this.rate + steady * this.adaptation.recoveryStepFraction);
    this.setRate(next, this.bucket.available());
  }

  configure(quota: Quota): void {
    if (quota.limit === this.target.limit && quota.windowMs === this.target.windowMs) return;
    const share = this.rate / this.steadyLimit();
    this.target = quota;
    this.setRate(this.steadyLimit() * share, this.bucket.available());
  }

  state(): RateClassState {
    const perSecond = (limit: number) => (limit * 1000) / this.target.windowMs;
    return {
      nominalPerSecond: perSecond(this.target.limit),
      currentPerSecond: perSecond(this.rate),
      waiting: this.queue.length,
      available: this.bucket.available(),
    };
  }

  private steadyLimit(): number {
    return this.target.limit * (1 - this.adaptation.headroom);
  }

  private bucketAt(limit: number, tokens?: number): TokenBucket {
    const capacity = Math.max(1, Math.floor(limit * this.adaptation.burstFraction));
    return new TokenBucket({
      capacity,
      refillPerMs: limit / this.target.windowMs,
      clock: this.clock,
      initialTokens: tokens === undefined ? capacity : Math.min(tokens, capacity),
    });
  }

  private setRate(limit: number, tokens: number): void {
    this.rate = limit;
    this.bucket = this.bucketAt(limit, tokens);
    this.generation++;
    this.changedAt = this.clock.now();
  }

  private permit(): RatePermit {
    return { limiterClass: this.limiterClass, generation: this.generation };
  }

  /** Hands out tokens to waiters in order, sleeping exactly until the next token is due. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const wait = this.bucket.msUntilAvailable();
        if (wait > 0) {
          this.pumpTimer = new AbortController();
          await pause(this.clock, wait, this.pumpTimer.signal);
          continue;
        }
        this.bucket.tryTake();
        const waiter = this.queue.shift()!;
        waiter.detach();
        waiter.resolve(this.permit());
      }
    } finally {
      this.pumping = false;
      this.pumpTimer = undefined;
    }
  }
}

export interface HubRateLimiterOptions {
  clock?: Clock;
  adaptation?: Partial<AdaptationOptions>;
}

export class HubRateLimiter {
  private readonly classes: Map<LimiterClass, ClassLimiter>;

  constructor(
    readonly hubName: string,
    limits: HubRateLimits,
    options: HubRateLimiterOptions = {},
  ) {
    const clock = options.clock ?? systemClock;
    const adaptation = { ...DEFAULT_ADAPTATION, ...options.adaptation };
    this.classes = new Map(
      LIMITER_CLASSES.map((c) => [c, new ClassLimiter(c, limits[c], clock, adaptation)]),
    );
  }

  /** Waits for a token of the class; rejects with a HubError of kind 'Cancelled' when `abort` fires. */
  acquire(limiterClass: LimiterClass, options: { abort?: AbortSignal } = {}): Promise<RatePermit> {
    return this.classes
      .get(limiterClass)!
      .acquire(options.abort, () => `waiting for a ${limiterClass} token of hub ${this.hubName}`);
  }

  /** The hub answered 429 to a call made with `permit`: slow the class down (once per generation). */
  reportThrottled(permit: RatePermit): void {
    this.classes.get(permit.limiterClass)!.throttled(permit);
  }

  /** A call made with `permit` succeeded: the class may take a recovery step. */
  reportSuccess(permit: RatePermit): void {
    this.classes.get(permit.limiterClass)!.succeeded(permit);
  }

  /** New nominal rates (the IoTHub resource changed tier, units or rateLimits); adaptation is kept. */
  configure(limits: HubRateLimits): void {
    for (const c of LIMITER_CLASSES) this.classes.get(c)!.configure(limits[c]);
  }

  snapshot(): Record<LimiterClass, RateClassState> {
    return Object.fromEntries(LIMITER_CLASSES.map((c) => [c, this.classes.get(c)!.state()])) as Record<
      LimiterClass,
      RateClassState
    >;
  }
}

const sharedLimiters = new Map<string, { limiter: HubRateLimiter; users: number }>();

/**
 * The limiter of a hub shared by every client of it in this process (keyed by host name, case-insensitively),
 * created on first use. Later callers with other limits reconfigure it: the quota belongs to the hub, not to a
 * caller. Each call counts as a user until `releaseSharedHubRateLimiter`; the last release drops it.
 */
export function sharedHubRateLimiter(
  hubName: string,
  limits: HubRateLimits,
  options: HubRateLimiterOptions = {},
): HubRateLimiter {
  const key = hubName.toLowerCase();
  const existing = sharedLimiters.get(key);
  if (existing) {
    existing.limiter.configure(limits);
    existing.users++;
    return existing.limiter;
  }
  const limiter = new HubRateLimiter(hubName, limits, options);
  sharedLimiters.set(key, { limiter, users: 1 });
  return limiter;
}

/** One user of the hub's shared limiter is done with it (its client closed). */
export function releaseSharedHubRateLimiter(hubName: string): void {
  const key = hubName.toLowerCase();
  const entry = sharedLimiters.get(key);
  if (entry && --entry.users <= 0) sharedLimiters.delete(key);
}
