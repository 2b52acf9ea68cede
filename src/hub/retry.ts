// Retries with exponential backoff and full jitter (runtime/backoff.ts), capped, for the answers after which the
// same request can succeed: 408, 429, 5xx and dropped connections. Other 4xx are answers, not accidents, and are
// returned.
import { type BackoffPolicy, backoffDelayMs } from '../runtime/backoff.js';
import { type Clock, pause } from '../runtime/clock.js';
import { cancelledError, type HubError } from './errors.js';

/** The backoff (its `maxMs` also caps the hub's Retry-After: no wait is longer) and how many attempts. */
export interface RetryOptions extends BackoffPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 6,
  baseMs: 200,
  maxMs: 10_000,
};

const RETRIED_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** Whether the same request may succeed if sent again. */
export function isRetryable(error: HubError): boolean {
  if (error.statusCode !== undefined) return RETRIED_STATUSES.has(error.statusCode);
  return error.kind === 'Transient' && error.networkCode !== undefined;
}

/** The wait before retry number `retry` after `error`, or undefined when it must not be retried. */
export function retryDelayMs(error: HubError, retry: number, options: RetryOptions): number | undefined {
  if (retry >= options.maxAttempts || !isRetryable(error)) return undefined;
  const backoff = backoffDelayMs(options, retry);
  return Math.min(options.maxMs, Math.max(backoff, error.retryAfterMs ?? 0));
}

export interface RetryRun {
  clock: Clock;
  options: RetryOptions;
  /** Ends the retries, and a backoff wait at once (rejecting with a HubError of kind 'Cancelled'). */
  abort?: AbortSignal;
  /** Maps a thrown value to a HubError (the caller knows the hub and the action). */
  toError: (error: unknown) => HubError;
  /** Called before each wait; for telemetry and logs. */
  onRetry?: (error: HubError, retry: number, delayMs: number) => void;
}

/** Runs `attempt(1)`, `attempt(2)`, ... until one succeeds, an error is final, or attempts run out. */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  run: RetryRun,
): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    let error: HubError;
    try {
      return await attempt(attemptNumber);
    } catch (thrown) {
      error = run.toError(thrown);
    }
    if (error.kind === 'Cancelled' || run.abort?.aborted) throw error;
    const delay = retryDelayMs(error, attemptNumber, run.options);
    if (delay === undefined) throw error;
    run.onRetry?.(error, attemptNumber, delay);
    if (!(await pause(run.clock, delay, run.abort))) throw cancelledError('waiting');
  }
}
