// Exponential backoff with full jitter (AWS's "full jitter"): the wait before retry n is uniform in
// [0, min(max, base * 2^(n-1))). Jitter keeps the many clients that lost the same server from coming back in step.
// One policy type for the hub client's retries, the work queue's failing keys, the informers' restarts and `sync`'s
// waits for an unreachable hub (which waits the whole window: one process waiting has no crowd to spread out).

export interface BackoffPolicy {
  /** The window of the first retry; it doubles with each retry. */
  baseMs: number;
  /** No window is wider. */
  maxMs: number;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

/** The window of retry number `retry` (counting from 1): min(max, base * 2^(retry - 1)). */
export function backoffWindowMs(policy: BackoffPolicy, retry: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
}

/** The wait before retry number `retry` (counting from 1), full jitter. */
export function backoffDelayMs(policy: BackoffPolicy, retry: number): number {
  return Math.floor((policy.random ?? Math.random)() * backoffWindowMs(policy, retry));
}
