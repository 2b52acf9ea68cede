// SIGINT/SIGTERM as AbortSignals: `signal` asks long-running commands to stop at the next safe point (no new
// write starts, the ones in flight finish); `abort` follows when that takes longer than `graceMs` or a second
// signal comes, and abandons calls in flight.

export interface ShutdownSignals {
  signal: AbortSignal;
  abort: AbortSignal;
  dispose(): void;
}

export function shutdownSignal(graceMs = 10_000): ShutdownSignals {
  const stop = new AbortController();
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onSignal = () => {
    if (stop.signal.aborted) {
      abort.abort(new Error('shutting down now'));
      return;
    }
    stop.abort(new Error('shutting down'));
    timer = setTimeout(() => abort.abort(new Error('shutting down: grace period over')), graceMs);
    timer.unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    abort: abort.signal,
    dispose() {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
