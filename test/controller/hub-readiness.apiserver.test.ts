// An IoTHub's Ready condition and its reasons, on the real API server with an emulated hub: each problem a person
// can act on is named, the hub's resources say they wait for it, and fixing the cause recovers without a restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { condition, fleet, type OperatorFixture, startOperatorFixture } from '../support/operator-fixture.js';

const SMC_SPEC = {
  target: { condition: "tags.environment = 'production'" },
  agentConfiguration: { snapshotFrequency: 'PT2H' },
};

describe('IoTHub readiness', () => {
  let f: OperatorFixture;
  before(async () => {
    f = await startOperatorFixture({
      prefix: 'hub-ready',
      namespaceCount: 2,
      devices: fleet('dev', 4, { environment: 'production' }),
    });
  });
  after(() => f.close());

  async function hubReason(name: string, reason: string) {
    const hub = await f.waitFor('hub', name, (o) => condition(o, 'Ready').reason === reason);
    assert.equal(condition(hub, 'Ready').status, 'False');
    return hub;
  }

  it('names a missing Secret, and recovers when it appears', async () => {
    const [secret, hub] = f.hubObjects({ name: 'late' });
    await f.apply([hub, f.smc('waits', { ...SMC_SPEC, hubRef: { name: 'late' } })]);
    const notReady = await hubReason('late', 'SecretNotFound');
    assert.match(condition(notReady, 'Ready').message ?? '', /late-credentials/);
    assert.equal(condition(notReady, 'Stalled').status, 'True');
    const smc = await f.waitFor('smc', 'waits', (o) => condition(o, 'Ready').reason === 'SecretNotFound');
    assert.match(condition(smc, 'Ready').message ?? '', /hub .*late is not Ready/);
    await f.apply([secret]);
    await f.waitFor('smc', 'waits', (o) => condition(o, 'Ready').status === 'True', 30_000);
    assert.equal(condition(await f.get('hub', 'late'), 'Ready').reason, 'Connected');
  });

  it('names a missing key and a malformed connection string; a Basic tier is refused at apply', async () => {
    await f.apply(f.hubObjects({ name: 'nokey', secret: { other: 'x' } }));
    assert.match(
      condition(await hubReason('nokey', 'SecretKeyMissing'), 'Ready').message ?? '',
      /no key 'connectionString'.*other/,
    );

    await f.apply(
      f.hubObjects({ name: 'garbled', secret: { connectionString: 'HostName=;SharedAccessKey=abc' } }),
    );
    const garbled = await hubReason('garbled', 'InvalidConnectionString');
    assert.doesNotMatch(JSON.stringify(garbled.status), /abc/, 'the key is not echoed');

    // One resource alone says a Basic tier has no twins: the CRD's CEL refuses it with validate's words.
    const [, basic] = f.hubObjects({ name: 'basic', spec: { tier: 'B1' } });
    const refused = await f.kubectl(['apply', '-n', f.namespace, '-f', '-'], JSON.stringify(basic));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Basic tier/);
  });

  it('says Unauthorized for a wrong key, without the key, and recovers when the Secret is fixed', async () => {
    const wrong = f.emulator.connectionString.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`,
    );
    await f.apply(
      f.hubObjects({ name: 'wrongkey', secret: { connectionString: wrong, 'ca.crt': f.emulator.caCert } }),
    );
    await f.apply([f.smc('unauthorized', { ...SMC_SPEC, hubRef: { name: 'wrongkey' } })]);
    const hub = await hubReason('wrongkey', 'Unauthorized');
    assert.equal(condition(hub, 'Stalled').status, 'True');
    const smc = await f.waitFor(
      'smc',
      'unauthorized',
      (o) => condition(o, 'Ready').reason === 'Unauthorized',
    );
    const everything = JSON.stringify([hub.status, smc.status]);
    assert.doesNotMatch(everything, /SharedAccessKey=|BwcHBwcH/, 'no key in status');
    await f.apply(f.hubObjects({ name: 'wrongkey' }));
    await f.waitFor('hub', 'wrongkey', (o) => condition(o, 'Ready').status === 'True', 30_000);
    await f.waitFor('smc', 'unauthorized', (o) => condition(o, 'Ready').status === 'True', 30_000);
  });

  it('says HubUnreachable, not Stalled, when the hub does not answer', async () => {
    const closed = f.emulator.connectionString.replace(/HostName=[^;]+/, 'HostName=localhost:1');
    await f.apply(
      f.hubObjects({ name: 'gone', secret: { connectionString: closed, 'ca.crt': f.emulator.caCert } }),
    );
    const hub = await hubReason('gone', 'HubUnreachable');
    assert.equal(condition(hub, 'Stalled').status, 'False', 'retrying can help');
  });

  it('never lets a resource use the IoTHub or Secret of another namespace', async () => {
    await f.apply(f.hubObjects());
    const other = f.namespaces[1];
    await f.apply([f.smc('elsewhere', SMC_SPEC, other)], other);
    const smc = await f.waitFor(
      'smc',
      'elsewhere',
      (o) => condition(o, 'Ready').reason === 'HubNotFound',
      20_000,
      other,
    );
    assert.match(condition(smc, 'Ready').message ?? '', new RegExp(`${other}/hub does not exist`));
    assert.equal(condition(smc, 'Stalled').status, 'True');
  });
});
