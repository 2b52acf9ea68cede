// Whole-pipeline benchmark: sync the examples to an emulated S3 hub of N devices (default 10,000), then sync
// again. Prints the hub calls of each run: the second must write nothing and read only the query pages.
import { join } from 'node:path';
import { startEmulator } from '../src/emulator/index.js';
import { createHubClient } from '../src/hub/hub-client.js';
import { createLogger } from '../src/observability/logger.js';
import { runSync } from '../src/sync/run-sync.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const logger = createLogger({ level: 'error' });
const emulator = await startEmulator({
  devices: DEVICES,
  seed: 11,
  tier: 'S3',
  units: 1,
  agentDelay: { min: 20, max: 200 },
});
const quiet = { out: () => undefined, err: () => undefined, isTerminal: false };
const examples = join(import.meta.dirname, '..', 'examples');

async function run(label: string, wait: boolean): Promise<void> {
  emulator.hub.stats.reset();
  const client = createHubClient({
    connectionString: emulator.connectionString,
    ca: emulator.caCert,
    tier: 'S3',
    units: 1,
    logger,
  });
  const started = performance.now();
  const code = await runSync(
    {
      paths: [examples],
      dryRun: false,
      prune: false,
      wait,
      watch: false,
      timeoutMs: 600_000,
      intervalMs: 60_000,
      output: 'json',
      pollMs: 500,
    },
    { io: quiet, access: client, logger },
  );
  const seconds = (performance.now() - started) / 1000;
  client.close();
  const stats = emulator.hub.stats;
  console.log(
    `${label}: exit ${code} in ${seconds.toFixed(1)} s; twin updates ${stats.count('twinUpdate', 200)} (412: ${stats.count('twinUpdate', 412)}), queries ${stats.count('query')}, twin reads ${stats.count('twinRead')}, 429s ${Object.values(stats.snapshot().throttled).reduce((a, b) => a + b, 0)}`,
  );
}

console.log(`sync benchmark: ${DEVICES} devices, tier S3, examples/`);
await run('first sync --wait (rollout to convergence)', true);
await run('second sync on the converged hub', false);
await emulator.close();
