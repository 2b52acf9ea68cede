// When each twin awaiting its device is read again: soon after it was written, then twice as late after each read
// that found it still silent, up to a bound. A twin costs about one read per doubling of its device's delay,
// whatever the other twins do: a slow device is not re-read at the pace of the quick ones answering beside it.
// (Re-reading every awaiting twin whenever any answered read 25 silent twins every 250 ms: 100 reads/s, the whole
// twin-read quota of an S1 hub, which the devices reading their own twins share.) The first read comes exactly the
// first delay after the write; later ones fall on a grid of that delay, so that twins written moments apart are
// read together from their second read on, and the steps that read them come no more often than that.
import { twinKey } from '../planner/plan-hub-reconcile.js';
import type { TwinRef } from '../twins/types.js';

interface Awaited {
  ref: TwinRef;
  dueAt: number;
  delayMs: number;
}

export class RereadSchedule {
  private readonly awaited = new Map<string, Awaited>();

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
  ) {}

  /** The twins due for a read at `now`. */
  due(now: number): TwinRef[] {
    return [...this.awaited.values()].filter((a) => a.dueAt <= now).map((a) => a.ref);
  }

  /** When the next twin is due, or undefined when none is awaited. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const { dueAt } of this.awaited.values()) if (next === undefined || dueAt < next) next = dueAt;
    return next;
  }

  /** The first grid point at or after `time`. */
  private onGrid(time: number): number {
    return this.firstMs > 0 ? Math.ceil(time / this.firstMs) * this.firstMs : time;
  }

  /**
   * After a step: `unsettled`, the twins still awaiting their device; `wasWritten`, whether the step wrote a twin;
   * `wasRead`, whether it read a twin from the hub. A twin new to the schedule, or written again by this step, is
   * due `firstMs` from now; one read and still silent, twice as late as last time; the others keep their time.
   * (Another writer's change of the twin does not start it over: its device is as slow as before.)
   */
  update(
    unsettled: readonly TwinRef[],
    wasWritten: (ref: TwinRef) => boolean,
    wasRead: (ref: TwinRef) => boolean,
    now: number,
  ): void {
    const still = new Set<string>();
    for (const ref of unsettled) {
      const key = twinKey(ref);
      still.add(key);
      const known = this.awaited.get(key);
      if (!known || wasWritten(ref)) {
        this.awaited.set(key, { ref, dueAt: now + this.firstMs, delayMs: this.firstMs });
      } else if (wasRead(ref)) {
        known.delayMs = Math.min(this.maxMs, known.delayMs * 2);
        known.dueAt = this.onGrid(now + known.delayMs);
      }
    }
    for (const key of this.awaited.keys()) if (!still.has(key)) this.awaited.delete(key);
  }
}
