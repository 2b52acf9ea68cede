// A work queue keyed by the unit of work (here a hub, `namespace/name`), as client-go's: adding a queued key is
// a no-op; a key is never processed by two workers at once (an add while it is processed runs it once more
// afterwards, and can interrupt the run in progress); delayed adds keep the earliest time; failures back off per
// key (full jitter). Every key that is due runs at once unless `concurrency` caps them: a run spends most of its
// time awaiting its own hub (query pages, twin writes under that hub's rate limiter), and a cap would make the
// other hubs wait for those waits, so a fleet of hubs would converge in waves of `concurrency`.
import { type BackoffPolicy, backoffDelayMs, backoffWindowMs } from '../runtime/backoff.js';
import { type Clock, pause, systemClock, type Timer } from '../runtime/clock.js';
import type { ReconcileResult } from './reconcile-result.js';

export interface WorkContext {
  /**
   * Fires when the key is added with `interrupt` while it is processed: its inputs changed, so the run should
   * start nothing new and return (a drain, in the runtime's words); it runs again at once.
   */
  drain: AbortSignal;
}

export type WorkHandler = (key: string, context: WorkContext) => Promise<ReconcileResult>;

/** What the queue reports as it goes, for metrics (controller-runtime's workqueue families). */
export interface WorkQueueObserver {
  added?(key: string): void;
  depth?(depth: number): void;
  /** A key left the queue for a worker after waiting `ms`. */
  started?(key: string, waitedMs: number): void;
  /** A run ended: `outcome` as controller-runtime labels it (an error is a retry, or a handler that threw). */
  finished?(key: string, tookMs: number, outcome: 'success' | 'error' | 'requeue_after'): void;
  retried?(key: string): void;
}

export interface WorkQueueOptions {
  /** At most this many keys processed at once (none: every key that is due runs). */
  concurrency?: number;
  /** Backoff of a failing key, full jitter in a window of base * 2^(failures - 1), at most max (1 s to 5 min). */
  backoff?: BackoffPolicy;
  clock?: Clock;
  observer?: WorkQueueObserver;
  /** Called when a handler throws (it should return a retry instead); the key backs off. */
  onError?: (key: string, error: unknown) => void;
  /**
   * Whether a failure came from the Kubernetes API server being out of reach (the transport's word on the error):
   * such keys run again as soon as it can be reached (retryWaitingForApiServer), not only after their backoff.
   */
  waitsForApiServer?: (error: unknown) => boolean;
}

function outcomeLabel(result: ReconcileResult | 'error'): 'success' | 'error' | 'requeue_after' {
  if (result === 'error' || result.kind === 'retry') return 'error';
  return result.requeueAfterMs !== undefined ? 'requeue_after' : 'success';
}

export const DEFAULT_QUEUE_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 5 * 60_000 };

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Map<string, number>();
  private readonly processing = new Map<string, AbortController>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: Timer }>();
  private readonly failures = new Map<string, number>();
  /** Keys whose last run failed because the API server could not be reached. */
  private readonly waitingForApiServer = new Set<string>();
  private readonly idleWaiters: (() => void)[] = [];
  private handler?: WorkHandler;
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly backoff: BackoffPolicy;

  constructor(private readonly options: WorkQueueOptions) {
    if (options.concurrency !== undefined && !(options.concurrency >= 1))
      throw new RangeError('concurrency must be at least 1');
    this.clock = options.clock ?? systemClock;
    this.backoff = options.backoff ?? DEFAULT_QUEUE_BACKOFF;
  }

  get depth(): number {
    return this.queue.length;
  }

  get active(): number {
    return this.processing.size;
  }

  /** Starts processing with `handler`. */
  start(handler: WorkHandler): void {
    this.handler = handler;
    this.dispatch();
  }

  /**
   * Queues `key` now (a delayed add of it is dropped). While it is processed, it runs once more afterwards, and
   * with `interrupt` the run in progress is asked to stop early.
   */
  add(key: string, options: { interrupt?: boolean } = {}): void {
    if (this.shuttingDown) return;
    this.cancelDelayed(key);
    const running = this.processing.get(key);
    if (running) {
      this.dirty.add(key);
      if (options.interrupt) running.abort();
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.set(key, this.clock.now());
    this.queue.push(key);
    this.options.observer?.added?.(key);
    this.options.observer?.depth?.(this.queue.length);
    this.dispatch();
  }

  /** Queues `key` after `ms`, unless it is already due sooner. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimer(ms, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { at, timer });
  }

  /** The window of the backoff the next failure of `key` would wait (the wait is drawn in it). */
  backoffWindowMs(key: string): number {
    return backoffWindowMs(this.backoff, (this.failures.get(key) ?? 0) + 1);
  }

  /**
   * Keys backing off because the API server could not be reached run now: it can be again. Their failures are
   * kept, so a key that fails again backs off further, as it would have.
   */
  retryWaitingForApiServer(): void {
    for (const key of [...this.waitingForApiServer]) if (this.delayed.has(key)) this.add(key);
  }

  /** Forgets a key entirely (its object is gone): no delayed add, no backoff. */
  remove(key: string): void {
    this.cancelDelayed(key);
    this.failures.delete(key);
    this.waitingForApiServer.delete(key);
  }

  /** Resolves when nothing is queued or processed (delayed adds aside). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking work: queued and delayed keys are dropped, runs in progress are interrupted; resolves when they
   * have finished, or after `timeoutMs`.
   */
  async shutdown(timeoutMs = 30_000): Promise<void> {
    this.shuttingDown = true;
    for (const key of [...this.delayed.keys()]) this.cancelDelayed(key);
    this.queue.length = 0;
    this.queued.clear();
    this.dirty.clear();
    for (const controller of this.processing.values()) controller.abort();
    const idle = new AbortController();
    await Promise.race([this.idle().then(() => idle.abort()), pause(this.clock, timeoutMs, idle.signal)]);
    idle.abort();
  }

  private cancelDelayed(key: string): void {
    const delayed = this.delayed.get(key);
    if (!delayed) return;
    delayed.timer.cancel();
    this.delayed.delete(key);
  }

  private dispatch(): void {
    if (!this.handler) return;
    const limit = this.options.concurrency ?? Number.POSITIVE_INFINITY;
    while (this.processing.size < limit && this.queue.length > 0) {
      const key = this.queue.shift()!;
      const queuedAt = this.queued.get(key) ?? this.clock.now();
      this.queued.delete(key);
      this.options.observer?.depth?.(this.queue.length);
      void this.run(key, queuedAt);
    }
  }

  private async run(key: string, queuedAt: number): Promise<void> {
    const controller = new AbortController();
    this.processing.set(key, controller);
    const started = this.clock.now();
    this.options.observer?.started?.(key, started - queuedAt);
    let result: ReconcileResult | 'error';
    let thrown: unknown;
    try {
      result = await this.handler!(key, { drain: controller.signal });
    } catch (error) {
      this.options.onError?.(key, error);
      result = 'error';
      thrown = error;
    }
    this.processing.delete(key);
    this.options.observer?.finished?.(key, this.clock.now() - started, outcomeLabel(result));
    this.settle(key, result === 'error' ? { kind: 'retry', error: thrown as Error } : result);
    this.dispatch();
    if (this.queue.length === 0 && this.processing.size === 0)
      for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private settle(key: string, result: ReconcileResult): void {
    if (this.shuttingDown) return;
    if (result.kind === 'retry') {
      if (this.options.waitsForApiServer?.(result.error)) this.waitingForApiServer.add(key);
      else this.waitingForApiServer.delete(key);
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      this.options.observer?.retried?.(key);
      if (this.dirty.delete(key)) this.add(key);
      else this.addAfter(key, backoffDelayMs(this.backoff, failures));
      return;
    }
    this.waitingForApiServer.delete(key);
    this.failures.delete(key);
    if (this.dirty.delete(key)) {
      this.add(key);
      return;
    }
    if (result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
  }
}
