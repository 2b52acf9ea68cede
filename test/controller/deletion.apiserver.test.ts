// The finalizer on the real API server: deletionPolicy Remove takes a resource's settings off its twins (devices
// fall back to the next layer) before the object goes; Retain lets go at once; while the hub cannot be reached
// a Remove waits and says why, and switching to Retain lets the user go.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FINALIZER } from '../../src/controller/kube-objects.js';
import { desired } from '../support/emulator-support.js';
import { condition, fleet, type OperatorFixture, startOperatorFixture } from '../support/operator-fixture.js';
import { until } from '../support/until.js';

const BASE = {
  target: { condition: "tags.environment = 'production'" },
  priority: 10,
  agentConfiguration: { highPriorityMessageFrequency: 'PT5M', snapshotFrequency: 'PT6H' },
};
const LAYER = {
  target: { condition: "tags.site = 'ams'" },
  priority: 50,
  agentConfiguration: { highPriorityMessageFrequency: 'PT1M', eventPriorities: { Login: 'Low' } },
};

describe('deleting a SecurityModuleConfig', () => {
  let f: OperatorFixture;
  before(async () => {
    f = await startOperatorFixture({
      prefix: 'deletion',
      devices: fleet('ams', 4, { environment: 'production', site: 'ams' }),
    });
    await f.apply(f.hubObjects());
    await f.apply([f.smc('base', BASE)]);
    await f.waitFor('smc', 'base', (o) => condition(o, 'Ready').status === 'True', 30_000);
  });
  after(() => f.close());

  it('carries the finalizer from the first reconcile', async () => {
    assert.deepEqual((await f.get('smc', 'base')).metadata.finalizers, [FINALIZER]);
  });

  it('with Remove, takes its settings off the twins before the object goes; the next layer takes over', async () => {
    await f.apply([f.smc('layer', LAYER)]);
    await f.waitFor('smc', 'layer', (o) => condition(o, 'Ready').status === 'True', 30_000);
    assert.equal((await desired(f.emulator, 'ams-0')).highPriorityMessageFrequency?.value, 'PT1M');

    const deleted = await f.kubectl([
      'delete',
      'smc',
      'layer',
      '-n',
      f.namespace,
      '--wait=true',
      '--timeout=30s',
    ]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await f.get('smc', 'layer'), undefined);
    const after = await desired(f.emulator, 'ams-0');
    assert.equal(after.highPriorityMessageFrequency?.value, 'PT5M', 'the baseline took over');
    assert.equal(after.eventPriorityLogin, undefined, 'a setting only the layer set is gone');
  });

  it('with Retain, lets go at once and leaves the values on the twins', async () => {
    await f.apply([
      f.smc('kept', {
        ...LAYER,
        priority: 60,
        deletionPolicy: 'Retain',
        agentConfiguration: { lowPriorityMessageFrequency: 'PT3H' },
      }),
    ]);
    await f.waitFor('smc', 'kept', (o) => condition(o, 'Ready').status === 'True', 30_000);
    const updates = f.emulator.hub.stats.count('twinUpdate');
    const deleted = await f.kubectl([
      'delete',
      'smc',
      'kept',
      '-n',
      f.namespace,
      '--wait=true',
      '--timeout=30s',
    ]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await desired(f.emulator, 'ams-1')).lowPriorityMessageFrequency?.value, 'PT3H');
    // The next reconcile may drop the ownership record, but never the value: two more reconciles of the hub.
    await f.reconcileNow('hub');
    assert.equal((await desired(f.emulator, 'ams-1')).lowPriorityMessageFrequency?.value, 'PT3H');
    assert.ok(f.emulator.hub.stats.count('twinUpdate') - updates <= 4);
  });

  it('waits while the hub cannot be reached, says why, and lets go when switched to Retain', async () => {
    await f.apply([
      f.smc('stuck', { ...LAYER, priority: 70, agentConfiguration: { snapshotFrequency: 'PT9H' } }),
    ]);
    await f.waitFor('smc', 'stuck', (o) => condition(o, 'Ready').status === 'True', 30_000);
    // The hub goes away: its Secret now points at a closed port.
    const closed = f.emulator.connectionString.replace(/HostName=[^;]+/, 'HostName=localhost:1');
    await f.apply(f.hubObjects({ secret: { connectionString: closed, 'ca.crt': f.emulator.caCert } }));
    await f.waitFor('hub', 'hub', (o) => condition(o, 'Ready').reason === 'HubUnreachable', 30_000);

    await f.kubectl(['delete', 'smc', 'stuck', '-n', f.namespace, '--wait=false']);
    const blocked = await f.waitFor(
      'smc',
      'stuck',
      (o) => condition(o, 'Ready').reason === 'DeletionBlocked',
      30_000,
    );
    assert.match(condition(blocked, 'Ready').message ?? '', /deletionPolicy: Retain/);
    assert.ok(blocked.metadata.deletionTimestamp, 'still there, being deleted');
    await until(
      async () =>
        (
          await f.kubectl(['get', 'events', '-n', f.namespace, '--field-selector', 'reason=DeletionBlocked'])
        ).stdout.includes('stuck'),
      10_000,
      'the DeletionBlocked event',
    );

    await f.kubectl([
      'patch',
      'smc',
      'stuck',
      '-n',
      f.namespace,
      '--type=merge',
      '-p',
      '{"spec":{"deletionPolicy":"Retain"}}',
    ]);
    await until(async () => (await f.get('smc', 'stuck')) === undefined, 20_000, 'the object to go');
    await f.apply(f.hubObjects());
  });
});
