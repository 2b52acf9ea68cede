// The Secrets IoTHubs name, read by GET on the real API server (secret-reader.ts): only the keys asked for come
// back, nothing it remembers holds a value, a changed Secret is told from an unchanged one by its resourceVersion,
// and a refusal names the right that is missing.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { makeKubeApi } from '../../src/controller/kube-http.js';
import { SecretReader } from '../../src/controller/secret-reader.js';
import {
  applyObjects,
  type ControlPlaneInfo,
  kubectlOk,
  serviceAccountKubeconfig,
  sharedControlPlane,
  testNamespace,
} from '../support/control-plane.js';
import { kubeConfigOf } from '../support/kube.js';
import { hubSecret } from '../support/resources.js';

const USED = 'HostName=h.example;SharedAccessKeyName=iothubowner;SharedAccessKey=dXNlZC1rZXk=';
const UNUSED = 'not-for-the-operator-c2VjcmV0';

describe('the Secret reader', () => {
  let cp: ControlPlaneInfo;
  let namespace: string;
  let reader: SecretReader;
  const changed: string[] = [];
  const recheck = async () => {
    changed.length = 0;
    await reader.recheck((hub) => changed.push(hub));
    return [...changed];
  };

  before(async () => {
    cp = await sharedControlPlane();
    namespace = await testNamespace(cp, 'secret-reader');
    reader = new SecretReader(makeKubeApi(kubeConfigOf(cp.kubeconfig), CoreV1Api));
    await applyObjects(cp.kubeconfig, [
      hubSecret(
        'hub-credentials',
        { connectionString: USED, 'ca.crt': 'CA', 'tls.key': UNUSED },
        { namespace },
      ),
    ]);
  });

  it('returns only the keys asked for and remembers no value, only versions and key names', async () => {
    const read = await reader.forHub(`${namespace}/hub`, (lookup) =>
      lookup(namespace, 'hub-credentials', ['connectionString']),
    );
    assert.ok(read.found);
    assert.deepEqual(read.values, { connectionString: USED });
    assert.deepEqual(read.keyNames, ['ca.crt', 'connectionString', 'tls.key']);
    const remembered = reader.snapshot().get(`${namespace}/hub-credentials`);
    assert.ok(remembered?.resourceVersion);
    assert.deepEqual([...remembered.usedKeys], ['connectionString']);
    assert.deepEqual([...remembered.hubs], [`${namespace}/hub`]);
    const everything = JSON.stringify(
      [...reader.snapshot()].map(([k, e]) => [k, { ...e, usedKeys: [...e.usedKeys] }]),
    );
    for (const value of [USED, UNUSED, 'dXNlZC1rZXk=', Buffer.from(UNUSED).toString('base64')])
      assert.ok(!everything.includes(value), 'no value is remembered');
  });

  it('tells a changed, deleted or created Secret from an unchanged one by its resourceVersion', async () => {
    assert.deepEqual(await recheck(), [], 'unchanged: no hub queued');
    await kubectlOk(cp.kubeconfig, [
      'patch',
      'secret',
      'hub-credentials',
      '-n',
      namespace,
      '--type=merge',
      '-p',
      JSON.stringify({ stringData: { connectionString: USED.replace('h.example', 'rotated.example') } }),
    ]);
    assert.deepEqual(await recheck(), [`${namespace}/hub`], 'rotated: its hub queued');
    // The reconcile that follows reads it anew; then it is unchanged again.
    await reader.forHub(`${namespace}/hub`, (lookup) =>
      lookup(namespace, 'hub-credentials', ['connectionString']),
    );
    assert.deepEqual(await recheck(), []);
    await kubectlOk(cp.kubeconfig, ['delete', 'secret', 'hub-credentials', '-n', namespace]);
    assert.deepEqual(await recheck(), [`${namespace}/hub`], 'deleted: its hub queued');
    const gone = await reader.forHub(`${namespace}/hub`, (lookup) =>
      lookup(namespace, 'hub-credentials', ['connectionString']),
    );
    assert.deepEqual(gone, { found: false });
    assert.deepEqual(await recheck(), [], 'still missing: nothing new');
    await applyObjects(cp.kubeconfig, [
      hubSecret('hub-credentials', { connectionString: USED }, { namespace }),
    ]);
    assert.deepEqual(await recheck(), [`${namespace}/hub`], 'created: its hub queued');
  });

  it('lets a Secret go once no hub reads it', async () => {
    await reader.forHub(`${namespace}/hub`, async () => undefined);
    assert.equal(reader.snapshot().size, 0);
    assert.deepEqual(await recheck(), []);
  });

  it('says which right is missing when the API server refuses the get', async () => {
    const token = await serviceAccountKubeconfig(cp, namespace, 'no-rights');
    const refused = new SecretReader(makeKubeApi(kubeConfigOf(token), CoreV1Api));
    const read = await refused.forHub(`${namespace}/hub`, (lookup) =>
      lookup(namespace, 'hub-credentials', ['connectionString']),
    );
    assert.ok(!read.found && read.unreadable);
    assert.equal(read.unreadable.status, 403);
    assert.match(read.unreadable.message, /cannot get resource "secrets".*grant get on secrets/);
    assert.equal(refused.snapshot().size, 0, 'nothing is known of a Secret that could not be read');
  });
});
