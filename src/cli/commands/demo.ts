// `iot-security-operator demo`: the main job on the embedded emulator. Starts an emulated hub with a
// realistic fleet (about 2,000 devices over several sites, some offline, some agents slow, some C agents that
// report in lower case), runs `sync --wait` with the examples, prints progress and the final table, stops.

import { parseArgs } from 'node:util';
import { startEmulator } from '../../emulator/index.js';
import { createHubClient } from '../../hub/hub-client.js';
import { createLogger } from '../../observability/logger.js';
import { packageFolder } from '../../package-folder.js';
import { runSync } from '../../sync/run-sync.js';
import { type CommandIo, UsageError } from '../command-io.js';
import { shutdownSignal } from '../shutdown-signal.js';

export const DEMO_USAGE = `Usage: iot-security-operator demo [--devices 2000] [--examples DIR] [--timeout 3m]

Starts the embedded IoT Hub emulator with a seeded fleet, applies the SecurityModuleConfigs of DIR (default:
the repository's examples/) with sync --wait, and stops the emulator. Nothing outside this process is touched.`;

export async function runDemoCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string', default: '2000' },
      examples: { type: 'string' },
      timeout: { type: 'string', default: '3m' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(DEMO_USAGE);
    return 0;
  }
  const devices = Number(values.devices);
  if (!Number.isInteger(devices) || devices < 1 || devices > 200_000)
    throw new UsageError(`--devices must be a whole number from 1 to 200000, not '${values.devices}'`);
  const timeoutMinutes = /^(\d+)m$/.exec(values.timeout);
  if (!timeoutMinutes) throw new UsageError(`--timeout must be minutes such as 3m, not '${values.timeout}'`);
  const logger = createLogger({ level: 'warn' });
  const emulator = await startEmulator({
    devices,
    seed: 2026,
    tier: 'S1',
    units: 1,
    offlineRatio: 0.03,
    lowercaseRatio: 0.25,
    agentDelay: { min: 100, max: 2500 },
  });
  const client = createHubClient({
    connectionString: emulator.connectionString,
    ca: emulator.caCert,
    tier: 'S1',
    units: 1,
    logger,
  });
  const shutdown = shutdownSignal();
  const examples = values.examples ?? packageFolder('examples', (f) => /\.ya?ml$/.test(f));
  try {
    // A running fleet: every online agent has reported its start-up configuration before we begin.
    await emulator.agentsIdle();
    io.out(
      `Emulated IoT hub ${emulator.hostName} (tier S1, 1 unit) with ${devices} devices; CA ${emulator.caFile}`,
    );
    io.out(`Applying ${examples} with: sync -f ${examples} --wait\n`);
    const code = await runSync(
      {
        paths: [examples],
        dryRun: false,
        prune: false,
        wait: true,
        watch: false,
        timeoutMs: Number(timeoutMinutes[1]) * 60_000,
        intervalMs: 60_000,
        output: 'table',
        pollMs: 1000,
        fullReadMs: 20_000,
      },
      { io, access: client, logger, signal: shutdown.signal, abort: shutdown.abort },
    );
    const stats = emulator.hub.stats.snapshot();
    const calls = Object.entries(stats.requests).map(
      ([operation, byStatus]) =>
        `${operation} ${Object.entries(byStatus)
          .map(([status, n]) => `${n}x${status}`)
          .join(' ')}`,
    );
    io.out(
      `\nCalls the hub received: ${calls.join('; ')} (429s: ${Object.values(stats.throttled).reduce((a, b) => a + b, 0)})`,
    );
    return code;
  } finally {
    shutdown.dispose();
    client.close();
    await emulator.close();
  }
}
