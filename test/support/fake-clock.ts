// A clock that moves only when a test says so: sleepers and timers wake in time order as it passes their deadline.
import type { Clock, Timer } from '../../src/runtime/clock.js';
import { AbortedError } from '../../src/runtime/stop.js';

interface Waiter {
  at: number;
  /** Order of creation: equal deadlines wake in the order they were set. */
  seq: number;
  wake(): void;
}

/** Lets every promise chain that can move, move. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private time: number;
  private waiters: Waiter[] = [];
  private seq = 0;
  /** Every sleep asked for, in ms, in order. */
  readonly sleeps: number[] = [];

  /** `start`: the epoch ms it shows first (1970 unless a test needs a date). */
  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, abort?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (abort?.aborted) return Promise.reject(new AbortedError(abort.reason));
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = this.add(ms, () => {
        abort?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = () => {
        this.remove(waiter);
        reject(new AbortedError(abort?.reason));
      };
      abort?.addEventListener('abort', onAbort, { once: true });
    });
  }

  setTimer(ms: number, callback: () => void): Timer {
    const waiter = this.add(Math.max(0, ms), callback);
    return { cancel: () => this.remove(waiter) };
  }

  /** Moves time forward by `ms`, waking sleepers and timers in deadline order and letting each wake-up run. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await settle();
    for (;;) {
      const due = this.waiters.filter((w) => w.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.remove(due);
      this.time = Math.max(this.time, due.at);
      due.wake();
      await settle();
    }
    this.time = target;
    await settle();
  }

  /** Moves time forward to `at` (epoch ms), as `advance` does. */
  advanceTo(at: number): Promise<void> {
    return this.advance(Math.max(0, at - this.time));
  }

  /** Sleeps and timers not yet due. */
  get pendingSleeps(): number {
    return this.waiters.length;
  }

  private add(ms: number, wake: () => void): Waiter {
    const waiter = { at: this.time + ms, seq: this.seq++, wake };
    this.waiters.push(waiter);
    return waiter;
  }

  private remove(waiter: Waiter): void {
    this.waiters = this.waiters.filter((w) => w !== waiter);
  }
}

/** A promise's state, without waiting for it. */
export function track<T>(promise: Promise<T>): { settled: () => boolean; value?: T; error?: unknown } {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => {
      state.done = true;
      state.value = value;
    },
    (error: unknown) => {
      state.done = true;
      state.error = error;
    },
  );
  return {
    settled: () => state.done,
    get value() {
      return state.value;
    },
    get error() {
      return state.error;
    },
  };
}
