// The controller's status, as cluster operators and their tools read it on the real API server: kstatus
// polarity from the first reconcile, kubectl wait, writes only when something changed, Events on transitions,
// the reconcile-now annotation, and an invalid spec held without a write.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { desired } from '../support/emulator-support.js';
import { condition, fleet, type OperatorFixture, startOperatorFixture } from '../support/operator-fixture.js';
import { until } from '../support/until.js';

describe('SecurityModuleConfig status on the API server', () => {
  let f: OperatorFixture;
  before(async () => {
    f = await startOperatorFixture({
      prefix: 'status',
      devices: fleet('dev', 8, { environment: 'production' }),
      emulator: { agentDelay: { min: 300, max: 700 } },
    });
    await f.apply(f.hubObjects({ spec: { resyncInterval: '1s' } }));
  });
  after(() => f.close());

  it('says Ready=False with Reconciling=True from the first reconcile, then Ready, and kubectl wait sees it', async () => {
    await f.apply([
      f.smc('baseline', {
        target: { condition: "tags.environment = 'production'" },
        agentConfiguration: { highPriorityMessageFrequency: 'PT5M' },
      }),
    ]);
    const first = await f.waitFor('smc', 'baseline', (o) => o?.status?.conditions !== undefined);
    assert.equal(condition(first, 'Ready').status, 'False', 'not Ready before the agents answered');
    assert.equal(condition(first, 'Reconciling').status, 'True');
    assert.equal(first.status.observedGeneration, first.metadata.generation);

    const waited = await f.kubectl([
      'wait',
      '--for=condition=Ready',
      'smc/baseline',
      '-n',
      f.namespace,
      '--timeout=30s',
    ]);
    assert.equal(waited.code, 0, waited.stderr);
    const ready = await f.get('smc', 'baseline');
    assert.equal(ready.status.convergedDevices, 8);
    assert.equal(condition(ready, 'Reconciling').status, 'False');
    assert.equal(condition(ready, 'Stalled').status, 'False');
    assert.equal((await desired(f.emulator, 'dev-3')).highPriorityMessageFrequency?.value, 'PT5M');
    const hub = await f.get('hub', 'hub');
    assert.equal(condition(hub, 'Ready').reason, 'Connected');
    assert.equal(hub.status.devices, 8);
  });

  it('writes nothing on resyncs of a converged hub: no status write, no event', async () => {
    const before = await f.get('smc', 'baseline');
    const writes = f.controller.writer.stats.statusWrites;
    const events = (await f.kubectl(['get', 'events', '-n', f.namespace, '-o', 'json'])).stdout;
    const queries = f.emulator.hub.stats.count('query');
    // resyncInterval is 1s: several full reads happen meanwhile.
    await until(() => f.emulator.hub.stats.count('query') >= queries + 6, 10_000, 'three resyncs');
    const afterwards = await f.get('smc', 'baseline');
    assert.equal(
      afterwards.metadata.resourceVersion,
      before.metadata.resourceVersion,
      'the object was not written',
    );
    assert.equal(f.controller.writer.stats.statusWrites, writes);
    assert.equal((await f.kubectl(['get', 'events', '-n', f.namespace, '-o', 'json'])).stdout, events);
  });

  it('records the transitions as Events: the rollout started, then converged', async () => {
    const list = JSON.parse((await f.kubectl(['get', 'events', '-n', f.namespace, '-o', 'json'])).stdout);
    const reasons = list.items
      .filter((e: any) => e.involvedObject.name === 'baseline')
      .map((e: any) => `${e.reason}:${e.count}`)
      .sort();
    assert.deepEqual(reasons, ['Converged:1', 'RolloutStarted:1']);
    const described = (await f.kubectl(['describe', 'smc', 'baseline', '-n', f.namespace])).stdout;
    assert.match(described, /RolloutStarted/);
  });

  it('reconciles at once when asked by annotation, and acknowledges it in status', async () => {
    const queries = f.emulator.hub.stats.count('query');
    await f.kubectl([
      'annotate',
      'smc',
      'baseline',
      '-n',
      f.namespace,
      '--overwrite',
      'iotsecurity.io/reconcile-requested-at=now-1',
    ]);
    const handled = await f.waitFor(
      'smc',
      'baseline',
      (o) => o.status?.lastHandledReconcileAt === 'now-1',
      10_000,
    );
    assert.equal(condition(handled, 'Ready').status, 'True');
    assert.ok(f.emulator.hub.stats.count('query') > queries, 'the hub was read');
  });

  it('holds an invalid spec the API server accepts as Stalled InvalidSpec and writes nothing for it', async () => {
    const updates = f.emulator.hub.stats.count('twinUpdate');
    await f.apply([
      f.smc('too-fast', {
        // A condition that does not parse: what one resource alone breaks in a setting the CRD's CEL refuses at
        // apply, but the condition's grammar is judged by the operator.
        target: { condition: "tags.environment = 'production' AND" },
        priority: 20,
        agentConfiguration: { highPriorityMessageFrequency: 'PT10M' },
      }),
    ]);
    const stalled = await f.waitFor('smc', 'too-fast', (o) => condition(o, 'Stalled').status === 'True');
    assert.equal(condition(stalled, 'Ready').reason, 'InvalidSpec');
    assert.match(condition(stalled, 'Ready').message ?? '', /condition/);
    assert.equal(condition(stalled, 'Reconciling').status, 'False');
    assert.equal(f.emulator.hub.stats.count('twinUpdate'), updates, 'no twin was written');
    const kstatusFailed = await f.kubectl([
      'wait',
      '--for=condition=Stalled',
      'smc/too-fast',
      '-n',
      f.namespace,
      '--timeout=5s',
    ]);
    assert.equal(kstatusFailed.code, 0);
    // Fixed, it rolls out.
    await f.apply([
      f.smc('too-fast', {
        target: { condition: "tags.environment = 'production'" },
        priority: 20,
        agentConfiguration: { highPriorityMessageFrequency: 'PT1M', lowPriorityMessageFrequency: 'PT1H' },
      }),
    ]);
    await f.waitFor('smc', 'too-fast', (o) => condition(o, 'Ready').status === 'True', 30_000);
    assert.equal((await desired(f.emulator, 'dev-0')).highPriorityMessageFrequency?.value, 'PT1M');
  });
});
