// Makes a Stop and fires it: `drain()` first, then `abort()` when there is no time left. The grace period runs on
// a Clock, so a test can end it by moving time rather than waiting for it.
import { type Clock, systemClock, type Timer } from './clock.js';
import type { Stop } from './stop.js';

export class StopController {
  private readonly drainer = new AbortController();
  private readonly aborter = new AbortController();
  private graceTimer?: Timer;
  /** When the hard abort is due (after a drain with a grace period), on the clock. */
  private abortAt?: number;
  private settled = false;
  readonly stop: Stop;

  constructor(private readonly clock: Clock = systemClock) {
    this.stop = {
      drain: AbortSignal.any([this.drainer.signal, this.aborter.signal]),
      abort: this.aborter.signal,
    };
  }

  get draining(): boolean {
    return this.stop.drain.aborted;
  }

  /**
   * Soft stop now; with `graceMs`, the hard abort follows unless `settle()` is called first (the work ended).
   * Draining again may bring the abort forward, never put it off: a later request with less time to spare (a lease
   * about to lapse during a shutdown's longer grace period) must cut the work short at its own deadline. The first
   * reason stands.
   */
  drain(reason: Error = new Error('stopping'), graceMs?: number): void {
    if (!this.drainer.signal.aborted) this.drainer.abort(reason);
    if (graceMs === undefined || this.settled || this.aborter.signal.aborted) return;
    const at = this.clock.now() + Math.max(0, graceMs);
    if (this.abortAt !== undefined && this.abortAt <= at) return;
    this.abortAt = at;
    this.graceTimer?.cancel();
    this.graceTimer = this.clock.setTimer(Math.max(0, graceMs), () =>
      this.abort(new Error(`${reason.message}: grace period over`)),
    );
  }

  /** Hard stop now (and a soft one, if it had not come yet). */
  abort(reason: Error = new Error('aborted')): void {
    this.graceTimer?.cancel();
    if (!this.aborter.signal.aborted) this.aborter.abort(reason);
  }

  /** The work ended: no abort is due any more. */
  settle(): void {
    this.settled = true;
    this.graceTimer?.cancel();
  }
}
