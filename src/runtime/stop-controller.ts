// Makes a Stop and fires it: `drain()` first, then `abort()` when there is no time left. The grace period runs on
// a Clock, so a test can end it by moving time rather than waiting for it.
import { type Clock, systemClock, type Timer } from './clock.js';
import type { Stop } from './stop.js';

export class StopController {
  private readonly drainer = new AbortController();
  private readonly aborter = new AbortController();
  private graceTimer?: Timer;
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
   * Draining again changes nothing (the first grace period stands).
   */
  drain(reason: Error = new Error('stopping'), graceMs?: number): void {
    if (this.drainer.signal.aborted) return;
    this.drainer.abort(reason);
    if (graceMs !== undefined)
      this.graceTimer = this.clock.setTimer(graceMs, () =>
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
    this.graceTimer?.cancel();
  }
}
