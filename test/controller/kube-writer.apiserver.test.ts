// The status writer against the real API server: while the informer cache lags behind its own writes (a watch
// outage), it does not write the same status again; a status someone else changed is repaired once the cache
// shows it.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { makeKubeApi } from '../../src/controller/kube-http.js';
import type { ConfigObject } from '../../src/controller/kube-objects.js';
import { KubeWriter } from '../../src/controller/kube-writer.js';
import { WrittenStatuses } from '../../src/controller/written-statuses.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { GROUP, installCrds, kubeConfigOf, VERSION } from '../support/kube.js';
import { validSecurityModuleConfig } from '../support/resources.js';

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
});
