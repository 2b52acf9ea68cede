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
}

export type HubTelemetrySnapshot = Record<LimiterClass, HubClassCounters>;

export class HubTelemetry {
  private counters = HubTelemetry.empty();

  private static empty(): HubTelemetrySnapshot {
    return Object.fromEntries(
      LIMITER_CLASSES.map((c) => [c, { calls: {}, attempts: 0, retries: 0, throttled: 0 }]),
    ) as HubTelemetrySnapshot;
  }

  recordCall(limiterClass: LimiterClass, result: CallResult): void {
    const calls = this.counters[limiterClass].calls;
    calls[result] = (calls[result] ?? 0) + 1;
  }

  recordAttempt(limiterClass: LimiterClass): void {
    this.counters[limiterClass].attempts++;
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
