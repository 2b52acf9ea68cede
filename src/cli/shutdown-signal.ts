// SIGINT/SIGTERM as a Stop: the first signal drains long-running commands (no new write starts, the ones in flight
// finish); the abort follows when that takes longer than `graceMs`, or at a second signal, and abandons calls in
// flight.
import type { Stop } from '../runtime/stop.js';
import { StopController } from '../runtime/stop-controller.js';

export interface Shutdown {
  stop: Stop;
  dispose(): void;
}

export function shutdownSignal(graceMs = 10_000): Shutdown {
  const controller = new StopController();
  const onSignal = () => {
    if (controller.draining) controller.abort(new Error('shutting down now'));
    else controller.drain(new Error('shutting down'), graceMs);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop: controller.stop,
    dispose() {
      controller.settle();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
