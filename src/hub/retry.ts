// Retries with exponential backoff and full jitter, capped, for the answers after which the same request can
// succeed: 408, 429, 5xx and dropped connections. Other 4xx are answers, not accidents, and are returned.
import type { HubClock } from './clock.js';
import type { HubError } from './errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The backoff window of the first retry; it doubles per retry. */
  baseDelayMs: number;
  /** No wait is longer, whatever the backoff or the hub's Retry-After says. */
  maxDelayMs: number;
  /** Uniform in [0, 1); injectable for tests. */
  random: () => number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  random: Math.random,
};

const RETRIED_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** Whether the same request may succeed if sent again. */
export function isRetryable(error: HubError): boolean {
  if (error.statusCode !== undefined) return RETRIED_STATUSES.has(error.statusCode);
  return error.kind === 'Transient' && error.networkCode !== undefined;
}

/** Full jitter: uniform in [0, min(cap, base * 2^(retry - 1))), `retry` counting from 1. */
export function backoffDelayMs(retry: number, options: RetryOptions): number {
  const window = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(options.random() * window);
}

/** The wait before retry number `retry` after `error`, or undefined when it must not be retried. */
export function retryDelayMs(error: HubError, retry: number, options: RetryOptions): number | undefined {
  if (retry >= options.maxAttempts || !isRetryable(error)) return undefined;
  const backoff = backoffDelayMs(retry, options);
  return Math.min(options.maxDelayMs, Math.max(backoff, error.retryAfterMs ?? 0));
}

export interface RetryRun {
  clock: HubClock;
  options: RetryOptions;
  signal?: AbortSignal;
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
    if (error.kind === 'Cancelled' || run.signal?.aborted) throw error;
    const delay = retryDelayMs(error, attemptNumber, run.options);
    if (delay === undefined) throw error;
    run.onRetry?.(error, attemptNumber, delay);
    await run.clock.sleep(delay, run.signal);
  }
}
