// The emulator as tests start it (its keys kept for the suite's scan), clients of it that trust its CA, request
// counts and scripted faults. (A quota of our choosing for one operation class is the emulator's `quotas` option.)
import type { FaultAction } from '../../src/emulator/faults.js';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { createHubClient, type HubClient, type HubClientOptions } from '../../src/hub/hub-client.js';
import { HubRateLimiter } from '../../src/hub/rate-limiter.js';
import { rateLimitsFor } from '../../src/hub/rate-limits.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import type { OperationClass } from '../../src/quotas/index.js';
import { agentDesired } from './planner-fixtures.js';
import { keepKeys } from './suite-output.js';

export async function startHubEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const emulator = await startEmulator({
    seed: 42,
    throttle: false,
    agentDelay: { min: 1, max: 5 },
    ...options,
  });
  const { policies, keySecret } = emulator.hub.secrets;
  keepKeys([keySecret, ...policies.flatMap((p) => [p.primaryKey, p.secondaryKey])]);
  return emulator;
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
    retry: { baseMs: 20, maxMs: 500 },
    ...options,
  });
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

/** The desired agent configuration of a device, read fresh (by GET) through the hub client. */
export async function desired(
  emulator: RunningEmulator,
  deviceId: string,
): Promise<Record<string, { value: unknown } | undefined>> {
  const client = emulatorClient(emulator, { tier: 'S3' });
  try {
    const twin = (await client.readTwins(SECURITY_MODULE_ID, [deviceId], { consistent: true })).get(deviceId);
    return agentDesired(twin) as Record<string, { value: unknown }>;
  } finally {
    client.close();
  }
}
