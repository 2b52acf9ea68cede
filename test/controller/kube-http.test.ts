// The HTTP layer under the API clients: a connection reset while a body is read, or a server that never
// answers, fails the call in bounded time (client-node's own layer waits forever on both).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { makeKubeApi } from '../../src/controller/kube-http.js';

function kubeConfigFor(port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('makeKubeApi', () => {
  let server: http.Server;
  let port: number;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url?.includes('/namespaces/reset/')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        // The connection drops once part of the body has gone out.
        res.write('{"items": [', () => req.socket.destroy());
      } else if (req.url?.includes('/namespaces/silent/')) {
        // Never answers.
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMapList', metadata: {}, items: [] }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reads an answer', async () => {
    const api = makeKubeApi(kubeConfigFor(port), CoreV1Api);
    const list = await api.listNamespacedConfigMap({ namespace: 'ok' });
    assert.deepEqual(list.items, []);
  });

  it('rejects a call whose connection resets while the body is read', async () => {
    const api = makeKubeApi(kubeConfigFor(port), CoreV1Api);
    await assert.rejects(api.listNamespacedConfigMap({ namespace: 'reset' }), /aborted|closed/);
  });

  it('rejects a call the server never answers, after the timeout', async () => {
    const api = makeKubeApi(kubeConfigFor(port), CoreV1Api, { timeoutMs: 300 });
    const started = Date.now();
    await assert.rejects(api.listNamespacedConfigMap({ namespace: 'silent' }), /did not answer/);
    assert.ok(Date.now() - started < 2000);
  });
});
