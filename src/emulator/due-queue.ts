// Work due at given times, on one timer instead of one per item (100,000 agents would need 100,000 timers).
// Due items run in batches so a burst never holds the event loop for long.
import { type Clock, systemClock } from '../runtime/clock.js';

interface Entry {
  at: number;
  key: string;
}

const BATCH = 1000;

export class DueQueue {
  private readonly heap: Entry[] = [];
  private readonly due = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private running = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly run: (key: string) => void,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {}

  /** Items scheduled and not yet run. */
  get size(): number {
    return this.due.size;
  }

  has(key: string): boolean {
    return this.due.has(key);
  }

  /** Runs `key` at `at` (replacing an earlier schedule of the same key). */
  schedule(key: string, at: number): void {
    if (this.closed) return;
    this.due.set(key, at);
    this.push({ at, key });
    this.arm();
  }

  cancel(key: string): void {
    if (this.due.delete(key)) this.notifyIdle();
  }

  /** Resolves when nothing is scheduled. */
  whenIdle(): Promise<void> {
    if (this.due.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
    this.heap.length = 0;
    this.notifyIdle();
  }

  private arm(): void {
    if (this.running || this.heap.length === 0) return;
    const next = this.heap[0].at;
    if (this.timer && next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - this.clock.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.running = true;
    const now = this.clock.now();
    let ran = 0;
    while (this.heap.length > 0 && this.heap[0].at <= now && ran < BATCH && !this.closed) {
      const entry = this.pop()!;
      if (this.due.get(entry.key) !== entry.at) continue; // rescheduled or cancelled since
      this.due.delete(entry.key);
      ran++;
      this.run(entry.key);
    }
    this.running = false;
    this.notifyIdle();
    if (this.heap.length > 0 && this.heap[0].at <= this.clock.now() && !this.closed) {
      setImmediate(() => this.fire());
    } else {
      this.arm();
    }
  }

  private notifyIdle(): void {
    if (this.due.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].at <= entry.at) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        const at = (k: number) => (k === i ? last.at : heap[k].at);
        if (left < heap.length && heap[left].at < at(smallest)) smallest = left;
        if (right < heap.length && heap[right].at < at(smallest)) smallest = right;
        if (smallest === i) break;
        heap[i] = heap[smallest];
        i = smallest;
      }
      heap[i] = last;
    }
    return top;
  }
}
