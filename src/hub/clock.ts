// Time as the hub client sees it: injectable, so limiter and backoff tests run on a fake clock, and every wait
// can be cancelled.
import { cancelledError } from './errors.js';

export interface HubClock {
  /**
   * Wall-clock time in epoch milliseconds (`Date.now` for the system clock). Besides measuring intervals it is
   * compared with dates the hub sends (an HTTP-date Retry-After) and with a signature's expiry.
   */
  now(): number;
  /** Resolves after `ms`; rejects with a HubError of kind 'Cancelled' as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: HubClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(cancelledError('waiting'));
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(cancelledError('waiting'));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * `promise`, or a rejection with `cancelled()` as soon as `signal` aborts. The SDK has no way to abort a request
 * it has sent, so the caller stops waiting and a late answer is dropped; the pipeline also destroys the HTTP
 * request itself (request-abort.ts). Either way a request that was sent may have been applied.
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  cancelled: () => Error,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(cancelled());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
