// Counters of the calls a client made to its hub, by class and result, as a plain object the metrics
// exporter can read.
import type { HubErrorKind } from './errors.js';
import { LIMITER_CLASSES, type LimiterClass } from './rate-limits.js';

export type CallResult = 'ok' | HubErrorKind;

export interface HubClassCounters {
  /** Finished calls by result: `ok` or the kind of the error the caller got. */
  calls: Partial<Record<CallResult, number>>;
  /** Requests sent (a call with two retries is three attempts). */
  attempts: number;
  retries: number;
  /** 429 answers, retried or not. */
  throttled: number;
  /** Attempts by how they ended: the HTTP status, or `network` when no answer came. */
  answers: Record<string, number>;
  /** Time spent waiting for the rate limiter, in seconds. */
  rateLimiterWaitSeconds: number;
}

/** Attempts in a row without an answer that make an outage (one reset in a burst of writes is none). */
export const OUTAGE_ATTEMPTS = 3;

export type HubTelemetrySnapshot = Record<LimiterClass, HubClassCounters>;

export class HubTelemetry {
  private counters = HubTelemetry.empty();
  /** Attempts in a row that got no answer at all (refused, reset, timed out); an answer starts it over. */
  private unansweredInARow = 0;
  private outageCount = 0;

  /**
   * Times the hub went away since the client was made (OUTAGE_ATTEMPTS attempts in a row without an answer); never
   * reset. A hub that went away may come back without the writes it acknowledged last (a failover, a restart).
   */
  get outages(): number {
    return this.outageCount;
  }

  private static empty(): HubTelemetrySnapshot {
    return Object.fromEntries(
      LIMITER_CLASSES.map((c) => [
        c,
        { calls: {}, attempts: 0, retries: 0, throttled: 0, answers: {}, rateLimiterWaitSeconds: 0 },
      ]),
    ) as HubTelemetrySnapshot;
  }

  recordCall(limiterClass: LimiterClass, result: CallResult): void {
    const calls = this.counters[limiterClass].calls;
    calls[result] = (calls[result] ?? 0) + 1;
  }

  recordAttempt(limiterClass: LimiterClass): void {
    this.counters[limiterClass].attempts++;
  }

  /** How one attempt ended: the hub's HTTP status, or no answer at all. */
  recordAnswer(limiterClass: LimiterClass, status: number | 'network'): void {
    if (status !== 'network') this.unansweredInARow = 0;
    else if (++this.unansweredInARow === OUTAGE_ATTEMPTS) this.outageCount++;
    const answers = this.counters[limiterClass].answers;
    answers[String(status)] = (answers[String(status)] ?? 0) + 1;
  }

  recordWait(limiterClass: LimiterClass, ms: number): void {
    this.counters[limiterClass].rateLimiterWaitSeconds += ms / 1000;
  }

  recordRetry(limiterClass: LimiterClass): void {
    this.counters[limiterClass].retries++;
  }

  recordThrottled(limiterClass: LimiterClass): void {
    this.counters[limiterClass].throttled++;
  }

  snapshot(): HubTelemetrySnapshot {
    return structuredClone(this.counters);
  }

  reset(): void {
    this.counters = HubTelemetry.empty();
  }
}

/** The sum of several snapshots (clients of one hub over time). */
export function addTelemetry(into: HubTelemetrySnapshot, from: HubTelemetrySnapshot): void {
  for (const c of LIMITER_CLASSES) {
    const a = into[c];
    const b = from[c];
    a.attempts += b.attempts;
    a.retries += b.retries;
    a.throttled += b.throttled;
    a.rateLimiterWaitSeconds += b.rateLimiterWaitSeconds;
    for (const [k, n] of Object.entries(b.calls))
      a.calls[k as CallResult] = (a.calls[k as CallResult] ?? 0) + (n ?? 0);
    for (const [k, n] of Object.entries(b.answers)) a.answers[k] = (a.answers[k] ?? 0) + n;
  }
}

export function emptyTelemetry(): HubTelemetrySnapshot {
  return new HubTelemetry().snapshot();
}
