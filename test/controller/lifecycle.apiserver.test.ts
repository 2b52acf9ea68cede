// The lifecycle cases a user runs into with kubectl: a resource moved to another hub, everything deleted at once
// (`kubectl delete -f`), another controller's finalizer, a deletion that cannot finish, and two namespaces whose
// IoTHubs name the same hub.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { desired, startHubEmulator } from '../support/emulator-support.js';
import { condition, fleet, type OperatorFixture, startOperatorFixture } from '../support/operator-fixture.js';
import { emulatorCredentials } from '../support/resources.js';
import { until } from '../support/until.js';

const BASE = { target: { condition: "tags.environment = 'production'" }, priority: 10 };

describe('resource lifecycle on the API server', () => {
  let f: OperatorFixture;
  let second: RunningEmulator;
  before(async () => {
    f = await startOperatorFixture({
      prefix: 'lifecycle',
      namespaceCount: 2,
      devices: fleet('a', 4, { environment: 'production' }),
    });
    second = await startHubEmulator({ tier: 'S3' });
    second.addDevices(fleet('b', 3, { environment: 'production' }));
    await f.apply(f.hubObjects());
    await f.apply(
      f.hubObjects({
        name: 'other',
        secret: emulatorCredentials(second),
      }),
    );
  });
  after(async () => {
    await f.close();
    await second.close();
  });

  it('takes the settings of a resource moved to another hub off the old hub, and lists where it wrote', async () => {
    await f.apply([f.smc('mover', { ...BASE, agentConfiguration: { snapshotFrequency: 'PT7H' } })]);
    const ready = await f.waitFor('smc', 'mover', (o) => condition(o, 'Ready').status === 'True', 30_000);
    assert.deepEqual(ready.status.hubs, ['hub']);
    assert.equal((await desired(f.emulator, 'a-0')).snapshotFrequency?.value, 'PT7H');

    await f.kubectl([
      'patch',
      'smc',
      'mover',
      '-n',
      f.namespace,
      '--type=merge',
      '-p',
      '{"spec":{"hubRef":{"name":"other"}}}',
    ]);
    const moved = await f.waitFor(
      'smc',
      'mover',
      (o) => condition(o, 'Ready').status === 'True' && o.status.hubs?.join() === 'other',
      30_000,
    );
    assert.equal(moved.status.targetedDevices, 3);
    assert.equal((await desired(second, 'b-0')).snapshotFrequency?.value, 'PT7H');
    await until(
      async () => (await desired(f.emulator, 'a-0')).snapshotFrequency === undefined,
      20_000,
      'the old hub cleaned',
    );

    const deleted = await f.kubectl(['delete', 'smc', 'mover', '-n', f.namespace, '--timeout=30s']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await desired(second, 'b-0')).snapshotFrequency, undefined);
  });

  it('lets everything go when the Secret, the IoTHub and the resources are deleted together', async () => {
    const ns = f.namespaces[1];
    const objects = [
      ...f.hubObjects({ name: 'doomed', namespace: ns }),
      f.smc(
        'doomed-baseline',
        { ...BASE, hubRef: { name: 'doomed' }, agentConfiguration: { lowPriorityMessageFrequency: 'PT3H' } },
        ns,
      ),
    ];
    await f.apply(objects, ns);
    await f.waitFor('smc', 'doomed-baseline', (o) => condition(o, 'Ready').status === 'True', 30_000, ns);
    assert.ok((await f.get('hub', 'doomed', ns)).metadata.finalizers.includes('iotsecurity.io/finalizer'));
    // kubectl deletes in file order: the Secret first, then the IoTHub, then the resource.
    const file = join(tmpdir(), `doomed-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    const deleted = await f.kubectl(['delete', '-f', file, '--timeout=40s']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await f.get('smc', 'doomed-baseline', ns), undefined);
    assert.equal(await f.get('hub', 'doomed', ns), undefined);
    assert.equal(
      (await desired(f.emulator, 'a-1')).lowPriorityMessageFrequency,
      undefined,
      'its settings were removed first',
    );
  });

  it("keeps another controller's finalizer when it adds its own", async () => {
    const smc = f.smc('shared', {
      ...BASE,
      agentConfiguration: { eventPriorities: { Login: 'High' } },
    }) as any;
    smc.metadata.finalizers = ['other.example.com/keep'];
    await f.apply([smc]);
    const withBoth = await f.waitFor('smc', 'shared', (o) => o.metadata.finalizers?.length === 2);
    assert.deepEqual(withBoth.metadata.finalizers.sort(), [
      'iotsecurity.io/finalizer',
      'other.example.com/keep',
    ]);
    await f.kubectl([
      'patch',
      'smc',
      'shared',
      '-n',
      f.namespace,
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/metadata/finalizers/0"}]',
    ]);
    await f.kubectl(['delete', 'smc', 'shared', '-n', f.namespace, '--wait=false']);
  });

  it('says a deletion is Stalled when what would remain is a configuration the agent rejects', async () => {
    await f.apply([
      f.smc('low-base', { ...BASE, agentConfiguration: { lowPriorityMessageFrequency: 'PT10M' } }),
      f.smc('high-mid', {
        ...BASE,
        priority: 20,
        agentConfiguration: { highPriorityMessageFrequency: 'PT30M' },
      }),
      f.smc('low-top', {
        ...BASE,
        priority: 50,
        agentConfiguration: { lowPriorityMessageFrequency: 'PT1H' },
      }),
    ]);
    for (const name of ['low-base', 'high-mid', 'low-top'])
      await f.waitFor('smc', name, (o) => condition(o, 'Ready').status === 'True', 30_000);
    // Without low-top, low-priority messages would come every 10 minutes and high-priority ones every 30: the
    // agent's Conflict rule. The removal cannot be written.
    await f.kubectl(['delete', 'smc', 'low-top', '-n', f.namespace, '--wait=false']);
    const blocked = await f.waitFor(
      'smc',
      'low-top',
      (o) => condition(o, 'Stalled').status === 'True',
      30_000,
    );
    assert.equal(condition(blocked, 'Ready').reason, 'DeletionBlocked');
    assert.match(condition(blocked, 'Ready').message ?? '', /deletionPolicy: Retain/);
    await f.kubectl([
      'patch',
      'smc',
      'low-top',
      '-n',
      f.namespace,
      '--type=merge',
      '-p',
      '{"spec":{"deletionPolicy":"Retain"}}',
    ]);
    await until(async () => (await f.get('smc', 'low-top')) === undefined, 20_000, 'the resource to go');
    assert.equal(
      (await desired(f.emulator, 'a-2')).lowPriorityMessageFrequency?.value,
      'PT1H',
      'Retain left the value',
    );
    for (const name of ['low-base', 'high-mid'])
      await f.kubectl(['delete', 'smc', name, '-n', f.namespace, '--timeout=30s']);
  });

  it('keeps two namespaces whose IoTHubs name the same hub apart: no write war, no shared limiter', async () => {
    const ns = f.namespaces[1];
    await f.apply(f.hubObjects({ namespace: ns }), ns);
    await f.apply([f.smc('mine', { ...BASE, agentConfiguration: { snapshotFrequency: 'PT9H' } })]);
    await f.waitFor('smc', 'mine', (o) => condition(o, 'Ready').status === 'True', 30_000);
    await f.apply([f.smc('theirs', { ...BASE, agentConfiguration: { snapshotFrequency: 'PT2H' } }, ns)], ns);
    const theirs = await f.waitFor(
      'smc',
      'theirs',
      (o) => condition(o, 'Ready').reason === 'ConflictingSettings',
      30_000,
      ns,
    );
    assert.match(
      theirs.status.failures[0].message,
      new RegExp(`managed on this twin by ${f.namespace}/mine`),
    );
    const updates = f.emulator.hub.stats.count('twinUpdate');
    // Each IoTHub reconciled twice more, reading the twins in full.
    await Promise.all([f.reconcileNow('hub'), f.reconcileNow('hub', { namespace: ns })]);
    assert.equal(f.emulator.hub.stats.count('twinUpdate'), updates, 'nobody writes over the other');
    assert.equal((await desired(f.emulator, 'a-3')).snapshotFrequency?.value, 'PT9H');

    // An IoTHub of the other namespace naming this hub's host with another tier does not change this one's limits.
    await f.apply(f.hubObjects({ name: 'slow', namespace: ns, spec: { tier: 'F1', units: 1 } }), ns);
    await f.waitFor('hub', 'slow', (o) => o?.status?.conditions !== undefined, 20_000, ns);
    const mineLimits = f.controller.memory.rateLimits().get(`${f.namespace}/hub`)!;
    assert.equal(f.controller.memory.rateLimits().get(`${ns}/slow`)?.twinUpdate.nominalPerSecond, 50);
    assert.ok(mineLimits.twinUpdate.nominalPerSecond >= 2500, `${mineLimits.twinUpdate.nominalPerSecond}/s`);
  });
});
