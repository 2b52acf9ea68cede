// Time, one way for the whole program: `now` in epoch milliseconds, a `sleep` that ends early when its abort
// signal fires (a sleep keeps the process alive while it is awaited), and timers that never keep it alive. Injectable, so tests drive time by hand
// (test/support/fake-clock.ts) instead of waiting for it.
import { followAbort, unfollowAbort } from './follow-signal.js';
import { AbortedError } from './stop.js';

/** A scheduled callback that has not run yet; cancelling one that ran does nothing. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /**
   * Wall-clock time in epoch milliseconds. Besides measuring intervals it is compared with dates from outside
   * (an HTTP-date Retry-After, a signature's expiry, a Lease's renew time).
   */
  now(): number;
  /** Resolves after `ms`; rejects with an AbortedError as soon as `abort` fires (at once if it has). */
  sleep(ms: number, abort?: AbortSignal): Promise<void>;
  /** Runs `callback` after `ms` (an unref'd timer: it does not keep the process alive). */
  setTimer(ms: number, callback: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, abort) =>
    new Promise<void>((resolve, reject) => {
      if (abort?.aborted) {
        reject(new AbortedError(abort.reason));
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(new AbortedError(abort?.reason));
      };
      const timer = setTimeout(() => {
        if (abort) unfollowAbort(abort, onAbort);
        resolve();
      }, ms);
      // Followed, not listened to: many sleeps may wait on one step's signal at once (follow-signal.ts).
      if (abort) followAbort(abort, onAbort);
    }),
  setTimer: (ms, callback) => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * Sleeps `ms` unless `cutShort` fires first (a drain, usually); resolves true when the whole time passed, false
 * when it was cut short. For loops that end on a stop rather than fail on it.
 */
export async function pause(clock: Clock, ms: number, cutShort?: AbortSignal): Promise<boolean> {
  try {
    await clock.sleep(ms, cutShort);
    return true;
  } catch (error) {
    if (error instanceof AbortedError) return false;
    throw error;
  }
}
