// A clock that moves only when a test says so; sleepers wake in time order as it passes their deadline.
import type { HubClock } from '../../src/hub/clock.js';
import { cancelledError } from '../../src/hub/errors.js';

interface Sleeper {
  at: number;
  resolve(): void;
}

/** Lets every promise chain that can move, move. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements HubClock {
  private time: number;
  private sleepers: Sleeper[] = [];
  /** Every sleep asked for, in ms, in order. */
  readonly sleeps: number[] = [];

  /** `start`: the epoch ms it shows first (1970 unless a test needs a date). */
  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(cancelledError('waiting'));
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        at: this.time + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(cancelledError('waiting'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Moves time forward by `ms`, waking sleepers in deadline order and letting each wake-up run. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await settle();
    for (;;) {
      const due = this.sleepers.filter((s) => s.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.sleepers = this.sleepers.filter((s) => s !== due);
      this.time = Math.max(this.time, due.at);
      due.resolve();
      await settle();
    }
    this.time = target;
    await settle();
  }

  get pendingSleeps(): number {
    return this.sleepers.length;
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
