// The reconciles in progress of the hubs this replica holds, each under a stop of its own: letting a hub go (its
// lease moves to another replica, or could not be renewed) drains its reconcile (no new twin write), abandons its
// hub calls after a grace period, and resolves once the reconcile has returned.
import { anyStop, type Stop } from '../../runtime/stop.js';
import { StopController } from '../../runtime/stop-controller.js';

interface Running {
  stop: StopController;
  done: Promise<void>;
}

export class HubGate {
  private readonly running = new Map<string, Running>();

  /** Runs `reconcile` of hub `key` (the work queue never runs one key twice at once). */
  async guard<T>(key: string, stop: Stop, reconcile: (stop: Stop) => Promise<T>): Promise<T> {
    const own = new StopController();
    let finished!: () => void;
    const running: Running = { stop: own, done: new Promise((resolve) => (finished = resolve)) };
    this.running.set(key, running);
    try {
      return await reconcile(anyStop(stop, own.stop));
    } finally {
      own.settle();
      if (this.running.get(key) === running) this.running.delete(key);
      finished();
    }
  }

  /** Whether a reconcile of hub `key` is in progress. */
  busy(key: string): boolean {
    return this.running.has(key);
  }

  /**
   * Stops the reconcile of hub `key` in progress, if any: drained now, its hub calls abandoned after `graceMs`.
   * Resolves when it has returned, or `graceMs + settleMs` at most (abandoned calls end their requests at once, so
   * a reconcile slow to return after that writes nothing more).
   */
  async letGo(key: string, reason: string, graceMs: number, settleMs = 2000): Promise<void> {
    const running = this.running.get(key);
    if (!running) return;
    running.stop.drain(new Error(reason), graceMs);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      running.done,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs + settleMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
