// What the hub-fault, concurrent-writer and crash tests share: a fleet on the emulator with desired properties
// "someone else" set beforehand, `sync` run as a process against it, and the per-device figures they assert (twin
// writes the hub applied, requests per twin, foreign properties intact, agents converged).
import { type ChildProcess, spawn } from 'node:child_process';
import type { RunningEmulator } from '../../src/emulator/index.js';
import type { EmulatorStats } from '../../src/emulator/stats.js';
import { registryFromConnectionString } from '../../src/hub/sdk-transport.js';
import { httpStatusOf } from '../../src/runtime/http-status.js';
import { OPERATOR_MAIN } from '../support/operator-process.js';
import { pace } from '../support/pace.js';
import { keepOutput } from '../support/suite-output.js';

export const SOAK = process.env.RELIABILITY_SOAK === '1';
export const AGENT_KEY = 'ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration';
const MODULE = 'azureiotsecurity';

/** A desired property outside the agent's key, and a setting inside it that no resource manages. */
export const FOREIGN_PROPERTY = 'vendorDiagnostics';
export const FOREIGN_VALUE = { level: 'verbose', uploadMinutes: 15 };
export const FOREIGN_SETTING = 'eventPriorityDiagnostic';

/** The resource rolled out: every seeded device, two settings, optionally in batches. */
export function baselineYaml(snapshotFrequency: string, batchSize?: string): string {
  return `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata: { name: baseline, namespace: fleet }
spec:
  hubRef: { name: hub }
  target: { condition: "IS_DEFINED(tags.site)" }
  agentConfiguration: { snapshotFrequency: ${snapshotFrequency}, highPriorityMessageFrequency: PT5M }
${batchSize ? `  rollout: { batchSize: "${batchSize}" }\n` : ''}`;
}

export interface SyncResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SyncProcess {
  child: ChildProcess;
  done: Promise<SyncResult>;
}

/**
 * `sync -f dir` as users run it, with the emulator's CA, JSON output and the given options. The client is told
 * S3 x2 (500 twin writes/s) unless `quota` says otherwise, so that a few hundred devices take about a second.
 */
export function startSync(
  hub: { connectionString: string; caFile: string },
  dir: string,
  extra: string[] = [],
  quota: { tier: string; units: number } = { tier: 'S3', units: 2 },
): SyncProcess {
  const child = spawn(
    process.execPath,
    [
      OPERATOR_MAIN,
      'sync',
      '-f',
      dir,
      '--ca-file',
      hub.caFile,
      '--tier',
      quota.tier,
      '--units',
      String(quota.units),
      '--output',
      'json',
    ].concat(extra),
    { env: { ...process.env, IOTHUB_CONNECTION_STRING: hub.connectionString, LOG_LEVEL: 'error' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const done = new Promise<SyncResult>((resolve) =>
    // 'close', not 'exit': the output may still be arriving when the process has exited.
    child.once('close', (code, signal) => {
      keepOutput('sync', `${stdout}\n${stderr}`);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

export function deviceIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `device-${String(i + 1).padStart(6, '0')}`);
}

type Twin = {
  tags: Record<string, any>;
  properties: { desired: Record<string, any>; reported: Record<string, any> };
};

/** The security module twin as a GET returns it, read from the hub's store (no request, nothing counted). */
export function moduleTwin(emulator: RunningEmulator, deviceId: string): Twin {
  return emulator.hub.renderTwin(emulator.hub.store.requireModule(deviceId, MODULE)) as unknown as Twin;
}

/** Sets the foreign property and setting on every `every`-th device, through the SDK; returns those devices. */
export async function seedForeignProperties(emulator: RunningEmulator, every = 5): Promise<string[]> {
  const registry = registryFromConnectionString(emulator.connectionString, { ca: emulator.caCert });
  const owners = deviceIds(emulator.hub.store.deviceCount).filter((_, i) => i % every === 0);
  for (const deviceId of owners) {
    await untilNotThrottled(() =>
      registry.updateModuleTwin(
        deviceId,
        MODULE,
        {
          properties: {
            desired: {
              [FOREIGN_PROPERTY]: FOREIGN_VALUE,
              [AGENT_KEY]: { [FOREIGN_SETTING]: { value: 'High' } },
            },
          },
        },
        '*',
      ),
    );
  }
  await emulator.agentsIdle();
  return owners;
}

/** Calls `call` again while the hub answers 429 (a scenario's quota is on while the fleet is seeded). */
async function untilNotThrottled<T>(call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (httpStatusOf(error) !== 429) throw error;
      await pace(100);
    }
  }
}

/** Whether queries show every device and module as it is now: no change waits out the hub's query lag. */
export function queriesCaughtUp(emulator: RunningEmulator): boolean {
  const { store } = emulator.hub;
  return store
    .orderedDeviceIds()
    .map((deviceId) => store.recordForQuery(deviceId)!)
    .every((device) =>
      [device, ...device.modules].every((r) => store.visibleState(r) === (r.deleted ? undefined : r.state)),
    );
}

/** Foreign properties and settings missing or changed on `owners` (each device holds two). */
export function foreignLost(emulator: RunningEmulator, owners: readonly string[]): number {
  let lost = 0;
  for (const deviceId of owners) {
    const desired = moduleTwin(emulator, deviceId).properties.desired;
    if (JSON.stringify(desired[FOREIGN_PROPERTY]) !== JSON.stringify(FOREIGN_VALUE)) lost++;
    if (desired[AGENT_KEY]?.[FOREIGN_SETTING]?.value !== 'High') lost++;
  }
  return lost;
}

/** Devices whose desired configuration or whose agent's report lacks `snapshotFrequency`. */
export function notConverged(
  emulator: RunningEmulator,
  devices: readonly string[],
  snapshotFrequency: string,
) {
  return devices.filter((deviceId) => {
    const { desired, reported } = moduleTwin(emulator, deviceId).properties;
    return (
      desired[AGENT_KEY]?.snapshotFrequency?.value !== snapshotFrequency ||
      reported[AGENT_KEY]?.snapshotFrequency?.value !== snapshotFrequency ||
      reported[AGENT_KEY]?.highPriorityMessageFrequency?.value !== 'PT5M'
    );
  });
}

/** Per-device figures summed over the lives of a hub (one EmulatorStats per start). */
export class DeviceFigures {
  readonly applied = new Map<string, number>();
  readonly patches = new Map<string, number>();
  readonly reads = new Map<string, number>();

  constructor(readonly devices: readonly string[]) {
    for (const map of [this.applied, this.patches, this.reads]) for (const d of devices) map.set(d, 0);
  }

  add(stats: EmulatorStats): this {
    for (const d of this.devices) {
      this.applied.set(d, this.applied.get(d)! + stats.twinUpdates(d, MODULE));
      this.patches.set(d, this.patches.get(d)! + stats.twinRequests('twinUpdate', d, MODULE));
      this.reads.set(d, this.reads.get(d)! + stats.twinRequests('twinRead', d, MODULE));
    }
    return this;
  }

  static total(map: Map<string, number>): number {
    let sum = 0;
    for (const n of map.values()) sum += n;
    return sum;
  }

  static max(map: Map<string, number>): number {
    return Math.max(0, ...map.values());
  }

  /** Devices whose count is not `expected(device)`, as `id: got` lines. */
  static off(map: Map<string, number>, expected: (deviceId: string) => number): string[] {
    return [...map]
      .filter(([d, n]) => n !== expected(d))
      .map(([d, n]) => `${d}: ${n} (expected ${expected(d)})`);
  }

  /** "1,142 twin PATCHes (1.14 per device, max 3)" */
  describe(map: Map<string, number>, what: string): string {
    const total = DeviceFigures.total(map);
    return `${total.toLocaleString('en-US')} ${what} (${(total / this.devices.length).toFixed(2)} per device, max ${DeviceFigures.max(map)})`;
  }
}

/** Queries answered, over the lives of a hub. */
export function queries(...stats: EmulatorStats[]): number {
  return stats.reduce((sum, s) => sum + s.count('query'), 0);
}
