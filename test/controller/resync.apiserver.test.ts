// What happens between edits, on the real API server: drift made outside Kubernetes is corrected at the hub's
// resyncInterval, a hub that never answers holds no other hub back, a merge the agent would reject stops the
// resources that make it, and a fixed Secret alone brings a hub back.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { desired, emulatorClient } from '../support/emulator-support.js';
import { condition, fleet, type OperatorFixture, startOperatorFixture } from '../support/operator-fixture.js';
import { until } from '../support/until.js';

describe('between edits', () => {
  let f: OperatorFixture;
  let silent: net.Server;
  before(async () => {
    f = await startOperatorFixture({
      prefix: 'resync',
      namespaceCount: 2,
      devices: [
        ...fleet('drift', 3, { environment: 'production' }),
        ...fleet('merge', 2, { environment: 'lab' }),
      ],
    });
    // Accepts connections, never answers: a hub behind a broken gateway.
    silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await f.close();
    silent.close();
  });

  it('corrects drift made outside Kubernetes at the next resync', async () => {
    await f.apply(f.hubObjects({ spec: { resyncInterval: '2s' } }));
    await f.apply([
      f.smc('baseline', {
        target: { condition: "tags.environment = 'production'" },
        agentConfiguration: { snapshotFrequency: 'PT8H' },
      }),
    ]);
    await f.waitFor('smc', 'baseline', (o) => condition(o, 'Ready').status === 'True', 30_000);
    const client = emulatorClient(f.emulator, { tier: 'S3' });
    try {
      const twin = (await client.readTwins(SECURITY_MODULE_ID, ['drift-1'], { consistent: true })).get(
        'drift-1',
      )!;
      await client.patchTwin(
        { slot: SECURITY_MODULE_ID, deviceId: 'drift-1' },
        { properties: { desired: { [AGENT_CONFIGURATION_KEY]: { snapshotFrequency: { value: 'PT1H' } } } } },
        twin.etag,
      );
    } finally {
      client.close();
    }
    assert.equal((await desired(f.emulator, 'drift-1')).snapshotFrequency?.value, 'PT1H');
    await until(
      async () => (await desired(f.emulator, 'drift-1')).snapshotFrequency?.value === 'PT8H',
      15_000,
      'the drift corrected',
    );
  });

  it('keeps reconciling other hubs while one hub never answers', async () => {
    const port = (silent.address() as net.AddressInfo).port;
    const stuck = f.emulator.connectionString.replace(/HostName=[^;]+/, `HostName=127.0.0.1:${port}`);
    const ns = f.namespaces[1];
    await f.apply(
      f.hubObjects({
        name: 'silent',
        namespace: ns,
        secret: { connectionString: stuck, 'ca.crt': f.emulator.caCert },
      }),
      ns,
    );
    await f.apply(
      [
        f.smc(
          'waits',
          {
            hubRef: { name: 'silent' },
            target: { condition: 'IS_DEFINED(tags.environment)' },
            agentConfiguration: { snapshotFrequency: 'PT2H' },
          },
          ns,
        ),
      ],
      ns,
    );
    await until(() => f.controller.queue?.active === 1, 10_000, 'the silent hub to hold a worker');
    // The other hub still gets its edit to the twins.
    await f.apply([
      f.smc('baseline', {
        target: { condition: "tags.environment = 'production'" },
        agentConfiguration: { snapshotFrequency: 'PT7H' },
      }),
    ]);
    await f.waitFor(
      'smc',
      'baseline',
      (o) =>
        o.metadata.generation === o.status?.observedGeneration && condition(o, 'Ready').status === 'True',
      30_000,
    );
    assert.equal((await desired(f.emulator, 'drift-0')).snapshotFrequency?.value, 'PT7H');
  });

  it('stops the resources whose merge the agent would reject, and writes nothing of it', async () => {
    await f.apply([
      f.smc('lab-low', {
        target: { condition: "tags.environment = 'lab'" },
        priority: 10,
        agentConfiguration: { lowPriorityMessageFrequency: 'PT10M' },
      }),
      f.smc('lab-high', {
        target: { condition: "tags.environment = 'lab'" },
        priority: 20,
        agentConfiguration: { highPriorityMessageFrequency: 'PT30M' },
      }),
    ]);
    for (const name of ['lab-low', 'lab-high']) {
      const stuck = await f.waitFor('smc', name, (o) => condition(o, 'Stalled').status === 'True', 30_000);
      // Every device of the rollout failed: past the failure threshold, the rollout is halted too.
      assert.ok(['DevicesFailed', 'RolloutHalted'].includes(condition(stuck, 'Ready').reason ?? ''));
      assert.equal(stuck.status.failures[0].reason, 'InvalidMergedConfiguration');
    }
    assert.equal((await desired(f.emulator, 'merge-0')).highPriorityMessageFrequency, undefined);
    for (const name of ['lab-low', 'lab-high'])
      await f.kubectl(['delete', 'smc', name, '-n', f.namespace, '--timeout=30s']);
  });

  it('brings a hub back when its Secret alone is fixed', async () => {
    const wrong = f.emulator.connectionString.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.alloc(32, 3).toString('base64')}`,
    );
    await f.apply(
      f.hubObjects({ name: 'rotated', secret: { connectionString: wrong, 'ca.crt': f.emulator.caCert } }),
    );
    await f.waitFor('hub', 'rotated', (o) => condition(o, 'Ready').reason === 'Unauthorized', 30_000);
    await f.apply(f.hubObjects({ name: 'rotated' }).slice(0, 1));
    await f.waitFor('hub', 'rotated', (o) => condition(o, 'Ready').status === 'True', 30_000);
  });
});
