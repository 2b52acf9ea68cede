// Shared by the emulator-backed hub client tests: an emulator, clients that trust its CA, and a quota of our
// choosing for one operation class.
import { hubErrors } from '../../src/emulator/errors.js';
import type { FaultAction } from '../../src/emulator/faults.js';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { createHubClient, type HubClient, type HubClientOptions } from '../../src/hub/hub-client.js';
import { HubRateLimiter } from '../../src/hub/rate-limiter.js';
import { rateLimitsFor } from '../../src/hub/rate-limits.js';
import { type OperationClass, type Quota, TokenBucket } from '../../src/quotas/index.js';

export function startHubEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ seed: 42, throttle: false, agentDelay: { min: 1, max: 5 }, ...options });
}

/**
 * A client of the emulator over the real SDK and HTTPS. It gets a limiter of its own, so that tests in one file
 * do not inherit each other's adaptation; fast retries keep fault tests short.
 */
export function emulatorClient(
  emulator: RunningEmulator,
  options: Partial<HubClientOptions> = {},
): HubClient {
  const tier = options.tier ?? 'S1';
  const units = options.units ?? 1;
  return createHubClient({
    connectionString: emulator.connectionString,
    ca: emulator.caCert,
    tier,
    units,
    rateLimiter: new HubRateLimiter(
      emulator.hostName,
      rateLimitsFor(emulator.hostName, tier, units, options.rateLimits),
    ),
    retry: { baseDelayMs: 20, maxDelayMs: 500 },
    ...options,
  });
}

/**
 * Gives one operation class of the emulator a quota the tier table has no row for (20 twin updates/s). The
 * emulator has no option for it yet, so this wraps its throttle's admit() with the emulator's own 429.
 */
export function limitEmulatorClass(emulator: RunningEmulator, operation: OperationClass, quota: Quota): void {
  const throttle = emulator.hub.throttle;
  const bucket = TokenBucket.forQuota(quota);
  const admit = throttle.admit.bind(throttle);
  throttle.admit = (op: OperationClass) => {
    if (op !== operation) return admit(op);
    if (!bucket.tryTake()) throw hubErrors.throttled(op, bucket.msUntilAvailable() / 1000);
  };
}

/** How many requests of a class the emulator answered, by status (all statuses when omitted). */
export function emulatorCount(emulator: RunningEmulator, operation: OperationClass, status?: number): number {
  return emulator.hub.stats.count(operation, status);
}

/**
 * Takes the first fault decisions of some operation classes out of chance: each class answers its scripted
 * actions, in order, and then the emulator's seeded rules. Which request meets them depends on arrival order,
 * but that some request does, does not. Returns the function that removes the script.
 */
export function scriptFaults(
  emulator: RunningEmulator,
  script: Partial<Record<OperationClass, FaultAction[]>>,
): () => void {
  const faults = emulator.hub.faults;
  const decide = faults.decide.bind(faults);
  const queues = new Map(Object.entries(script).map(([operation, actions]) => [operation, [...actions]]));
  faults.decide = (operation: OperationClass) => {
    const action = queues.get(operation)?.shift();
    return action ? { latencyMs: 0, action } : decide(operation);
  };
  return () => {
    faults.decide = decide;
  };
}
