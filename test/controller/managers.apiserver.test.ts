// Two managers on one hub: a `sync` pipeline and the controller. Each removes only what it manages; a setting both
// want belongs to the one that wrote it first, and the other reports the conflict instead of fighting over it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.js';
import { OWNERSHIP_TAG } from '../../src/planner/ownership.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { runSync } from '../../src/sync/run-sync.js';
import { desired, emulatorClient } from '../support/emulator-support.js';
import { condition, fleet, type OperatorFixture, startOperatorFixture } from '../support/operator-fixture.js';
import { writeTempFiles } from '../support/resources.js';

const PIPELINE = `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata: { name: pipeline-layer, namespace: gitops }
spec:
  hubRef: { name: hub }
  target: { condition: "tags.environment = 'production'" }
  agentConfiguration:
    highPriorityMessageFrequency: PT2M
    snapshotFrequency: PT3H
`;

describe('a sync pipeline and the controller on one hub', () => {
  let f: OperatorFixture;
  before(async () => {
    f = await startOperatorFixture({
      prefix: 'managers',
      devices: fleet('dev', 5, { environment: 'production' }),
    });
    await f.apply(f.hubObjects());
  });
  after(() => f.close());

  async function sync(extra: { prune?: boolean; files?: Record<string, string> } = {}): Promise<number> {
    const client = emulatorClient(f.emulator, { tier: 'S3' });
    try {
      return await runSync(
        {
          paths: [writeTempFiles(extra.files ?? { 'layer.yaml': PIPELINE })],
          dryRun: false,
          prune: extra.prune ?? false,
          allowEmpty: true,
          wait: true,
          watch: false,
          timeoutMs: 20_000,
          intervalMs: 60_000,
          output: 'json',
          pollMs: 100,
        },
        {
          io: { out: () => {}, err: () => {}, isTerminal: false },
          access: client,
          logger: createLogger({ level: 'error' }),
        },
      );
    } finally {
      client.close();
    }
  }

  it('reports a setting the pipeline owns as a conflict on the controller resource, and never overwrites it', async () => {
    assert.equal(await sync(), 0);
    await f.apply([
      f.smc('operator-baseline', {
        target: { condition: "tags.environment = 'production'" },
        agentConfiguration: { highPriorityMessageFrequency: 'PT5M', eventPriorities: { Login: 'Low' } },
      }),
    ]);
    const conflicted = await f.waitFor(
      'smc',
      'operator-baseline',
      (o) => condition(o, 'Ready').reason === 'ConflictingSettings',
      30_000,
    );
    assert.equal(conflicted.status.conflictingDevices, 5);
    assert.match(
      conflicted.status.failures[0].message,
      /managed on this twin by gitops\/pipeline-layer of manager 'sync'/,
    );
    const twin = await desired(f.emulator, 'dev-0');
    assert.equal(twin.highPriorityMessageFrequency?.value, 'PT2M', "the pipeline's value stays");
    assert.equal(twin.eventPriorityLogin?.value, 'Low', "the controller's uncontested setting is written");

    // No write war: the pipeline syncing again and the controller resyncing write nothing more.
    const updates = f.emulator.hub.stats.count('twinUpdate');
    assert.equal(await sync(), 0);
    await f.kubectl([
      'annotate',
      'smc',
      'operator-baseline',
      '-n',
      f.namespace,
      '--overwrite',
      'iotsecurity.io/reconcile-requested-at=again',
    ]);
    await f.waitFor('smc', 'operator-baseline', (o) => o.status?.lastHandledReconcileAt === 'again');
    assert.equal(f.emulator.hub.stats.count('twinUpdate'), updates);
  });

  it("keeps each manager's record apart, and a pruning pipeline removes only its own settings", async () => {
    const client = emulatorClient(f.emulator, { tier: 'S3' });
    const tags = (await client.readTwins(SECURITY_MODULE_ID, ['dev-1'], { consistent: true })).get('dev-1')!
      .tags[OWNERSHIP_TAG] as Record<string, unknown>;
    client.close();
    assert.deepEqual(Object.keys(tags).sort(), ['iot-security-operator', 'sync']);

    assert.equal(await sync({ prune: true, files: {} }), 0);
    const twin = await desired(f.emulator, 'dev-1');
    assert.equal(twin.snapshotFrequency, undefined, "the pipeline's settings are gone");
    assert.equal(twin.eventPriorityLogin?.value, 'Low', "the controller's setting stays");
    // The freed setting goes to the controller's resource, which is Ready now.
    await f.kubectl([
      'annotate',
      'smc',
      'operator-baseline',
      '-n',
      f.namespace,
      '--overwrite',
      'iotsecurity.io/reconcile-requested-at=freed',
    ]);
    await f.waitFor('smc', 'operator-baseline', (o) => condition(o, 'Ready').status === 'True', 30_000);
    assert.equal((await desired(f.emulator, 'dev-1')).highPriorityMessageFrequency?.value, 'PT5M');
  });
});
