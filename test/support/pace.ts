// Time let pass on purpose: how long a fault or an outage lasts, when a kill falls, how fast a load generator runs.
// Never a wait for a result: what a test waits for, it waits on with `until`.
import { pause, systemClock } from '../../src/runtime/clock.js';

/** Lets `ms` pass, or less when `stop` fires first. */
export async function pace(ms: number, stop?: AbortSignal): Promise<void> {
  await pause(systemClock, ms, stop);
}
