// Size of the plan `sync --dry-run` prints for an emulated hub of N devices (default 10,000): one resource that
// changes one setting on every device, then the examples. Prints the bytes of the JSON document (and of its
// `plan`), of the markdown comment and of the text, and how long each dry run took.
import { join } from 'node:path';
import { startEmulator } from '../src/emulator/index.js';
import { createHubClient } from '../src/hub/hub-client.js';
import { createLogger } from '../src/observability/logger.js';
import { runSync, type SyncOptions } from '../src/sync/run-sync.js';
import { writeTempFiles } from '../test/support/resources.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const logger = createLogger({ level: 'error' });
const emulator = await startEmulator({ devices: DEVICES, seed: 11, tier: 'S3', units: 1, throttle: false });

const ONE_SETTING = `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata: { name: everywhere, namespace: iot-security }
spec:
  hubRef: { name: fleet-hub }
  target: { condition: "IS_DEFINED(tags.environment)" }
  agentConfiguration:
    snapshotFrequency: PT3H
`;

async function dryRun(
  path: string,
  output: SyncOptions['output'],
): Promise<{ text: string; ms: number; code: number }> {
  const lines: string[] = [];
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
      paths: [path],
      dryRun: true,
      prune: false,
      wait: false,
      watch: false,
      timeoutMs: 600_000,
      intervalMs: 60_000,
      output,
    },
    { io: { out: (l) => lines.push(l), err: () => undefined, isTerminal: false }, access: client, logger },
  );
  const ms = performance.now() - started;
  client.close();
  return { text: lines.join('\n'), ms, code };
}

const kb = (text: string) => `${(Buffer.byteLength(text) / 1024).toFixed(1)} KB`;

async function measure(label: string, path: string): Promise<void> {
  const json = await dryRun(path, 'json');
  const document = JSON.parse(json.text);
  const markdown = await dryRun(path, 'markdown');
  const table = await dryRun(path, 'table');
  console.log(
    `${label}: exit ${json.code}; ${document.plan.summary.devicesToWrite} twins to write, ${document.plan.summary.settingChanges} setting changes; JSON ${kb(json.text)} (plan ${kb(JSON.stringify(document.plan, null, 2))}, one line ${kb(JSON.stringify(document))}) in ${(json.ms / 1000).toFixed(1)} s; markdown ${kb(markdown.text)}; text ${kb(table.text)}`,
  );
}

console.log(`plan size: ${DEVICES} devices, tier S3`);
await measure(
  'one resource, one setting on every device',
  writeTempFiles({ 'everywhere.yaml': ONE_SETTING }),
);
await measure('examples/', join(import.meta.dirname, '..', 'examples'));
await emulator.close();
