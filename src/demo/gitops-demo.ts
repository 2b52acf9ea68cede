// `demo --gitops`: the examples applied to the demo fleet with `sync --wait`, no cluster involved.
import { createHubClient } from '../hub/hub-client.js';
import type { CommandIo } from '../observability/command-output.js';
import type { Logger } from '../observability/logger.js';
import type { Stop } from '../runtime/stop.js';
import { runSync } from '../sync/run-sync.js';
import { describePnpFleet, startDemoFleet } from './demo-fleet.js';

export interface DemoOptions {
  devices: number;
  examples: string;
  timeoutMs: number;
  logger: Logger;
  /** SIGINT/SIGTERM: drain, then abort after the grace period. */
  stop: Stop;
}

export async function runGitopsDemo(options: DemoOptions, io: CommandIo): Promise<number> {
  const emulator = await startDemoFleet(options.devices);
  const client = createHubClient({
    connectionString: emulator.connectionString,
    ca: emulator.caCert,
    tier: 'S1',
    units: 1,
    logger: options.logger,
  });
  try {
    // A running fleet: every online agent and PnP device has reported its start-up state before we begin.
    await Promise.all([emulator.agentsIdle(), emulator.pnpIdle()]);
    const pnp = describePnpFleet(options.devices);
    io.out(
      `Emulated IoT hub ${emulator.hostName} (tier S1, 1 unit) with ${options.devices} devices${pnp ? ` and ${pnp}` : ''}; CA ${emulator.caFile}`,
    );
    io.out(`Applying ${options.examples} with: sync -f ${options.examples} --wait\n`);
    const code = await runSync(
      {
        paths: [options.examples],
        dryRun: false,
        prune: false,
        wait: true,
        watch: false,
        timeoutMs: options.timeoutMs,
        intervalMs: 60_000,
        output: 'table',
        pollMs: 1000,
        fullReadMs: 20_000,
      },
      { io, access: client, logger: options.logger, stop: options.stop },
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
    client.close();
    await emulator.close();
  }
}
