// forEachBounded (src/runtime/worker-pool.ts) for items that keep coming: writes planned page by page while the
// snapshot is still read. At most `concurrency` tasks in flight; none starts once `drain` fires or a task threw;
// `finished` waits for the queue to empty (or, stopped, for the tasks in flight) and rethrows the first error.

export class WriteQueue<T> {
  /** Items not started yet from `head` on; a started item's place is emptied (a rollout's writes are not kept). */
  private readonly items: (T | undefined)[] = [];
  private head = 0;
  private running = 0;
  private failed = false;
  private firstError: unknown;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly task: (item: T) => Promise<void>,
    private readonly drain?: AbortSignal,
  ) {
    if (!(concurrency >= 1)) throw new RangeError(`concurrency must be at least 1, not ${concurrency}`);
  }

  /** Items queued so far, started or not. */
  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    this.pump();
  }

  /** Resolves once nothing is left to start and nothing is in flight; rejects with the first task's error. */
  async finished(): Promise<void> {
    while (this.running > 0 || (this.head < this.items.length && !this.stopped())) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failed) throw this.firstError;
  }

  private stopped(): boolean {
    return this.failed || this.drain?.aborted === true;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.head < this.items.length && !this.stopped()) {
      const item = this.items[this.head] as T;
      this.items[this.head++] = undefined;
      this.running++;
      this.task(item)
        .catch((error: unknown) => {
          if (!this.failed) this.firstError = error;
          this.failed = true;
        })
        .finally(() => {
          this.running--;
          this.pump();
          const waiters = this.waiters;
          this.waiters = [];
          for (const wake of waiters) wake();
        });
    }
  }
}
