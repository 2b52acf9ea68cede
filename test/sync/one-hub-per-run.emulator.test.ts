// Regression (issue 16): one repository holding resources for two hubs, synced one run per hub, against two
// emulated hubs through the real SDK. Before, `sync` applied every resource of the files to the hub it was given.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import type { HubClient } from '../../src/hub/hub-client.js';
import { createLogger } from '../../src/observability/logger.js';
import { OWNERSHIP_TAG } from '../../src/planner/ownership.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import type { HubSelection } from '../../src/sync/hub-selection.js';
import { runSync, type SyncOptions } from '../../src/sync/run-sync.js';
import { desired, emulatorClient, emulatorCount, startHubEmulator } from '../support/emulator-support.js';
import { writeTempFiles } from '../support/resources.js';

const logger = createLogger({ level: 'error' });

function smc(name: string, hub: string, settings: string): string {
  return `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata: { name: ${name}, namespace: iot }
spec:
  hubRef: { name: ${hub} }
  target: { condition: "tags.site = 'ams'" }
  agentConfiguration:
${settings}`;
}

const HUB_A = smc(
  'a-baseline',
  'hub-a',
  '    highPriorityMessageFrequency: PT5M\n    eventPriorities: { Login: High }\n',
);
const HUB_A_EXTRA = smc('a-extra', 'hub-a', '    lowPriorityMessageFrequency: PT3H\n');
const HUB_B = smc(
  'b-baseline',
  'hub-b',
  '    highPriorityMessageFrequency: PT1M\n    snapshotFrequency: PT3H\n',
);
const HUB_B_DOCUMENT = `apiVersion: iotsecurity.io/v1alpha1
kind: IoTHub
metadata: { name: hub-b, namespace: iot }
spec:
  connectionStringSecretRef: { name: hub-b-credentials }
  tier: S3
  units: 2
`;
const REPOSITORY = {
  'a.yaml': HUB_A,
  'a-extra.yaml': HUB_A_EXTRA,
  'b.yaml': HUB_B,
  'hub-b.yaml': HUB_B_DOCUMENT,
};

interface Run {
  code: number;
  out: string[];
  err: string[];
  /** What the run handed to the client factory: the hub it chose and its IoTHub document. */
  selection?: HubSelection;
}

async function sync(
  emulator: RunningEmulator,
  files: Record<string, string>,
  options: Partial<SyncOptions> = {},
): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  let client: HubClient | undefined;
  let selection: HubSelection | undefined;
  try {
    const code = await runSync(
      {
        paths: [writeTempFiles(files)],
        dryRun: false,
        prune: false,
        wait: true,
        watch: false,
        timeoutMs: 30_000,
        intervalMs: 60_000,
        output: 'json',
        pollMs: 100,
        ...options,
      },
      {
        io: { out: (l) => out.push(l), err: (l) => err.push(l), isTerminal: false },
        access: (chosen) => {
          selection = chosen;
          client = emulatorClient(emulator, { tier: 'S3' });
          return client;
        },
        logger,
      },
    );
    return { code, out, err, selection };
  } finally {
    client?.close();
  }
}

/** The resource that owns each setting in the `sync` ownership record of a device's module twin. */
async function owners(emulator: RunningEmulator, deviceId: string): Promise<Record<string, string>> {
  const client = emulatorClient(emulator, { tier: 'S3' });
  try {
    const twin = (await client.readTwins(SECURITY_MODULE_ID, [deviceId], { consistent: true })).get(deviceId);
    const record = twin?.tags[OWNERSHIP_TAG] as { sync?: { owners?: Record<string, string> } } | undefined;
    return record?.sync?.owners ?? {};
  } finally {
    client.close();
  }
}

async function value(emulator: RunningEmulator, deviceId: string, key: string): Promise<unknown> {
  return (await desired(emulator, deviceId))[key]?.value;
}

describe('one repository, two hubs, one sync run per hub', () => {
  let hubA: RunningEmulator;
  let hubB: RunningEmulator;
  before(async () => {
    // The same device ids and tags on both hubs: each hub's resources match the other hub's devices too.
    [hubA, hubB] = await Promise.all([startHubEmulator({ tier: 'S3' }), startHubEmulator({ tier: 'S3' })]);
    for (const hub of [hubA, hubB])
      hub.addDevices([
        { deviceId: 'ams-1', tags: { site: 'ams' }, online: true },
        { deviceId: 'ams-2', tags: { site: 'ams' }, online: true },
      ]);
  });
  after(async () => {
    await Promise.all([hubA.close(), hubB.close()]);
  });

  it('refuses a run without --hub, naming both hubs, and writes nothing', async () => {
    const run = await sync(hubA, REPOSITORY);
    assert.equal(run.code, 2);
    assert.match(
      run.err.join('\n'),
      /the files name iot\/hub-a, iot\/hub-b; a run writes one hub: choose it with --hub/,
    );
    assert.match(run.err.join('\n'), /nothing was written/);
    assert.equal(emulatorCount(hubA, 'twinUpdate'), 0);
  });

  it('refuses a --hub no resource names, with the names that exist', async () => {
    const run = await sync(hubA, REPOSITORY, { hub: 'hub-c' });
    assert.equal(run.code, 2);
    assert.match(
      run.err.join('\n'),
      /no resource in the files names hub 'hub-c'; the files name iot\/hub-a, iot\/hub-b/,
    );
  });

  it("writes each hub only its own resources' settings, listing the others as another hub's", async () => {
    const a = await sync(hubA, REPOSITORY, { hub: 'hub-a' });
    assert.equal(a.code, 0, a.err.join('\n'));
    const b = await sync(hubB, REPOSITORY, { hub: 'iot/hub-b' });
    assert.equal(b.code, 0, b.err.join('\n'));
    const reportA = JSON.parse(a.out.join('\n'));
    assert.equal(reportA.iotHub, 'iot/hub-a');
    assert.deepEqual(
      reportA.resources.map((r: { resource: string }) => r.resource),
      ['iot/a-baseline', 'iot/a-extra'],
    );
    assert.deepEqual(reportA.leftOut, [{ resource: 'iot/b-baseline', iotHub: 'iot/hub-b' }]);
    for (const device of ['ams-1', 'ams-2']) {
      assert.deepEqual(await desired(hubA, device), {
        highPriorityMessageFrequency: { value: 'PT5M' },
        eventPriorityLogin: { value: 'High' },
        lowPriorityMessageFrequency: { value: 'PT3H' },
      });
      assert.deepEqual(await desired(hubB, device), {
        highPriorityMessageFrequency: { value: 'PT1M' },
        snapshotFrequency: { value: 'PT3H' },
      });
    }
  });

  it("sizes the client by the hub's IoTHub document in the files", async () => {
    const run = await sync(hubB, REPOSITORY, { hub: 'hub-b', dryRun: true });
    assert.equal(run.selection?.iotHub, 'iot/hub-b');
    assert.equal(run.selection?.hubSpec?.tier, 'S3');
    assert.equal(run.selection?.hubSpec?.units, 2);
    const other = await sync(hubA, REPOSITORY, { hub: 'hub-a', dryRun: true });
    assert.equal(other.selection?.hubSpec, undefined, 'hub-a has no IoTHub document in the files');
  });

  it("prunes from hub A only what hub A's resources owned, never what the files give hub B", async () => {
    // Two IoTHubs naming one hub: hub B's resources applied to hub A's devices as well (or left there by the
    // sync before this fix). Their settings and ownership are hub B's to remove.
    const shared = await sync(hubA, REPOSITORY, { hub: 'hub-b', wait: false });
    assert.ok(shared.code <= 1, shared.err.join('\n'));
    assert.equal(await value(hubA, 'ams-1', 'snapshotFrequency'), 'PT3H');
    assert.equal((await owners(hubA, 'ams-1')).snapshotFrequency, 'iot/b-baseline');
    const { 'a-extra.yaml': _removed, ...withoutExtra } = REPOSITORY;
    const run = await sync(hubA, withoutExtra, { hub: 'hub-a', prune: true });
    assert.equal(run.code, 0, run.err.join('\n'));
    for (const device of ['ams-1', 'ams-2']) {
      assert.equal(await value(hubA, device, 'lowPriorityMessageFrequency'), undefined, 'a-extra pruned');
      assert.equal(await value(hubA, device, 'snapshotFrequency'), 'PT3H', "hub B's setting left alone");
      assert.deepEqual(await owners(hubA, device), {
        highPriorityMessageFrequency: 'iot/a-baseline',
        eventPriorityLogin: 'iot/a-baseline',
        snapshotFrequency: 'iot/b-baseline',
      });
    }
  });
});

describe("a hub carrying another hub's resource (what the defect left behind)", () => {
  let hubA: RunningEmulator;
  before(async () => {
    hubA = await startHubEmulator({ tier: 'S3' });
    hubA.addDevices(
      ['ams-1', 'ams-2', 'ams-3'].map((deviceId) => ({ deviceId, tags: { site: 'ams' }, online: true })),
    );
    // Hub B's resource synced onto hub A, as the sync before the fix did with a repository naming two hubs.
    const defect = await sync(hubA, { 'b.yaml': HUB_B }, { hub: 'hub-b' });
    assert.equal(defect.code, 0, defect.err.join('\n'));
  });
  after(() => hubA.close());

  const LEFT_ALONE =
    '  iot/b-baseline (a resource of hub iot/hub-b in the files): 2 settings on 3 devices, left alone (highPriorityMessageFrequency, snapshotFrequency); to remove them run sync -f <files without it> --prune, see docs/command-line.md, "One hub per run"';

  it('lists in the plan the settings the files give another hub, in text, JSON and markdown, and writes nothing', async () => {
    const writes = emulatorCount(hubA, 'twinUpdate');
    const table = await sync(hubA, REPOSITORY, { hub: 'hub-a', dryRun: true, prune: true, output: 'table' });
    assert.equal(table.code, 1, table.err.join('\n'));
    assert.ok(table.out.includes(LEFT_ALONE), table.out.join('\n'));
    const json = await sync(hubA, REPOSITORY, { hub: 'hub-a', dryRun: true, prune: true });
    assert.deepEqual(JSON.parse(json.out.join('\n')).plan.outOfScopeOwners, [
      {
        owner: 'iot/b-baseline',
        devices: 3,
        settings: ['highPriorityMessageFrequency', 'snapshotFrequency'],
        iotHub: 'iot/hub-b',
      },
    ]);
    const markdown = await sync(hubA, REPOSITORY, {
      hub: 'hub-a',
      dryRun: true,
      prune: true,
      output: 'markdown',
    });
    assert.match(
      markdown.out.join('\n'),
      /\*\*Settings of resources of other hubs on this hub, left alone\*\*\n\n- `iot\/b-baseline` \(a resource of hub `iot\/hub-b` in the files\): 2 settings on 3 devices, left alone \(`highPriorityMessageFrequency`, `snapshotFrequency`\); to remove them run `sync -f <files without it> --prune`, see docs\/command-line\.md, "One hub per run"/,
    );
    assert.equal(emulatorCount(hubA, 'twinUpdate'), writes, 'a dry run writes nothing');
  });

  it('says a layer conflicting with them loses to the same manager, out of its scope, not to another manager', async () => {
    const run = await sync(hubA, REPOSITORY, { hub: 'hub-a', dryRun: true, output: 'table' });
    const text = run.out.join('\n');
    assert.doesNotMatch(text, /another manager/);
    assert.match(
      text,
      /^iot\/a-baseline: on 3 devices settings this resource sets are owned by resources the same manager keeps for another IoTHub \(out of this one's scope\), and stay theirs \(see status\.failures\); if those were written to this hub by mistake, remove them \(sync: a run whose files leave them out, with --prune\)/m,
    );
    assert.match(
      text,
      /^ {2}ams-1: ConflictingSettings: highPriorityMessageFrequency: managed on this twin by iot\/b-baseline, which the same manager 'sync' keeps for another IoTHub \(out of this one's scope; value "PT1M"\); this resource's "PT5M" is not written$/m,
    );
  });

  it('removes them as the plan says: a run of the files without that resource, with --prune', async () => {
    const { 'b.yaml': _hubB, ...withoutB } = REPOSITORY;
    const plan = await sync(hubA, withoutB, { hub: 'hub-a', dryRun: true, prune: true, output: 'table' });
    const text = plan.out.join('\n');
    assert.ok(
      plan.out.includes(
        '  iot/b-baseline (not in the files): highPriorityMessageFrequency, snapshotFrequency would be removed from 3 devices',
      ),
      text,
    );
    assert.doesNotMatch(text, /left alone/);
  });
});
