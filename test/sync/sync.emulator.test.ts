// End-to-end: `sync` against the emulator through the real hub client and SDK over HTTPS.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import type { HubAccess } from '../../src/hub/hub-client-api.js';
import { createLogger } from '../../src/observability/logger.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import type { Stop } from '../../src/runtime/stop.js';
import { StopController } from '../../src/runtime/stop-controller.js';
import { runSync, type SyncOptions } from '../../src/sync/run-sync.js';
import { desired, emulatorClient, startHubEmulator } from '../support/emulator-support.js';
import { writeTempFiles } from '../support/resources.js';
import { until } from '../support/until.js';

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL === 'warn' ? 'warn' : 'error' });

function smc(name: string, spec: string): string {
  return `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata: { name: ${name}, namespace: fleet }
spec:
  hubRef: { name: hub }
${spec}`;
}

const BASELINE = smc(
  'baseline',
  `  target: { condition: "tags.environment = 'production'" }
  priority: 10
  agentConfiguration:
    highPriorityMessageFrequency: PT5M
    eventPriorities: { Login: High, Diagnostic: Low }
`,
);
const SITE = smc(
  'site-ams',
  `  target: { condition: "tags.site = 'ams'" }
  priority: 50
  agentConfiguration:
    highPriorityMessageFrequency: PT1M
`,
);

interface Run {
  code: number;
  out: string[];
  err: string[];
}

async function sync(
  emulator: RunningEmulator,
  files: Record<string, string>,
  options: Partial<SyncOptions> = {},
  access?: HubAccess,
  stop?: Stop,
): Promise<Run> {
  const dir = writeTempFiles(files);
  const out: string[] = [];
  const err: string[] = [];
  const client = emulatorClient(emulator, { tier: 'S3' });
  try {
    const code = await runSync(
      {
        paths: [dir],
        dryRun: false,
        prune: false,
        wait: true,
        watch: false,
        timeoutMs: 30_000,
        intervalMs: 60_000,
        output: 'json',
        pollMs: 100,
        fullReadMs: 2000,
        ...options,
      },
      {
        io: { out: (l) => out.push(l), err: (l) => err.push(l), isTerminal: false },
        access: access ?? client,
        logger,
        stop,
      },
    );
    return { code, out, err };
  } finally {
    client.close();
  }
}

function status(run: Run): {
  ending: string;
  ready: boolean;
  resources: { resource: string; status: Record<string, any> }[];
  writes: Record<string, number>;
} {
  return JSON.parse(run.out.join('\n'));
}

function updates(emulator: RunningEmulator): number {
  return emulator.hub.stats.count('twinUpdate', 200);
}

describe('sync against the emulator', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startHubEmulator({ tier: 'S3' });
    const devices = [];
    for (let i = 0; i < 12; i++)
      devices.push({
        deviceId: `prod-${i}`,
        tags: { environment: 'production', site: i < 4 ? 'ams' : 'chi' },
        online: true,
      });
    devices.push({ deviceId: 'dev-0', tags: { environment: 'development', site: 'ams' }, online: true });
    devices.push({
      deviceId: 'prod-offline',
      tags: { environment: 'production', site: 'chi' },
      online: false,
    });
    emulator.addDevices(devices);
  });
  after(() => emulator.close());

  it('applies a baseline and a site layer and waits until the agents report them', async () => {
    const run = await sync(emulator, { 'baseline.yaml': BASELINE, 'site.yaml': SITE });
    assert.equal(run.code, 0, run.err.join('\n'));
    const report = status(run);
    assert.equal(report.ready, true);
    const baseline = report.resources.find((r) => r.resource === 'fleet/baseline')!.status;
    assert.equal(baseline.targetedDevices, 13);
    assert.equal(baseline.convergedDevices, 12);
    assert.equal(baseline.offlineDevices, 1);
    assert.equal((await desired(emulator, 'prod-0')).highPriorityMessageFrequency?.value, 'PT1M');
    assert.equal((await desired(emulator, 'prod-0')).eventPriorityLogin?.value, 'High');
    assert.equal((await desired(emulator, 'prod-5')).highPriorityMessageFrequency?.value, 'PT5M');
    const development = await desired(emulator, 'dev-0');
    assert.equal(
      development.highPriorityMessageFrequency?.value,
      'PT1M',
      'the site layer targets every environment',
    );
    assert.equal(
      development.eventPriorityLogin,
      undefined,
      'the baseline does not target development devices',
    );
  });

  it('writes nothing on a second sync of a converged hub and reads only query pages', async () => {
    emulator.hub.stats.reset();
    const run = await sync(emulator, { 'baseline.yaml': BASELINE, 'site.yaml': SITE });
    assert.equal(run.code, 0);
    assert.equal(status(run).writes.succeeded, 0);
    assert.equal(emulator.hub.stats.count('twinUpdate'), 0);
    assert.equal(emulator.hub.stats.count('twinRead'), 0);
    assert.equal(emulator.hub.stats.count('query'), 2, 'one page of devices, one of modules');
  });

  it('prints the plan on a dry run and writes nothing', async () => {
    const edited = BASELINE.replace('Login: High', 'Login: Low');
    const before = updates(emulator);
    const run = await sync(
      emulator,
      { 'baseline.yaml': edited, 'site.yaml': SITE },
      { dryRun: true, output: 'table' },
    );
    assert.equal(run.code, 1, 'changes: exit 1, as kubectl diff');
    assert.equal(updates(emulator), before);
    const text = run.out.join('\n');
    assert.match(
      text,
      /SecurityModuleConfig fleet\/baseline \(priority 10, 13 devices targeted\): 13 device twins to write; e\.g\. prod-0/,
    );
    assert.match(text, /^ {4}eventPriorities\.Login: 13 devices: High -> Low$/m);
  });

  it('writes only the changed setting after an edit', async () => {
    const before = updates(emulator);
    const edited = BASELINE.replace('Login: High', 'Login: Low');
    const run = await sync(emulator, { 'baseline.yaml': edited, 'site.yaml': SITE });
    assert.equal(run.code, 0);
    assert.equal(updates(emulator) - before, 13);
    assert.equal((await desired(emulator, 'prod-7')).eventPriorityLogin?.value, 'Low');
  });

  it('removes the settings of a deleted resource with --prune, and only then', async () => {
    const edited = BASELINE.replace('Login: High', 'Login: Low');
    const kept = await sync(emulator, { 'baseline.yaml': edited }, { output: 'table' });
    assert.match(
      kept.out.join('\n'),
      /fleet\/site-ams \(not in the files\): highPriorityMessageFrequency kept on 1 device; --prune removes them/,
    );
    assert.equal(
      (await desired(emulator, 'dev-0')).highPriorityMessageFrequency?.value,
      'PT1M',
      'without --prune the deleted layer keeps what no other resource sets',
    );
    assert.equal(
      (await desired(emulator, 'prod-0')).highPriorityMessageFrequency?.value,
      'PT5M',
      'the baseline takes over',
    );
    const run = await sync(emulator, { 'baseline.yaml': edited }, { prune: true });
    assert.equal(run.code, 0);
    assert.equal((await desired(emulator, 'dev-0')).highPriorityMessageFrequency, undefined);
  });

  it('rejects invalid files with every problem and writes nothing', async () => {
    const before = updates(emulator);
    const broken = BASELINE.replace('PT5M', '5 minutes').replace('Diagnostic: Low', 'Diagnostc: Low');
    const run = await sync(emulator, { 'baseline.yaml': broken });
    assert.equal(run.code, 1);
    assert.equal(run.err.filter((l) => l.includes(': error: ')).length, 2);
    assert.match(run.err.join('\n'), /nothing was written/);
    assert.equal(updates(emulator), before);
  });

  it('does not write a device whose merged configuration the agent would reject, and says why', async () => {
    const slowHigh = smc(
      'slow-high',
      `  target: { condition: "tags.site = 'chi'" }\n  priority: 60\n  agentConfiguration:\n    highPriorityMessageFrequency: PT3H\n`,
    );
    const fastLow = smc(
      'fast-low',
      `  target: { deviceIds: [prod-5] }\n  priority: 70\n  agentConfiguration:\n    lowPriorityMessageFrequency: PT1H\n`,
    );
    const run = await sync(emulator, { 'a.yaml': slowHigh, 'b.yaml': fastLow }, { wait: false, prune: true });
    const report = status(run);
    const failures = report.resources.find((r) => r.resource === 'fleet/fast-low')!.status.failures;
    assert.deepEqual(
      failures.map((f: any) => [f.deviceId, f.reason]),
      [['prod-5', 'InvalidMergedConfiguration']],
    );
    assert.equal((await desired(emulator, 'prod-5')).lowPriorityMessageFrequency, undefined);
    assert.equal((await desired(emulator, 'prod-6')).highPriorityMessageFrequency?.value, 'PT3H');
    await sync(emulator, {}, { prune: true, wait: false });
  });
});

describe('sync exit codes and safety nets', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startHubEmulator({ tier: 'S3' });
    emulator.addDevices([
      { deviceId: 'a-1', tags: { environment: 'production', site: 'ams' }, online: true },
      { deviceId: 'a-2', tags: { environment: 'production', site: 'ams' }, online: true },
    ]);
    await sync(emulator, { 'baseline.yaml': BASELINE, 'site.yaml': SITE });
  });
  after(() => emulator.close());

  it('refuses files without any SecurityModuleConfig instead of pruning everything', async () => {
    const before = updates(emulator);
    const run = await sync(
      emulator,
      { 'hub.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: { name: s }\n' },
      { prune: true },
    );
    assert.equal(run.code, 1);
    assert.match(
      run.err.join('\n'),
      /no SecurityModuleConfig or TwinConfig in .*nothing was written.*--allow-empty/,
    );
    assert.equal(updates(emulator), before);
  });

  it('shows on a dry run with --prune what pruning would remove', async () => {
    const run = await sync(
      emulator,
      { 'baseline.yaml': BASELINE },
      { prune: true, dryRun: true, output: 'table' },
    );
    assert.equal(run.code, 1);
    assert.match(
      run.out.join('\n'),
      /fleet\/site-ams \(not in the files\): highPriorityMessageFrequency would be removed from 2 devices/,
    );
  });

  it('does not wait for a suspended resource', async () => {
    const suspended = SITE.replace('  priority: 50', '  priority: 50\n  suspend: true');
    const run = await sync(
      emulator,
      { 'baseline.yaml': BASELINE, 'site.yaml': suspended },
      { timeoutMs: 5000 },
    );
    assert.equal(run.code, 0, run.err.join('\n'));
  });

  it('exits 1 at once when a resource cannot become Ready, and 1 without --wait when devices failed', async () => {
    const listed = smc(
      'ghosts',
      '  target: { deviceIds: [a-1, ghost-1] }\n  priority: 90\n  agentConfiguration:\n    snapshotFrequency: PT3H\n',
    );
    const started = Date.now();
    const waited = await sync(
      emulator,
      { 'baseline.yaml': BASELINE, 'site.yaml': SITE, 'ghosts.yaml': listed },
      { timeoutMs: 20_000 },
    );
    assert.equal(waited.code, 1);
    assert.ok(Date.now() - started < 10_000, 'it does not wait for the timeout');
    assert.equal(status(waited).ending, 'stuck');
    const once = await sync(
      emulator,
      { 'baseline.yaml': BASELINE, 'site.yaml': SITE, 'ghosts.yaml': listed },
      { wait: false },
    );
    assert.equal(once.code, 1);
  });

  it('exits 0 without --wait when a resource loses a conflict, saying so; 1 with --wait (docs/command-line.md, exit status)', async () => {
    const tie = (name: string, value: string) =>
      smc(
        name,
        `  target: { condition: "tags.site = 'ams'" }\n  priority: 70\n  agentConfiguration:\n    snapshotFrequency: ${value}\n`,
      );
    const files = { 'tie-a.yaml': tie('tie-a', 'PT3H'), 'tie-b.yaml': tie('tie-b', 'PT6H') };
    const once = await sync(emulator, files, { wait: false });
    assert.equal(once.code, 0, once.err.join('\n'));
    const report = status(once);
    assert.equal(report.ready, false);
    const loser = report.resources.find((r) => r.resource === 'fleet/tie-b')!.status;
    const ready = loser.conditions.find((c: { type: string }) => c.type === 'Ready');
    assert.deepEqual([ready.status, ready.reason], ['False', 'ConflictingSettings']);
    const waited = await sync(emulator, files, { timeoutMs: 20_000 });
    assert.equal(waited.code, 1);
    assert.equal(status(waited).ending, 'stuck');
  });
});

describe('sync --watch and module creation', () => {
  it('creates missing security modules when a resource asks, and configures them', async () => {
    const emulator = await startHubEmulator({ tier: 'S3' });
    try {
      emulator.addDevices([
        { deviceId: 'bare-1', tags: { site: 'x' }, securityModule: false, online: true },
        { deviceId: 'bare-2', tags: { site: 'x' }, securityModule: false, online: true },
      ]);
      const withoutCreate = smc(
        'x',
        `  target: { condition: "tags.site = 'x'" }\n  agentConfiguration:\n    snapshotFrequency: PT3H\n`,
      );
      const refused = status(await sync(emulator, { 'x.yaml': withoutCreate }, { wait: false }));
      assert.deepEqual(
        refused.resources[0].status.failures.map((f: any) => f.reason),
        ['SecurityModuleMissing', 'SecurityModuleMissing'],
      );
      const creating = withoutCreate.replace(
        '  agentConfiguration:',
        '  createMissingModules: true\n  agentConfiguration:',
      );
      const run = await sync(emulator, { 'x.yaml': creating });
      assert.equal(run.code, 0, run.err.join('\n'));
      assert.equal(status(run).resources[0].status.convergedDevices, 2);
      assert.equal((await desired(emulator, 'bare-2')).snapshotFrequency?.value, 'PT3H');
    } finally {
      await emulator.close();
    }
  });

  it('re-applies the files when they change while watching, until stopped', async () => {
    const emulator = await startHubEmulator({ tier: 'S3', devices: 5 });
    const stopping = new StopController();
    try {
      const config = (frequency: string) =>
        smc(
          'watched',
          `  target: { condition: "IS_DEFINED(tags.site)" }\n  agentConfiguration:\n    snapshotFrequency: ${frequency}\n`,
        );
      const dir = writeTempFiles({ 'watched.yaml': config('PT4H') });
      const client = emulatorClient(emulator, { tier: 'S3' });
      const out: string[] = [];
      const errors: string[] = [];
      const watching = runSync(
        {
          paths: [dir],
          dryRun: false,
          prune: false,
          wait: false,
          watch: true,
          timeoutMs: 10_000,
          intervalMs: 3_600_000,
          output: 'json',
          pollMs: 100,
        },
        {
          io: { out: (l) => out.push(l), err: (l) => errors.push(l), isTerminal: false },
          access: client,
          logger,
          stop: stopping.stop,
        },
      );
      const frequency = async (deviceId: string) =>
        (await desired(emulator, deviceId)).snapshotFrequency?.value;
      await until(async () => (await frequency('device-000001')) === 'PT4H', 10_000, 'PT4H written');
      assert.equal(await frequency('device-000001'), 'PT4H');
      writeFileSync(join(dir, 'watched.yaml'), config('PT8H'));
      await until(async () => (await frequency('device-000005')) === 'PT8H', 10_000, 'the edit written');
      assert.equal(await frequency('device-000005'), 'PT8H');
      // An invalid edit is reported and changes nothing.
      writeFileSync(join(dir, 'watched.yaml'), config('8 hours'));
      await until(
        () => errors.some((l) => l.includes('the resources are invalid')),
        10_000,
        'the invalid edit reported',
      );
      assert.equal(await frequency('device-000005'), 'PT8H');
      stopping.drain();
      assert.equal(await watching, 0);
      assert.ok(out.length >= 2, 'a status per pass');
      client.close();
    } finally {
      stopping.drain();
      await emulator.close();
    }
  });
});

describe("sync under a real hub's behaviour", () => {
  it('converges with lowercase agents, query lag and injected faults, writing each twin once', async () => {
    const emulator = await startHubEmulator({
      tier: 'S3',
      devices: 40,
      lowercaseRatio: 0.5,
      queryLagMs: 300,
      offlineRatio: 0,
    });
    try {
      // Seeded devices become visible to queries only after the lag.
      const probe = emulatorClient(emulator, { tier: 'S3' });
      await until(
        async () =>
          (await probe.readSnapshot([SECURITY_MODULE_ID])).twins.get(SECURITY_MODULE_ID)!.size === 40,
        5000,
        'the seeded fleet in queries',
      );
      probe.close();
      emulator.hub.faults.set({
        twinUpdate: { errorRatio: 0.15, errorStatuses: [500, 503], resetRatio: 0.05 },
        query: { errorRatio: 0.1 },
      });
      const all = smc(
        'all',
        `  target: { condition: "IS_DEFINED(tags.site)" }\n  agentConfiguration:\n    eventPriorities: { Login: Low, ProcessCreate: High }\n    snapshotFrequency: PT2H\n`,
      );
      const run = await sync(emulator, { 'all.yaml': all });
      assert.equal(run.code, 0, run.err.join('\n'));
      const report = status(run).resources[0].status;
      assert.equal(report.convergedDevices, 40);
      // Resets happen after the hub applied the change: a retried PATCH of the same content is the only repeat.
      const applied = emulator.hub.stats.count('twinUpdate', 200);
      const resets = emulator.hub.stats.snapshot().faults.twinUpdate?.reset ?? 0;
      assert.ok(applied <= 40 + resets, `${applied} successful writes for 40 devices (${resets} resets)`);
    } finally {
      await emulator.close();
    }
  });

  it('finishes an interrupted sync when run again, writing no twin twice', async () => {
    const emulator = await startHubEmulator({ tier: 'S3', devices: 60 });
    try {
      const all = smc(
        'all',
        `  target: { condition: "IS_DEFINED(tags.site)" }\n  agentConfiguration:\n    eventPriorities: { Login: 'Off' }\n`,
      );
      const stopping = new StopController();
      const client = emulatorClient(emulator, { tier: 'S3' });
      let patches = 0;
      const interrupting: HubAccess = {
        hubName: client.hubName,
        readSnapshot: (slots, o) => client.readSnapshot(slots, o),
        readTwins: (slot, ids, o) => client.readTwins(slot, ids, o),
        ensureModule: (ref, o) => client.ensureModule(ref, o),
        patchTwin: (ref, patch, etag, o) => {
          if (++patches === 20) stopping.drain();
          return client.patchTwin(ref, patch, etag, o);
        },
      };
      await sync(emulator, { 'all.yaml': all }, {}, interrupting, stopping.stop).catch(() => undefined);
      client.close();
      const first = emulator.hub.stats.count('twinUpdate', 200);
      assert.ok(first >= 1 && first < 60, `the first run stopped part way (${first} writes)`);
      const run = await sync(emulator, { 'all.yaml': all });
      assert.equal(run.code, 0);
      assert.equal(
        emulator.hub.stats.count('twinUpdate', 200),
        60,
        'every device written exactly once over both runs',
      );
    } finally {
      await emulator.close();
    }
  });
});
