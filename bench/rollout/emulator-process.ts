// An emulated hub as a process of its own (`iot-security-operator emulator`, from the sources), for benchmarks
// whose hubs would not fit in one process or must not share its CPU: ten hubs of 100,000 devices are ten
// processes of about half a gigabyte each. Everything the in-process harness reads from the hub (request
// statistics, agents) is read over the emulator's admin API instead; its memory and CPU from /proc.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorStatsSnapshot } from '../../src/emulator/index.js';
import type { HubTier } from '../../src/quotas/index.js';
import { type EmulatorAddress, rawRequest } from '../../test/support/emulator-requests.js';
import { until } from '../../test/support/until.js';
import { type ProcessFigures, REPO, type RunningProcess, runNode } from './contenders.js';

export interface EmulatorProcessOptions {
  devices: number;
  tier: HubTier;
  units: number;
  seed: number;
  /** `--quota` overrides, such as `twinUpdate=50/s`. */
  quotas?: string[];
  /** `--no-throttle`: the tier's quotas off. */
  throttle?: boolean;
}

export interface EmulatorProcess extends EmulatorAddress {
  caFile: string;
  process: RunningProcess;
  stats(): Promise<EmulatorStatsSnapshot>;
  resetStats(): Promise<void>;
  /** Resolves when the agents have read their configuration (sampled: see agentsSettled). */
  agentsSettled(): Promise<void>;
  /** SIGTERM, then its CPU and peak RSS once it has exited. */
  stop(): Promise<ProcessFigures>;
}

/** How many requests of a class a snapshot counts, of one status or all. */
export function countOf(stats: EmulatorStatsSnapshot, operation: string, status?: number): number {
  const byStatus = stats.requests[operation] ?? {};
  if (status !== undefined) return byStatus[String(status)] ?? 0;
  return Object.values(byStatus).reduce((a, b) => a + b, 0);
}

const deviceId = (i: number) => `device-${String(i).padStart(6, '0')}`;

/**
 * Starts one emulator process with the fleet the in-process bench hubs have (benchHub: agents answering in 5 to 30
 * ms, a quarter of them in lower case, all online) and resolves once it listens. Seeding 100,000 devices takes a
 * few seconds.
 */
export async function startEmulatorProcess(options: EmulatorProcessOptions): Promise<EmulatorProcess> {
  const child = runNode(
    [
      '--import',
      'tsx',
      join(REPO, 'src/cli/main.ts'),
      'emulator',
      '--devices',
      String(options.devices),
      '--tier',
      options.tier,
      '--units',
      String(options.units),
      '--seed',
      String(options.seed),
      '--agent-delay',
      '5..30',
      '--lowercase-agents',
      '0.25',
      ...(options.throttle === false ? ['--no-throttle'] : []),
      ...(options.quotas ?? []).flatMap((q) => ['--quota', q]),
    ],
    {},
  );
  let exited = false;
  void child.done.then(() => (exited = true));
  await until(
    () => {
      if (exited) throw new Error(`the emulator exited before listening: ${child.stdoutSoFar()}`);
      return child.stdoutSoFar().includes('\n');
    },
    10 * 60_000,
    'the emulator process to say where it listens',
    100,
  );
  const started = JSON.parse(child.stdoutSoFar().split('\n')[0]) as {
    hostName: string;
    connectionString: string;
    caFile: string;
  };
  const address: EmulatorAddress = { ...started, caCert: readFileSync(started.caFile, 'utf8') };
  const admin = async (method: string, path: string) => {
    const response = await rawRequest(address, { method, path });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.text}`);
    return response.json;
  };
  return {
    ...address,
    caFile: started.caFile,
    process: child,
    stats: async () => (await admin('GET', '/_emulator/stats')) as EmulatorStatsSnapshot,
    resetStats: async () => {
      await admin('DELETE', '/_emulator/stats');
    },
    agentsSettled: async () => {
      // Every agent read is due within 30 ms of its device's seeding or of a write, and they are done in due
      // order, so the last 20 devices seeded, and one in 2,000 of the others, having nothing pending says the
      // queue is (all but) empty. (Each check is a new TLS connection: a sample, not every device.)
      const sample = [
        ...Array.from({ length: Math.min(20, options.devices) }, (_, i) => options.devices - i),
        ...Array.from({ length: Math.floor(options.devices / 2000) }, (_, i) => 1 + i * 2000),
      ];
      await until(
        async () => {
          for (const i of sample) {
            const status = (await admin('GET', `/_emulator/agents/${deviceId(i)}`)) as { pending: boolean };
            if (status.pending) return false;
          }
          return true;
        },
        10 * 60_000,
        'the agents to have read their configuration',
        500,
      );
    },
    stop: () => {
      child.kill('SIGTERM');
      return child.done;
    },
  };
}
