// End-to-end: `sync --wait` on a TwinConfig whose staged rollout halts past its failureThreshold, because legacy
// firmware refuses the value. Nothing can progress without a change of spec: the run has to end at once with exit
// status 1, saying the rollout halted and why, not wait for the later batches until --timeout.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { LEGACY_FIRMWARE, type RunningEmulator, THERMOSTAT_MODEL_ID } from '../../src/emulator/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { EXIT_FAILED } from '../../src/sync/exit-status.js';
import { runSync, type SyncOptions } from '../../src/sync/run-sync.js';
import { DEVICE_TWIN } from '../../src/twins/types.js';
import { emulatorClient, startHubEmulator } from '../support/emulator-support.js';
import { REPO } from '../support/kube.js';
import { twinConfig, writeTempFiles } from '../support/resources.js';

const logger = createLogger({ level: 'error' });
const NAMESPACE = 'fleet';
const RESOURCE = 'fleet/TwinConfig/thermostats';
/** Inside what the model and the current firmware take (5..35), outside what the legacy firmware does (10..30). */
const REFUSED_BY_LEGACY = 33;
const THERMOSTATS = 20;
/** A quarter of the thermostats per batch. */
const BATCH = THERMOSTATS / 4;
const TIMEOUT_MS = 60_000;

function models(): string {
  const shipped = readFileSync(join(REPO, 'examples', 'pnp-models.yaml'), 'utf8');
  return shipped.replace('namespace: iot-security', `namespace: ${NAMESPACE}`);
}

function files(): Record<string, string> {
  const thermostats = twinConfig(
    'thermostats',
    {
      target: { condition: `modelId = '${THERMOSTAT_MODEL_ID}'` },
      priority: 10,
      properties: { targetTemperature: REFUSED_BY_LEGACY },
      schema: { configMapKeyRef: { name: 'pnp-models', key: 'thermostat-1.json' }, format: 'DTDL' },
      rollout: { batchSize: '25%', failureThreshold: '10%' },
    },
    { namespace: NAMESPACE },
  );
  return { 'models.yaml': models(), 'thermostats.yaml': stringify(thermostats, { lineWidth: 0 }) };
}

interface Run {
  code: number;
  out: string[];
  err: string[];
  seconds: number;
}

async function syncWait(emulator: RunningEmulator, options: Partial<SyncOptions> = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const client = emulatorClient(emulator, { tier: 'S3' });
  const started = Date.now();
  try {
    const code = await runSync(
      {
        paths: [writeTempFiles(files())],
        dryRun: false,
        prune: false,
        wait: true,
        watch: false,
        timeoutMs: TIMEOUT_MS,
        intervalMs: 60_000,
        output: 'table',
        pollMs: 100,
        fullReadMs: 2000,
        ...options,
      },
      { io: { out: (l) => out.push(l), err: (l) => err.push(l), isTerminal: false }, access: client, logger },
    );
    return { code, out, err, seconds: (Date.now() - started) / 1000 };
  } finally {
    client.close();
  }
}

describe('sync --wait on a rollout that halts past its failureThreshold', () => {
  let emulator: RunningEmulator;
  /** The thermostats in the order the rollout takes them (by device id), and which of them run legacy firmware. */
  let thermostats: string[] = [];
  let legacy = new Set<string>();

  before(async () => {
    emulator = await startHubEmulator({
      tier: 'S3',
      pnpDevices: THERMOSTATS,
      pnpControllerRatio: 0,
      pnpSlowRatio: 0,
      pnpLegacyRatio: 0.5,
    });
    await emulator.pnpIdle();
    const client = emulatorClient(emulator, { tier: 'S3' });
    try {
      const { devices } = await client.readSnapshot([DEVICE_TWIN]);
      thermostats = devices
        .filter((d) => d.modelId === THERMOSTAT_MODEL_ID)
        .map((d) => d.deviceId)
        .sort();
      legacy = new Set(
        devices.filter((d) => d.tags.firmware === LEGACY_FIRMWARE.version).map((d) => d.deviceId),
      );
    } finally {
      client.close();
    }
    // The seed puts legacy firmware in the first batch, and current firmware beside it: the test needs both.
    const first = thermostats.slice(0, BATCH);
    assert.equal(thermostats.length, THERMOSTATS);
    assert.ok(first.some((d) => legacy.has(d)) && first.some((d) => !legacy.has(d)), first.join(', '));
  });
  after(() => emulator.close());

  it('exits 1 at once, its table saying the rollout halted and which devices refused the value in their words', async () => {
    const updatesBefore = emulator.hub.stats.count('twinUpdate', 200);
    const run = await syncWait(emulator);
    const text = run.out.join('\n');
    assert.equal(
      run.code,
      EXIT_FAILED,
      `exit 1, not a timeout (3) or success (0)\n${text}\n${run.err.join('\n')}`,
    );
    assert.match(run.err.join('\n'), /stopped waiting: a resource cannot become Ready without a change/);

    const firstBatch = thermostats.slice(0, BATCH);
    const refused = firstBatch.filter((d) => legacy.has(d));
    // Only the first batch was written: the later ones never got the value.
    assert.equal(emulator.hub.stats.count('twinUpdate', 200) - updatesBefore, BATCH);
    const row = run.out.find((l) => l.startsWith(`${RESOURCE} `));
    assert.ok(row, text);
    assert.match(row, /False \(RolloutHalted\)$/);
    const header = run.out.find((l) => l.startsWith('RESOURCE '))!.split(/\s+/);
    const cells = row.split(/\s+/);
    const column = (name: string) => cells[header.indexOf(name)];
    assert.deepEqual(
      [column('TARGETED'), column('CONVERGED'), column('REJECTED')],
      [String(THERMOSTATS), String(BATCH - refused.length), String(refused.length)],
    );
    assert.match(
      text,
      new RegExp(
        `^${RESOURCE}: rollout halted: ${refused.length} of ${BATCH} devices reached are stalled, failed or rejected, above failureThreshold 10% \\(${refused[0]}: targetTemperature refused \\(400\\): targetTemperature 33 is outside 10\\.\\.30 °C, the range firmware 1\\.9\\.3 accepts\\); fix the cause`,
        'm',
      ),
    );
    assert.match(
      text,
      new RegExp(`^ {2}${refused[0]}: DeviceRejected: targetTemperature refused \\(400\\)`, 'm'),
    );
  });

  it('reports the halt in JSON: ending stuck, Ready False RolloutHalted, the rollout status halted after one batch', async () => {
    const run = await syncWait(emulator, { output: 'json' });
    assert.equal(run.code, EXIT_FAILED, run.err.join('\n'));
    const report = JSON.parse(run.out.join('\n'));
    assert.equal(report.ending, 'stuck');
    assert.equal(report.ready, false);
    const { status } = report.resources.find((r: { resource: string }) => r.resource === RESOURCE);
    const ready = status.conditions.find((c: { type: string }) => c.type === 'Ready');
    assert.deepEqual([ready.status, ready.reason], ['False', 'RolloutHalted']);
    assert.deepEqual(
      [status.rollout.halted, status.rollout.reachedDevices, status.rollout.batchSize],
      [true, BATCH, BATCH],
    );
    const refused = thermostats.slice(0, BATCH).filter((d) => legacy.has(d));
    assert.deepEqual(
      status.failures.map((f: { deviceId: string; reason: string }) => [f.deviceId, f.reason]),
      refused.map((d) => [d, 'DeviceRejected']),
    );
  });
});
