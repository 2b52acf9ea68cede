// The status writer against the real API server: while the informer cache lags behind its own writes (a watch
// outage), it does not write the same status again; a status someone else changed is repaired once the cache
// shows it; a secret an error message quotes never reaches a written status, of any kind.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { makeKubeApi } from '../../src/controller/kube-http.js';
import type { ApiKind, ApiObject, ConfigObject } from '../../src/controller/kube-objects.js';
import { PLURALS } from '../../src/controller/kube-objects.js';
import { KubeWriter } from '../../src/controller/kube-writer.js';
import { WrittenStatuses } from '../../src/controller/written-statuses.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { GROUP, installCrds, kubeConfigOf, VERSION } from '../support/kube.js';
import { validIotHub, validSecurityModuleConfig, validTwinConfig } from '../support/resources.js';
import { SecretScanner } from '../support/secret-scanner.js';

const cp = await sharedControlPlane();
const api = makeKubeApi(kubeConfigOf(cp.kubeconfig), CustomObjectsApi);

describe('KubeWriter', () => {
  let namespace: string;
  before(async () => {
    await installCrds(cp);
    namespace = await testNamespace(cp, 'writer');
  });

  const status = (n: number) => ({ targetedDevices: n, conditions: [] });

  it('does not write a status again while the cache has not shown its own write', async () => {
    const body = validSecurityModuleConfig({}, 'stale') as any;
    body.metadata.namespace = namespace;
    const cached = (await api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'securitymoduleconfigs',
      body,
    })) as ConfigObject;
    const writer = new KubeWriter(api);
    const memory = new WrittenStatuses();
    assert.equal(await writer.writeStatus('SecurityModuleConfig', cached, status(5), memory), true);
    // The same stale object (no status, old resourceVersion), the same status: nothing to write.
    assert.equal(await writer.writeStatus('SecurityModuleConfig', cached, status(5), memory), false);
    assert.deepEqual(memory.currentStatus(cached), status(5));
    // A new status is written.
    assert.equal(await writer.writeStatus('SecurityModuleConfig', cached, status(6), memory), true);
    assert.equal(writer.stats.statusWrites, 2);
  });

  it('believes the cache once it shows the write', async () => {
    const body = validSecurityModuleConfig({}, 'fresh') as any;
    body.metadata.namespace = namespace;
    await api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'securitymoduleconfigs',
      body,
    });
    const writer = new KubeWriter(api);
    const memory = new WrittenStatuses();
    const readFresh = async () =>
      (await api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: 'securitymoduleconfigs',
        name: 'fresh',
      })) as ConfigObject;
    const before = await readFresh();
    await writer.writeStatus('SecurityModuleConfig', before, status(1), memory);
    const after = await readFresh();
    assert.deepEqual(memory.currentStatus(after), after.status);
    // Someone wipes it: the fresh read shows that, and the writer repairs it at once.
    await api.patchNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'securitymoduleconfigs',
      name: 'fresh',
      body: [{ op: 'remove', path: '/status' }],
    });
    const wiped = await readFresh();
    assert.equal(await writer.writeStatus('SecurityModuleConfig', wiped, status(1), memory), true);
  });

  it('writes no secret an error message quotes into the status of an IoTHub, a SecurityModuleConfig or a TwinConfig', async () => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ aud: 'https://iothubs.azure.net' })}.c2lnbmF0dXJl`;
    const key = Buffer.alloc(32, 9).toString('base64');
    const clientSecret = 'Xy8Q~abcDEF.ghi_JKL-mno1234567890';
    // What a library's error could say: the request it failed to send, the connection string it was given.
    const message =
      `token request failed: client_id=c1&client_secret=${clientSecret}&scope=x; ` +
      `Authorization: Bearer ${token}; HostName=h;SharedAccessKeyName=o;SharedAccessKey=${key}`;
    const condition = {
      type: 'Ready',
      status: 'False',
      reason: 'InvalidHubConfiguration',
      message,
      lastTransitionTime: '2024-01-01T00:00:00Z',
    };
    const bodies: [ApiKind, Record<string, any>, object][] = [
      ['IoTHub', validIotHub(), { observedGeneration: 1, conditions: [condition] }],
      [
        'SecurityModuleConfig',
        validSecurityModuleConfig({}, 'leaky'),
        {
          observedGeneration: 1,
          conditions: [condition],
          failures: [{ deviceId: 'd1', reason: 'HubError', message }],
        },
      ],
      ['TwinConfig', validTwinConfig({}, 'leaky-twins'), { observedGeneration: 1, conditions: [condition] }],
    ];
    for (const [kind, body, status] of bodies) {
      body.metadata.namespace = namespace;
      const target = { group: GROUP, version: VERSION, namespace, plural: PLURALS[kind] };
      const created = (await api.createNamespacedCustomObject({ ...target, body })) as ApiObject;
      const writer = new KubeWriter(api);
      const memory = new WrittenStatuses();
      assert.equal(await writer.writeStatus(kind, created, status, memory), true);
      const read = (await api.getNamespacedCustomObject({
        ...target,
        name: body.metadata.name,
      })) as ApiObject & {
        status: object;
      };
      const written = JSON.stringify(read.status);
      for (const secret of [clientSecret, token, key, token.split('.')[2]])
        assert.ok(!written.includes(secret), `${kind}: ${written}`);
      assert.deepEqual(new SecretScanner().scan(kind, written), []);
      assert.match(written, /client_secret=\[REDACTED\].*Bearer \[REDACTED\].*SharedAccessKey=\[REDACTED\]/);
      // What the cache shows next (the redacted status) is what the writer meant: nothing to write again.
      assert.equal(await writer.writeStatus(kind, read, status, memory), false, `${kind}: ${written}`);
    }
  });
});
