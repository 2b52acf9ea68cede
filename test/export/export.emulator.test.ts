// The test of record: `export` of emulated fleets, then `sync --dry-run` on what it wrote plans no change to any
// desired setting. One fleet configured by hand (desired properties written through the SDK) into groups by site,
// one odd group only a device list captures, devices without the module or a configuration; one configured by
// `sync` runs of two managers. Also: --manager, refused and malformed credentials, stable output, validate.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { createLogger } from '../../src/observability/logger.js';
import {
  AGENT_CONFIGURATION_KEY,
  type AgentSettings,
  wrapSettings,
} from '../../src/profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { loadSyncResources } from '../../src/sync/load-configs.js';
import { runSync } from '../../src/sync/run-sync.js';
import { type CliRun, runCliCaptured } from '../support/cli.js';
import { emulatorClient, startHubEmulator } from '../support/emulator-support.js';
import { dryRun } from '../support/export-checks.js';
import { writeTempFiles } from '../support/resources.js';

const logger = createLogger({ level: 'error' });

const outputDir = () => mkdtempSync(join(tmpdir(), 'iso-export-'));

function hubArgs(emulator: RunningEmulator): string[] {
  return ['--connection-string', emulator.connectionString, '--ca-file', emulator.caFile];
}

async function exportTo(emulator: RunningEmulator, path: string, extra: string[] = []): Promise<CliRun> {
  const run = await runCliCaptured(['export', ...hubArgs(emulator), '-o', path, ...extra]);
  assert.equal(run.code, 0, run.stderr.join('\n'));
  return run;
}

/** Plans `sync -f PATH --dry-run --manager MANAGER` in process on the hub as it is now. */
async function dryRunOf(emulator: RunningEmulator, path: string, manager = 'sync') {
  const loaded = loadSyncResources([path]);
  assert.ok(loaded.valid, JSON.stringify(loaded.problems));
  const client = emulatorClient(emulator, { tier: 'S3' });
  try {
    return {
      ...dryRun(await client.readSnapshot([SECURITY_MODULE_ID]), loaded.resources, manager),
      resources: loaded.resources,
    };
  } finally {
    client.close();
  }
}

function assertNoSettingChanges(run: Awaited<ReturnType<typeof dryRunOf>>) {
  assert.deepEqual(
    run.settingWrites.map((w) => [w.deviceId, w.changedSettings]),
    [],
    'a dry run on the export changes no desired setting',
  );
  assert.equal(run.conflictingDevices, 0);
  assert.equal(run.failedDevices, 0);
}

/** Writes each device's desired configuration by hand, through the hub client and the SDK. */
async function configureByHand(emulator: RunningEmulator, settings: Map<string, AgentSettings>) {
  const client = emulatorClient(emulator, { tier: 'S3' });
  try {
    const twins = await client.readTwins(SECURITY_MODULE_ID, [...settings.keys()], { consistent: true });
    await Promise.all(
      [...settings].map(([deviceId, values]) =>
        client.patchTwin(
          { slot: SECURITY_MODULE_ID, deviceId: deviceId },
          { properties: { desired: { [AGENT_CONFIGURATION_KEY]: wrapSettings(values) } } },
          twins.get(deviceId)!.etag,
        ),
      ),
    );
  } finally {
    client.close();
  }
}

const FLEET = {
  eventPriorityLogin: 'High',
  snapshotFrequency: 'PT12H',
  highPriorityMessageFrequency: 'PT5M',
};
const AMS = { ...FLEET, highPriorityMessageFrequency: 'PT1M', lowPriorityMessageFrequency: 'PT30M' };
const FRA_LAB = { ...FLEET, eventPriorityDiagnostic: 'Off' };
const ODD = { ...FLEET, hubResourceId: 'odd' };

describe('export of a fleet configured by hand', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startHubEmulator({ tier: 'S3' });
    const devices = [];
    const settings = new Map<string, AgentSettings>();
    for (const site of ['ams', 'fra', 'lyon'])
      for (const environment of ['production', 'lab'])
        for (let i = 0; i < 5; i++) {
          const deviceId = `${site}-${environment}-${i}`;
          devices.push({ deviceId, tags: { site, environment, rack: `r${i}` }, online: true });
          const odd = (site === 'ams' && environment === 'lab' && i === 4) || (site === 'lyon' && i === 2);
          settings.set(
            deviceId,
            odd ? ODD : site === 'ams' ? AMS : site === 'fra' && environment === 'lab' ? FRA_LAB : FLEET,
          );
        }
    devices.push({ deviceId: 'fra-bare', tags: { site: 'fra', environment: 'lab' }, securityModule: false });
    devices.push({ deviceId: 'lyon-unconfigured', tags: { site: 'lyon', environment: 'production' } });
    emulator.addDevices(devices);
    await configureByHand(emulator, settings);
  });
  after(() => emulator.close());

  it('writes a baseline and layers that a dry run of sync finds nothing to change in, and validate passes', async () => {
    const dir = outputDir();
    const file = join(dir, 'fleet.yaml');
    const run = await exportTo(emulator, file, ['--namespace', 'fleet', '--hub-name', 'fleet-hub']);
    const summary = run.stderr.join('\n');
    assert.doesNotMatch(summary, /reading|\r/, 'no progress when standard error is no terminal');
    assert.match(
      summary,
      /wrote the IoTHub fleet-hub and 4 SecurityModuleConfigs \(3 targeted by a condition, 1 by a device list\)/,
    );
    assert.match(summary, /30 devices of 32 in 4 configurations/);
    assert.match(
      summary,
      /Left out: 1 device without the security module, 1 device without a configuration\./,
    );
    const text = readFileSync(file, 'utf8');
    // Only the configured devices carry a rack tag.
    assert.match(text, /name: baseline\n[\s\S]*?condition: IS_DEFINED\(tags\.rack\)\n/);
    assert.match(text, /condition: tags\.site = 'ams' AND deviceId NIN \['ams-lab-4'\]/);
    assert.match(
      text,
      /condition: tags\.environment = 'lab' AND tags\.site = 'fra' AND deviceId NIN \['fra-bare'\]/,
    );
    assert.match(
      text,
      /name: devices-ams-lab-4-and-2-more\n[\s\S]*?deviceIds:\n\s+- ams-lab-4\n\s+- lyon-lab-2\n/,
    );
    assert.match(text, /kind: IoTHub\n[\s\S]*connectionStringSecretRef:\n {4}name: fleet-hub-credentials/);
    assert.ok(!text.includes(emulator.connectionString.split('SharedAccessKey=')[1]), 'never the key');

    const validate = await runCliCaptured(['validate', file]);
    assert.equal(validate.code, 0, validate.stdout.join('\n'));
    assert.match(validate.stderr.join('\n'), /valid: 5 resources in 1 file, 0 errors, 0 warnings/);
    assertNoSettingChanges(await dryRunOf(emulator, file));

    // The command line's dry run agrees (its only changes are the ownership records: adoption), and writes nothing.
    const updates = emulator.hub.stats.count('twinUpdate');
    const sync = await runCliCaptured([
      'sync',
      '-f',
      file,
      ...hubArgs(emulator),
      '--dry-run',
      '--output',
      'json',
    ]);
    assert.ok([0, 1].includes(sync.code), sync.stderr.join('\n'));
    const report = JSON.parse(sync.stdout.join('\n'));
    assert.equal(report.plan.summary.settingChanges, 0, 'no desired setting changes');
    assert.equal(emulator.hub.stats.count('twinUpdate'), updates);
  });

  it('writes the same bytes for the same hub, to a file or as one file per document in a directory', async () => {
    const dir = outputDir();
    await exportTo(emulator, join(dir, 'a.yaml'));
    await exportTo(emulator, join(dir, 'b.yaml'));
    assert.equal(readFileSync(join(dir, 'a.yaml'), 'utf8'), readFileSync(join(dir, 'b.yaml'), 'utf8'));
    const stdout = await runCliCaptured(['export', ...hubArgs(emulator)]);
    assert.equal(`${stdout.stdout.join('\n')}\n`, readFileSync(join(dir, 'a.yaml'), 'utf8'));

    const tree = join(dir, 'tree');
    await exportTo(emulator, `${tree}/`);
    assert.deepEqual(readdirSync(tree).sort(), [
      'baseline.yaml',
      'devices-ams-lab-4-and-2-more.yaml',
      'environment-lab-and-site-fra-except-1.yaml',
      'iothub.yaml',
      'site-ams-except-1.yaml',
    ]);
    assert.equal((await runCliCaptured(['validate', tree])).code, 0);
    assertNoSettingChanges(await dryRunOf(emulator, tree));
    const again = await runCliCaptured(['export', ...hubArgs(emulator), '-o', tree]);
    assert.equal(again.code, 2, 'a directory that is not empty is refused');
    assert.match(again.stderr.join('\n'), /is not empty/);
  });

  it('exits 1 naming the reason when the hub refuses the credentials, and writes nothing', async () => {
    const wrongKey = Buffer.alloc(32, 7).toString('base64');
    const wrong = emulator.connectionString.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${wrongKey}`);
    const dir = outputDir();
    const file = join(dir, 'fleet.yaml');
    const run = await runCliCaptured([
      'export',
      '--connection-string',
      wrong,
      '--ca-file',
      emulator.caFile,
      '-o',
      file,
    ]);
    assert.equal(run.code, 1);
    const text = run.stderr.join('\n');
    assert.match(text, /^export: Unauthorized: .*; nothing was written$/m);
    assert.ok(!text.includes(wrongKey), 'the key is not shown');
    assert.deepEqual(readdirSync(dir), [], 'not even a partial file');
    assert.deepEqual(run.stdout, []);
  });

  it('exits 2 on a malformed connection string or bad flags, before reading anything', async () => {
    const malformed = await runCliCaptured([
      'export',
      '--connection-string',
      'HostName=;SharedAccessKey=abc',
    ]);
    assert.equal(malformed.code, 2);
    assert.ok(!malformed.stderr.join('\n').includes('SharedAccessKey=abc'));
    for (const flags of [
      ['--manager', 'Not_A_Label'],
      ['--namespace', 'No Spaces'],
      ['--hub-name', '-bad-'],
      ['--tier', 'B1'],
      ['-o', join(outputDir(), 'missing', 'x.yaml')],
    ])
      assert.equal(
        (await runCliCaptured(['export', ...hubArgs(emulator), ...flags])).code,
        2,
        flags.join(' '),
      );
    assert.ok(!existsSync(join(tmpdir(), 'missing')));
  });
});

const SMC = (name: string, spec: string) => `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata: { name: ${name}, namespace: gitops }
spec:
  hubRef: { name: hub }
${spec}`;

describe('export of a fleet configured by sync, and of what each manager owns', () => {
  let emulator: RunningEmulator;
  async function sync(files: Record<string, string>, manager: string) {
    const client = emulatorClient(emulator, { tier: 'S3' });
    try {
      const quiet = { out: () => undefined, err: () => undefined, isTerminal: false };
      const code = await runSync(
        {
          paths: [writeTempFiles(files)],
          dryRun: false,
          prune: false,
          wait: false,
          watch: false,
          timeoutMs: 30_000,
          intervalMs: 60_000,
          output: 'json',
          manager,
        },
        { io: quiet, access: client, logger },
      );
      assert.equal(code, 0);
    } finally {
      client.close();
    }
  }

  before(async () => {
    emulator = await startHubEmulator({ tier: 'S3', seed: 7, devices: 300 });
    await sync(
      {
        'baseline.yaml': SMC(
          'fleet-baseline',
          `  target: { condition: "tags.environment IN ['production', 'staging']" }
  priority: 10
  agentConfiguration:
    highPriorityMessageFrequency: PT5M
    lowPriorityMessageFrequency: PT2H
    eventPriorities: { Login: High, Diagnostic: 'Off' }
`,
        ),
        'site.yaml': SMC(
          'ams-strict',
          `  target: { condition: "tags.site = 'ams-dc1' AND tags.environment = 'production'" }
  priority: 50
  agentConfiguration:
    highPriorityMessageFrequency: PT1M
    aggregation: { ProcessCreate: { enabled: false } }
`,
        ),
        'lab.yaml': SMC(
          'lab',
          `  target: { deviceIds: [device-000001, device-000002, device-000003] }
  priority: 100
  agentConfiguration:
    snapshotFrequency: PT1H
`,
        ),
      },
      'sync',
    );
    // Another pipeline manages a setting of its own on one site.
    await sync(
      {
        'ops.yaml': SMC(
          'ops-resource-id',
          `  target: { condition: "tags.site = 'fra-plant2'" }
  agentConfiguration:
    hubResourceId: /subscriptions/x/fleet
`,
        ),
      },
      'ops',
    );
  });
  after(() => emulator.close());

  it('exports what sync and no manager own, leaving out what another manager owns', async () => {
    const file = join(outputDir(), 'fleet.yaml');
    const run = await exportTo(emulator, file);
    assert.match(
      run.stderr.join('\n'),
      /Settings of other managers left out: ops on \d+ devices \(export them with --manager\)/,
    );
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('hubResourceId'), 'ops owns it');
    assert.match(text, /condition: tags\.environment IN \['production', 'staging'\]/);
    assert.equal((await runCliCaptured(['validate', file])).code, 0);
    assertNoSettingChanges(await dryRunOf(emulator, file));
  });

  it('exports what another manager owns when asked, for that manager to take over', async () => {
    const file = join(outputDir(), 'ops.yaml');
    const run = await exportTo(emulator, file, ['--manager', 'ops']);
    assert.match(run.stderr.join('\n'), /Settings of other managers left out: sync on \d+ devices/);
    const text = readFileSync(file, 'utf8');
    assert.match(
      text,
      /condition: tags\.site = 'fra-plant2'\n\s+priority: 10\n\s+agentConfiguration:\n\s+hubResourceId: \/subscriptions\/x\/fleet\n/,
    );
    assert.ok(!text.includes('PT1M'), "sync's settings are sync's");
    assertNoSettingChanges(await dryRunOf(emulator, file, 'ops'));
  });
});
