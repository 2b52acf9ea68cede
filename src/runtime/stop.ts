// How long-running work is told to stop, with the same two words everywhere:
// - `drain`: a soft stop. Start nothing new (no new twin write, no new batch); what is in flight finishes and the
//   work returns what it has. Fired by a shutdown, by a change of the inputs (a resource edited mid-step), by the
//   files changing under `sync --watch`.
// - `abort`: a hard stop. Abandon what is in flight: calls are cancelled and their outcome is unknown (a request
//   that was sent may have been applied). Fired when draining took longer than its grace period, by a second
//   SIGTERM, or when leadership is lost. An abort drains too.
// A function that only ever cancels (an HTTP call, a sleep) takes the hard one alone, as `abort: AbortSignal`.

/** The two stop signals of a piece of work. */
export interface Stop {
  readonly drain: AbortSignal;
  readonly abort: AbortSignal;
}

/** Thrown by a wait or a call that was abandoned because its abort signal fired. */
export class AbortedError extends Error {
  override name = 'AbortedError';
  constructor(readonly reason?: unknown) {
    super(reason instanceof Error ? reason.message : 'aborted');
  }
}

const never = new AbortController().signal;

/** A stop that never fires. */
export const NO_STOP: Stop = { drain: never, abort: never };

/** `stop` with another reason to drain (e.g. a reconcile interrupted because its inputs changed). */
export function drainAlso(stop: Stop, ...signals: (AbortSignal | undefined)[]): Stop {
  const extra = signals.filter((s): s is AbortSignal => s !== undefined);
  if (extra.length === 0) return stop;
  return { drain: AbortSignal.any([stop.drain, ...extra]), abort: stop.abort };
}

/** A stop that fires when any of `stops` does (work answering to two owners, e.g. the run and its hub's lease). */
export function anyStop(...stops: Stop[]): Stop {
  if (stops.length === 1) return stops[0];
  return {
    drain: AbortSignal.any(stops.map((s) => s.drain)),
    abort: AbortSignal.any(stops.map((s) => s.abort)),
  };
}
