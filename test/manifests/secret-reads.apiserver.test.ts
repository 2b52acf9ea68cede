// The operator reads only the Secrets IoTHubs name: run as a process with the generated rules (a Role of its
// namespace), every request it makes to the API server goes through a recording proxy in front of it. A Secret of
// the same namespace that no IoTHub names is never read, and no Secret is listed or watched; the named one is read
// by GET, by name, and read again on the recheck period, so a rotated connection string is used (a wrong key
// makes the hub Unauthorized, the right one back makes it Connected) without a watch and without a restart.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { RECONCILE_RULES } from '../../src/controller/rbac-rules.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  applyObjects,
  type ControlPlaneInfo,
  kubectlOk,
  serviceAccountKubeconfig,
  sharedControlPlane,
  testNamespace,
} from '../support/control-plane.js';
import { startHubEmulator } from '../support/emulator-support.js';
import { installCrds } from '../support/kube.js';
import { hubResources } from '../support/operator-fixture.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { hubSecret, securityModuleConfig } from '../support/resources.js';
import { until } from '../support/until.js';

/** An HTTP proxy to the API server that records the method and path of every request passed on. */
async function recordingProxy(cp: ControlPlaneInfo) {
  const ca = readFileSync(cp.caFile);
  const target = new URL(cp.server);
  const requests: string[] = [];
  // Its own connections to the API server (watches among them), ended with the proxy.
  const agent = new Agent({ ca });
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const upstream = httpsRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const close = () => {
    server.closeAllConnections();
    server.close();
    agent.destroy();
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close };
}

describe('the Secrets the operator reads', () => {
  let cp: ControlPlaneInfo;
  let emulator: RunningEmulator;
  let namespace: string;
  let operator: OperatorProcess;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  const hubReady = async () => {
    const hub = JSON.parse(
      await kubectlOk(cp.kubeconfig, ['get', 'iothub', 'hub', '-n', namespace, '-o', 'json']),
    );
    return (hub.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready') as
      | { status: string; reason: string }
      | undefined;
  };
  const setConnectionString = (connectionString: string) =>
    kubectlOk(cp.kubeconfig, [
      'patch',
      'secret',
      'hub-credentials',
      '-n',
      namespace,
      '--type=merge',
      '-p',
      JSON.stringify({ stringData: { connectionString } }),
    ]);

  before(async () => {
    cp = await sharedControlPlane();
    await installCrds(cp);
    namespace = await testNamespace(cp, 'secret-reads');
    emulator = await startHubEmulator({ tier: 'S3' });
    emulator.addDevices([{ deviceId: 'reads-0', tags: { environment: 'production' }, online: true }]);
    await applyObjects(cp.kubeconfig, [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'operator', namespace },
        rules: RECONCILE_RULES,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'operator', namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'operator' },
        subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace }],
      },
      // In the operator's namespace, readable with its rights, named by nothing.
      hubSecret('bystander', { 'tls.key': 'not-for-the-operator' }, { namespace }),
      ...hubResources(emulator, { namespace }),
      securityModuleConfig(
        'baseline',
        {
          target: { condition: "tags.environment = 'production'" },
          agentConfiguration: { snapshotFrequency: 'PT2H' },
        },
        { namespace },
      ),
    ]);
    proxy = await recordingProxy(cp);
    // The operator's token, its API server the proxy.
    const kubeconfigPath = await serviceAccountKubeconfig(cp, namespace, 'operator');
    const kubeconfig = parse(readFileSync(kubeconfigPath, 'utf8'));
    kubeconfig.clusters[0].cluster = { server: proxy.url, 'insecure-skip-tls-verify': true };
    writeFileSync(kubeconfigPath, stringify(kubeconfig), { mode: 0o600 });
    operator = startOperatorProcess([
      '--kubeconfig',
      kubeconfigPath,
      '--namespace',
      namespace,
      '--secret-recheck-interval',
      '1s',
    ]);
  });
  after(async () => {
    await operator?.stop();
    proxy?.close();
    await emulator?.close();
  });

  it('uses a rotated connection string, read again by name, and never reads a Secret no IoTHub names', async () => {
    await until(async () => (await hubReady())?.reason === 'Connected', 30_000, 'the hub Connected', 250);
    const right = emulator.connectionString;
    const wrong = right.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`,
    );
    await setConnectionString(wrong);
    await until(async () => (await hubReady())?.reason === 'Unauthorized', 30_000, 'the wrong key used', 250);
    await setConnectionString(right);
    await until(
      async () => (await hubReady())?.reason === 'Connected',
      30_000,
      'the right key used again',
      250,
    );

    const secretRequests = proxy.requests.filter((r) => /\/secrets\b/.test(r));
    const named = `GET /api/v1/namespaces/${namespace}/secrets/hub-credentials`;
    assert.ok(proxy.requests.length > 0 && secretRequests.length >= 3, JSON.stringify(secretRequests));
    assert.deepEqual(
      secretRequests.filter((r) => r !== named),
      [],
      'every Secret request is a GET of the Secret the IoTHub names: no list, no watch, no other Secret',
    );
    assert.ok(!proxy.requests.some((r) => r.includes('bystander')), 'the unnamed Secret is never read');
    assert.equal(operator.process.exitCode, null);
  });
});
