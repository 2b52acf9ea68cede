// The test of record of `export --twin` and `--module`: IoT Plug and Play devices of the emulator (thermostats and
// temperature controllers) and a module of other devices configured by hand, one property owned by another
// manager; the TwinConfigs exported pass `validate` (with the devices' model, when referenced) and a dry run of
// `sync` on them plans no change to any desired property; once sync has taken them over, no write at all, and the
// export is the same bytes. Also: bad flags, and the key never in the output.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type RunningEmulator,
  TEMPERATURE_CONTROLLER_MODEL_ID,
  THERMOSTAT_MODEL_ID,
} from '../../src/emulator/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { loadSyncResources } from '../../src/sync/load-configs.js';
import { runSync } from '../../src/sync/run-sync.js';
import { DEVICE_TWIN, type TwinSlot } from '../../src/twins/types.js';
import { type CliRun, runCliCaptured } from '../support/cli.js';
import { emulatorClient, startHubEmulator } from '../support/emulator-support.js';
import { dryRun } from '../support/export-checks.js';
import { REPO } from '../support/kube.js';
import { writeTempFiles } from '../support/resources.js';

const logger = createLogger({ level: 'error' });
const quiet = { out: () => undefined, err: () => undefined, isTerminal: false };

const outputDir = () => mkdtempSync(join(tmpdir(), 'iso-twin-export-'));

function hubArgs(emulator: RunningEmulator): string[] {
  return ['--connection-string', emulator.connectionString, '--ca-file', emulator.caFile];
}

async function exportTo(emulator: RunningEmulator, path: string, extra: string[]): Promise<CliRun> {
  const run = await runCliCaptured(['export', ...hubArgs(emulator), '-o', path, ...extra]);
  assert.equal(run.code, 0, run.stderr.join('\n'));
  return run;
}

/** The models' ConfigMap as examples/ ships it, in namespace fleet. */
function modelsConfigMap(): string {
  const shipped = readFileSync(join(REPO, 'examples', 'pnp-models.yaml'), 'utf8');
  return shipped.replace('namespace: iot-security', 'namespace: fleet');
}

/** Writes desired properties by hand, through the hub client and the SDK, as a fleet not yet adopted has them. */
async function configureByHand(
  emulator: RunningEmulator,
  slot: TwinSlot,
  desired: Map<string, Record<string, unknown>>,
) {
  const client = emulatorClient(emulator, { tier: 'S3' });
  try {
    if (slot !== DEVICE_TWIN)
      for (const deviceId of desired.keys()) await client.ensureModule({ slot, deviceId });
    const twins = await client.readTwins(slot, [...desired.keys()], { consistent: true });
    await Promise.all(
      [...desired].map(([deviceId, properties]) =>
        client.patchTwin(
          { slot, deviceId },
          { properties: { desired: properties } },
          twins.get(deviceId)!.etag,
        ),
      ),
    );
  } finally {
    client.close();
  }
}

/** Plans `sync -f PATH --dry-run` in process on the hub as it is now: no desired property may change. */
async function assertDryRunChangesNothing(emulator: RunningEmulator, path: string, slot: TwinSlot) {
  const loaded = loadSyncResources([path]);
  assert.ok(loaded.valid, JSON.stringify(loaded.problems));
  const client = emulatorClient(emulator, { tier: 'S3' });
  try {
    const run = dryRun(await client.readSnapshot([slot]), loaded.resources);
    assert.deepEqual(
      run.settingWrites.map((w) => [w.deviceId, w.changedSettings]),
      [],
      'a dry run on the export changes no desired property',
    );
    assert.equal(run.conflictingDevices, 0);
    assert.equal(run.failedDevices, 0);
  } finally {
    client.close();
  }
}

/** `sync -f PATH --dry-run --output json` as the command line runs it: its report, and whether it wrote anything. */
async function cliDryRun(emulator: RunningEmulator, path: string) {
  const updates = emulator.hub.stats.count('twinUpdate');
  const run = await runCliCaptured([
    'sync',
    '-f',
    path,
    ...hubArgs(emulator),
    '--dry-run',
    '--output',
    'json',
  ]);
  assert.ok([0, 1].includes(run.code), run.stderr.join('\n'));
  assert.equal(emulator.hub.stats.count('twinUpdate'), updates, 'a dry run writes nothing');
  return { code: run.code, report: JSON.parse(run.stdout.join('\n')) };
}

async function sync(emulator: RunningEmulator, path: string, manager = 'sync') {
  const client = emulatorClient(emulator, { tier: 'S3' });
  try {
    const options = { paths: [path], dryRun: false, prune: false, wait: false, watch: false, manager };
    const code = await runSync(
      { ...options, timeoutMs: 30_000, intervalMs: 60_000, output: 'json' },
      { io: quiet, access: client, logger },
    );
    assert.equal(code, 0);
  } finally {
    client.close();
  }
}

describe('export of IoT Plug and Play device twins into TwinConfigs', () => {
  let emulator: RunningEmulator;
  const thermostats: string[] = [];
  const controllers: string[] = [];

  before(async () => {
    emulator = await startHubEmulator({
      tier: 'S3',
      pnpDevices: 24,
      pnpSlowRatio: 0,
      pnpControllerRatio: 0.4,
    });
    emulator.addDevices(['gw-1', 'gw-2'].map((deviceId) => ({ deviceId, tags: { role: 'gateway' } })));
    await emulator.pnpIdle();
    const client = emulatorClient(emulator, { tier: 'S3' });
    const sites = new Map<string, string>();
    try {
      for (const device of (await client.readSnapshot([DEVICE_TWIN])).devices) {
        sites.set(device.deviceId, String(device.tags.site));
        if (device.modelId === THERMOSTAT_MODEL_ID) thermostats.push(device.deviceId);
        if (device.modelId === TEMPERATURE_CONTROLLER_MODEL_ID) controllers.push(device.deviceId);
      }
    } finally {
      client.close();
    }
    assert.ok(thermostats.length > 2 && controllers.length > 2, 'the seed gives both models');
    // One site's thermostats are kept cooler; one controller's second thermostat too.
    const coolSite = sites.get(thermostats[0]);
    const desired = new Map<string, Record<string, unknown>>();
    for (const deviceId of thermostats)
      desired.set(deviceId, {
        targetTemperature: sites.get(deviceId) === coolSite ? 19 : 21,
        display: { units: 'C', brightness: 70 },
      });
    for (const [i, deviceId] of controllers.entries())
      desired.set(deviceId, {
        thermostat1: { __t: 'c', targetTemperature: 18 },
        thermostat2: { __t: 'c', targetTemperature: i === 0 ? 17 : 22 },
      });
    await configureByHand(emulator, DEVICE_TWIN, desired);
    // Another pipeline manages a property of its own on the thermostats.
    await sync(
      emulator,
      writeTempFiles({
        'ops.yaml': `apiVersion: iotsecurity.io/v1alpha1
kind: TwinConfig
metadata: { name: eco-mode, namespace: fleet }
spec:
  hubRef: { name: hub }
  target: { condition: "modelId = '${THERMOSTAT_MODEL_ID}'" }
  properties: { mode: eco }
  convergence: None
`,
      }),
      'ops',
    );
  });
  after(() => emulator.close());

  it('writes TwinConfigs of the device twins that validate passes and a dry run of sync finds nothing to change in', async () => {
    const file = join(outputDir(), 'twins.yaml');
    const run = await exportTo(emulator, file, [
      '--twin',
      'device',
      '--namespace',
      'fleet',
      '--hub-name',
      'fleet-hub',
    ]);
    const summary = run.stderr.join('\n');
    assert.match(summary, /wrote the IoTHub fleet-hub and \d+ TwinConfigs? \(\d+ targeted by a condition/);
    assert.match(summary, new RegExp(`${thermostats.length} devices of 26 in 2 configurations`));
    assert.match(
      summary,
      new RegExp(
        `Left out: ${controllers.length + 2} devices without desired properties \\(components aside\\)\\.`,
      ),
    );
    assert.match(summary, /Settings of other managers left out: ops on \d+ devices/);
    assert.match(
      summary,
      new RegExp(
        `Components left out: thermostat1 on ${controllers.length} devices, thermostat2 on ${controllers.length} devices`,
      ),
    );
    assert.match(summary, /Convergence PlugAndPlay: every exported twin announced a model/);
    const text = readFileSync(file, 'utf8');
    assert.match(
      text,
      /name: baseline\n[\s\S]*?properties:\n {4}display:\n {6}brightness: 70\n {6}units: C\n {4}targetTemperature: 21\n/,
    );
    assert.match(text, /targetTemperature: 19\n/);
    assert.doesNotMatch(text, /mode:|__t|\$metadata|\$version|iotSecurityOperator/);
    const key = emulator.connectionString.split('SharedAccessKey=')[1];
    assert.ok(!text.includes(key) && !summary.includes(key), 'never the key');

    const validate = await runCliCaptured(['validate', file]);
    assert.equal(validate.code, 0, validate.stdout.join('\n'));
    await assertDryRunChangesNothing(emulator, file, DEVICE_TWIN);
    const { report } = await cliDryRun(emulator, file);
    assert.equal(report.plan.summary.settingChanges, 0, 'no desired property changes');
  });

  it('exports one component of the temperature controllers, judged by their model from a ConfigMap', async () => {
    const dir = `${outputDir()}/tree/`;
    const run = await exportTo(emulator, dir, [
      '--twin',
      'device',
      '--component',
      'thermostat2',
      '--model-id',
      TEMPERATURE_CONTROLLER_MODEL_ID,
      '--schema-configmap',
      'pnp-models/temperaturecontroller-2.expanded.json',
      '--namespace',
      'fleet',
    ]);
    assert.match(
      run.stderr.join('\n'),
      new RegExp(`Left out: ${thermostats.length + 2} devices of another model\\.`),
    );
    const baseline = readFileSync(join(dir, 'thermostat2-baseline.yaml'), 'utf8');
    assert.match(
      baseline,
      /twin:\n {4}component: thermostat2\n {2}properties:\n {4}targetTemperature: 22\n {2}schema:\n {4}configMapKeyRef:\n {6}name: pnp-models\n {6}key: temperaturecontroller-2\.expanded\.json\n {4}format: DTDL\n/,
    );
    assert.doesNotMatch(baseline, /__t/);

    const alone = await runCliCaptured(['validate', dir]);
    assert.equal(alone.code, 1, 'the model is not among the files');
    assert.match(alone.stdout.join('\n'), /ConfigMap pnp-models is not among the files/);
    writeFileSync(join(dir, 'pnp-models.yaml'), modelsConfigMap());
    const validate = await runCliCaptured(['validate', dir]);
    assert.equal(validate.code, 0, validate.stdout.join('\n'));
    await assertDryRunChangesNothing(emulator, dir, DEVICE_TWIN);
  });

  it('exits 2 naming the flag when the flags are wrong, before reading anything', async () => {
    const queries = emulator.hub.stats.count('query');
    for (const [flags, message] of [
      [['--component', 'thermostat1'], /--component is for TwinConfigs: give --twin device or --module ID/],
      [['--twin', 'module'], /--twin must be 'device'/],
      [['--twin', 'device', '--module', 'sensor'], /--twin and --module: give one/],
      [
        ['--twin', 'device', '--convergence', 'Eventually'],
        /--convergence must be one of PlugAndPlay, Mirror, None/,
      ],
      [['--twin', 'device', '--model-id', 'thermostat'], /--model-id must be a DTMI/],
      [['--twin', 'device', '--component', '1st'], /--component: '1st' is not valid/],
      [['--module', 'no spaces'], /--module: 'no spaces' is not valid/],
      [['--twin', 'device', '--schema-configmap', 'pnp-models'], /--schema-configmap must be NAME\/KEY/],
      [
        ['--twin', 'device', '--schema-configmap', 'pnp-models/a b'],
        /--schema-configmap: 'a b' is not valid/,
      ],
      [['--twin', 'device', '--schema-format', 'DTDL'], /--schema-format says what --schema-configmap holds/],
    ] as const) {
      const run = await runCliCaptured(['export', ...hubArgs(emulator), ...flags]);
      assert.equal(run.code, 2, flags.join(' '));
      assert.match(run.stderr.join('\n'), message);
      assert.match(run.stderr.join('\n'), /Run 'iot-security-operator export --help' for usage\./);
    }
    assert.equal(emulator.hub.stats.count('query'), queries, 'nothing was read');
  });

  it('once sync has taken the export over, a dry run plans no write at all and the export gives the same bytes', async () => {
    const dir = outputDir();
    const first = join(dir, 'first.yaml');
    await exportTo(emulator, first, ['--twin', 'device', '--namespace', 'fleet', '--hub-name', 'hub']);
    await sync(emulator, first);
    const { code, report } = await cliDryRun(emulator, first);
    assert.equal(report.plan.summary.devicesToWrite, 0, JSON.stringify(report.plan.summary));
    assert.equal(code, 0, 'no change');
    const second = join(dir, 'second.yaml');
    await exportTo(emulator, second, ['--twin', 'device', '--namespace', 'fleet', '--hub-name', 'hub']);
    assert.equal(readFileSync(second, 'utf8'), readFileSync(first, 'utf8'));
  });
});

describe('export of a module twin into TwinConfigs', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startHubEmulator({ tier: 'S3', seed: 3, devices: 12 });
    const desired = new Map<string, Record<string, unknown>>();
    for (let i = 1; i <= 8; i++)
      desired.set(`device-00000${i}`, { interval: i <= 6 ? 30 : 60, filters: ['cpu', 'disk'] });
    await configureByHand(emulator, 'sensor', desired);
  });
  after(() => emulator.close());

  it("writes TwinConfigs of the module's properties that validate passes and a dry run of sync finds nothing to change in", async () => {
    const file = join(outputDir(), 'sensor.yaml');
    const run = await exportTo(emulator, file, ['--module', 'sensor']);
    const summary = run.stderr.join('\n');
    assert.match(summary, /8 devices of 12 in 2 configurations/);
    assert.match(summary, /Left out: 4 devices without the module 'sensor'\./);
    assert.match(summary, /Convergence Mirror: 0 of 8 exported twins announced a model/);
    const text = readFileSync(file, 'utf8');
    assert.match(
      text,
      /name: sensor-baseline\n[\s\S]*?twin:\n {4}moduleId: sensor\n {2}properties:\n {4}filters:\n {6}- cpu\n {6}- disk\n {4}interval: 30\n/,
    );
    assert.match(text, /name: sensor-devices-device-000007-and-1-more\n/);
    assert.equal((await runCliCaptured(['validate', file])).code, 0);
    await assertDryRunChangesNothing(emulator, file, 'sensor');
  });
});
