// Export benchmark: `export` of an emulated hub of 10,000 and of 100,000 devices (BENCH_DEVICES=N for one size, 0
// for none), then `export --twin device` of 10,000 IoT Plug and Play devices (BENCH_PNP_DEVICES=N, 0 for none).
// Each fleet is configured first by `sync` (security agents: a baseline, three site layers, a layer for staging
// cameras and a device list; PnP devices: TwinConfigs for each model, a site layer, a component and a device
// list), as a fleet about to be adopted would be; the export then runs as a process of its own, so that its time,
// CPU and peak memory are its own and not the emulator's. Prints those figures, the resources written, and checks
// that validate passes and that a dry run of sync on the export plans no change.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fleetDeviceId } from '../src/emulator/fleet.js';
import {
  type RunningEmulator,
  startEmulator,
  TEMPERATURE_CONTROLLER_MODEL_ID,
  THERMOSTAT_MODEL_ID,
} from '../src/emulator/index.js';
import { pnpDeviceId } from '../src/emulator/pnp-fleet.js';
import { createHubClient } from '../src/hub/hub-client.js';
import { createLogger } from '../src/observability/logger.js';
import { SECURITY_MODULE_ID } from '../src/profiles/security-agent/profile.js';
import { loadSyncResources } from '../src/sync/load-configs.js';
import { runSync } from '../src/sync/run-sync.js';
import { DEVICE_TWIN, type TwinSlot } from '../src/twins/types.js';
import { dryRun } from '../test/support/export-checks.js';

const REPO = resolve(import.meta.dirname, '..');
const USAGE_REPORTER = join(REPO, 'bench/rollout/usage-reporter.mjs');
const HEAP_CAP_MB = Number(process.env.BENCH_HEAP_CAP_MB ?? 96);
/**
 * The tier and units the export is told, which pace its queries: by default an S3 hub of 10 units, so that the
 * export's own work is measured; BENCH_TIER=S1 BENCH_UNITS=1 shows the pace of an S1 hub's query quota.
 */
const TIER = process.env.BENCH_TIER ?? 'S3';
const UNITS = process.env.BENCH_UNITS ?? '10';
const SIZES = (process.env.BENCH_DEVICES ? [Number(process.env.BENCH_DEVICES)] : [10_000, 100_000]).filter(
  (n) => n > 0,
);
const PNP_DEVICES = Number(process.env.BENCH_PNP_DEVICES ?? 10_000);
const logger = createLogger({ level: 'error' });
const quiet = { out: () => undefined, err: () => undefined, isTerminal: false };
/** Far above what the emulator answers: the client's limiter is not what is measured. */
const UNLIMITED = { twinUpdatesPerSecond: 1e6, twinReadsPerSecond: 1e6, queriesPerMinute: 1e6 };

function smc(name: string, spec: string): string {
  return `apiVersion: iotsecurity.io/v1alpha1\nkind: SecurityModuleConfig\nmetadata: { name: ${name}, namespace: fleet }\nspec:\n  hubRef: { name: hub }\n${spec}`;
}

/** What the fleet is configured with: every 997th device is on a list of its own. */
function fleetFiles(devices: number): Record<string, string> {
  const odd = [];
  for (let i = 997; i <= devices; i += 997) odd.push(fleetDeviceId(i, devices));
  const site = (name: string, frequency: string) =>
    smc(
      `site-${name}`,
      `  target: { condition: "tags.site = '${name}' AND tags.environment = 'production'" }\n  priority: 50\n  agentConfiguration: { highPriorityMessageFrequency: ${frequency} }\n`,
    );
  return {
    'baseline.yaml': smc(
      'baseline',
      `  target: { condition: "tags.environment IN ['production', 'staging']" }\n  priority: 10\n  agentConfiguration:\n    highPriorityMessageFrequency: PT5M\n    lowPriorityMessageFrequency: PT2H\n    snapshotFrequency: PT12H\n    eventPriorities: { Login: High, LocalUsers: High, Diagnostic: 'Off' }\n`,
    ),
    'ams.yaml': site('ams-dc1', 'PT1M'),
    'fra.yaml': site('fra-plant2', 'PT2M'),
    'austin.yaml': site('austin-fab1', 'PT3M'),
    'cameras.yaml': smc(
      'staging-cameras',
      `  target: { condition: "tags.environment = 'staging' AND tags.deviceType = 'ip-camera'" }\n  priority: 30\n  agentConfiguration: { eventPriorities: { ProcessCreate: High } }\n`,
    ),
    'odd.yaml': smc(
      'odd',
      `  target: { deviceIds: [${odd.join(', ')}] }\n  priority: 90\n  agentConfiguration: { hubResourceId: odd }\n`,
    ),
  };
}

function twinConfig(name: string, spec: string): string {
  return `apiVersion: iotsecurity.io/v1alpha1\nkind: TwinConfig\nmetadata: { name: ${name}, namespace: fleet }\nspec:\n  hubRef: { name: hub }\n  convergence: None\n${spec}`;
}

/** What the PnP fleet is configured with: every 997th device is on a list of its own. */
function pnpFiles(devices: number): Record<string, string> {
  const odd = [];
  for (let i = 997; i <= devices; i += 997) odd.push(pnpDeviceId(i, devices));
  return {
    'thermostats.yaml': twinConfig(
      'thermostats',
      `  target: { condition: "modelId = '${THERMOSTAT_MODEL_ID}'" }\n  priority: 10\n  properties:\n    targetTemperature: 21\n    display: { units: C, brightness: 70 }\n`,
    ),
    'ams.yaml': twinConfig(
      'ams-thermostats',
      `  target: { condition: "modelId = '${THERMOSTAT_MODEL_ID}' AND tags.site = 'ams-dc1'" }\n  priority: 50\n  properties: { targetTemperature: 19 }\n`,
    ),
    'controllers.yaml': twinConfig(
      'controllers',
      `  target: { condition: "modelId = '${TEMPERATURE_CONTROLLER_MODEL_ID}'" }\n  priority: 10\n  properties: { display: { units: F, brightness: 40 } }\n`,
    ),
    'thermostat1.yaml': twinConfig(
      'controller-thermostat1',
      `  target: { condition: "modelId = '${TEMPERATURE_CONTROLLER_MODEL_ID}'" }\n  twin: { component: thermostat1 }\n  properties: { targetTemperature: 18 }\n`,
    ),
    'odd.yaml': twinConfig(
      'odd',
      `  target: { deviceIds: [${odd.join(', ')}] }\n  priority: 90\n  properties: { mode: eco }\n`,
    ),
  };
}

async function configure(emulator: RunningEmulator, files: Record<string, string>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-export-in-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const client = createHubClient({
    connectionString: emulator.connectionString,
    ca: emulator.caCert,
    tier: 'S3',
    units: 10,
    rateLimits: UNLIMITED,
    logger,
  });
  try {
    const options = { paths: [dir], dryRun: false, prune: false, wait: false, watch: false };
    const code = await runSync(
      { ...options, timeoutMs: 600_000, intervalMs: 60_000, output: 'json' },
      { io: quiet, access: client, logger },
    );
    if (code !== 0) throw new Error(`sync exited ${code}`);
  } finally {
    client.close();
  }
}

interface Figures {
  code: number | null;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  stderr: string;
}

/** `export ARGS` as a process of its own; a preloaded module reports its CPU time and peak RSS. */
function runExport(emulator: RunningEmulator, args: string[], nodeOptions: string[] = []): Promise<Figures> {
  const usageFile = join(mkdtempSync(join(tmpdir(), 'bench-usage-')), 'usage.json');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...nodeOptions,
      '--import',
      USAGE_REPORTER,
      '--import',
      'tsx',
      join(REPO, 'src/cli/main.ts'),
      'export',
      ...args,
    ],
    {
      cwd: REPO,
      env: {
        ...process.env,
        IOTHUB_CONNECTION_STRING: emulator.connectionString,
        BENCH_USAGE_FILE: usageFile,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((done) =>
    child.once('exit', (code) => {
      const wallSeconds = (performance.now() - started) / 1000;
      const usage = JSON.parse(readFileSync(usageFile, 'utf8'));
      done({ code, wallSeconds, ...usage, stderr });
    }),
  );
}

async function dryRunChanges(emulator: RunningEmulator, file: string, slot: TwinSlot): Promise<string> {
  const loaded = loadSyncResources([file]);
  if (!loaded.valid) return `validate: ${loaded.problems.length} problems`;
  const client = createHubClient({
    connectionString: emulator.connectionString,
    ca: emulator.caCert,
    tier: 'S3',
    units: 10,
    rateLimits: UNLIMITED,
    logger,
  });
  try {
    const run = dryRun(await client.readSnapshot([slot]), loaded.resources);
    return `validate: valid; sync --dry-run: ${run.settingWrites.length} setting changes, ${run.conflictingDevices} conflicts, ${run.failedDevices} failures`;
  } finally {
    client.close();
  }
}

const mb = (n: number) => `${Math.round(n)} MB`;

/** What the summary says was written: how many resources of which kind, by condition and by device list. */
function writtenOf(stderr: string): string {
  const written =
    /and (\d+) (SecurityModuleConfig|TwinConfig)s? \((\d+) targeted by a condition, (\d+) by a device list\)/.exec(
      stderr,
    )!;
  return `${written[1]} ${written[2]}${written[1] === '1' ? '' : 's'} and the IoTHub written (${written[3]} by condition, ${written[4]} by device list)`;
}

/** Runs the export (`args` besides the hub's), then again with the heap capped; prints the figures of both. */
async function measure(
  emulator: RunningEmulator,
  label: string,
  args: string[],
  slot: TwinSlot,
): Promise<void> {
  const HUB = ['--ca-file', emulator.caFile, '--tier', TIER, '--units', UNITS];
  const idle = await runExport(emulator, ['--help']);
  const file = join(mkdtempSync(join(tmpdir(), 'bench-export-out-')), 'fleet.yaml');
  emulator.hub.stats.reset();
  const run = await runExport(emulator, [...HUB, ...args, '-o', file]);
  if (run.code !== 0) throw new Error(`export exited ${run.code}: ${run.stderr}`);
  console.log(
    `${label}: ${run.wallSeconds.toFixed(1)} s wall, ${run.cpuSeconds.toFixed(1)} s CPU, peak RSS ${mb(run.peakRssMb)} (the command doing nothing: ${mb(idle.peakRssMb)}); ${emulator.hub.stats.count('query')} query pages; ${writtenOf(run.stderr)}, ${(statSync(file).size / 1024).toFixed(0)} KiB`,
  );
  console.log(`  ${await dryRunChanges(emulator, file, slot)}`);
  // Peak RSS is mostly garbage V8 has not collected yet: with the heap capped, the same export still runs.
  const capped = await runExport(
    emulator,
    [...HUB, ...args, '-o', `${file}.capped`],
    [`--max-old-space-size=${HEAP_CAP_MB}`],
  );
  console.log(
    `  with the heap capped at ${HEAP_CAP_MB} MB (--max-old-space-size): exit ${capped.code}, ${capped.wallSeconds.toFixed(1)} s wall, ${capped.cpuSeconds.toFixed(1)} s CPU, peak RSS ${mb(capped.peakRssMb)}`,
  );
}

console.log(
  `export benchmark: seeded fleet (emulator unthrottled, devices offline), configured by sync first; the export told tier ${TIER}, ${UNITS} units`,
);
for (const devices of SIZES) {
  const emulator = await startEmulator({
    devices,
    seed: 5,
    tier: 'S3',
    units: 10,
    throttle: false,
    offlineRatio: 1,
  });
  try {
    await configure(emulator, fleetFiles(devices));
    await measure(emulator, `${devices.toLocaleString('en-US')} devices`, [], SECURITY_MODULE_ID);
  } finally {
    await emulator.close();
  }
}

if (PNP_DEVICES > 0) {
  // Offline devices acknowledge nothing: the emulator does no work of its own while the export reads it.
  const emulator = await startEmulator({
    pnpDevices: PNP_DEVICES,
    pnpControllerRatio: 0.3,
    seed: 5,
    tier: 'S3',
    units: 10,
    throttle: false,
    offlineRatio: 1,
  });
  try {
    await configure(emulator, pnpFiles(PNP_DEVICES));
    const devices = PNP_DEVICES.toLocaleString('en-US');
    await measure(
      emulator,
      `${devices} IoT Plug and Play devices, --twin device`,
      ['--twin', 'device'],
      DEVICE_TWIN,
    );
    await measure(
      emulator,
      `${devices} IoT Plug and Play devices, --twin device --component thermostat1 --model-id ${TEMPERATURE_CONTROLLER_MODEL_ID}`,
      ['--twin', 'device', '--component', 'thermostat1', '--model-id', TEMPERATURE_CONTROLLER_MODEL_ID],
      DEVICE_TWIN,
    );
  } finally {
    await emulator.close();
  }
}
