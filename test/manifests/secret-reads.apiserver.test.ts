// The operator reads only the Secrets IoTHubs name: run as a process with the generated rules (a Role of its
// namespace), every request it makes to the API server goes through a recording proxy in front of it. A Secret of
// the same namespace that no IoTHub names is never read, and no Secret is listed or watched; the named one is read
// by GET, by name, and read again on the recheck period, so a rotated connection string is used (a wrong key
// makes the hub Unauthorized, the right one back makes it Connected) without a watch and without a restart.
// Microsoft Entra ID hubs (the emulator playing the authority) too: a ClientSecret hub reads its clientSecretRef
// Secret and a ClientCertificate hub its clientCertificateRef Secret, by GET, decoys next to them never; a hub
// whose host is outside --entra-hub-hosts is refused before any Secret it names is read.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { clientCertificate, clientSecret, entraIotHub, TENANT } from '../support/entra.js';
import { installCrds } from '../support/kube.js';
import { hubResources } from '../support/operator-fixture.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { grant, hubSecret, securityModuleConfig } from '../support/resources.js';
import { until } from '../support/until.js';

const SECRET_APP = '3f1e2d4c-0000-4000-8000-00000000b001';
const CERTIFICATE_APP = '3f1e2d4c-0000-4000-8000-00000000b002';
const REFUSED_APP = '3f1e2d4c-0000-4000-8000-00000000b003';

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
  const secret = clientSecret();
  const ready = async (name: string) => {
    const hub = JSON.parse(
      await kubectlOk(cp.kubeconfig, ['get', 'iothub', name, '-n', namespace, '-o', 'json']),
    );
    return (hub.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready') as
      | { status: string; reason: string }
      | undefined;
  };
  const waitForReason = (name: string, reason: string) =>
    until(async () => (await ready(name))?.reason === reason, 30_000, `IoTHub ${name} ${reason}`, 250).catch(
      async (error) => {
        throw new Error(`${error.message}; Ready is ${JSON.stringify(await ready(name))}`);
      },
    );
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
  const secretRequests = () => proxy.requests.filter((r) => /\/secrets\b/.test(r));
  const getOf = (name: string) => `GET /api/v1/namespaces/${namespace}/secrets/${name}`;
  /** The Secrets the IoTHubs that get credentials name: each holds its hub's CA too, so a hub names one Secret. */
  const NAMED = ['hub-credentials', 'app-secret', 'app-certificate'];
  /** Secrets the operator could read (its Role allows any by name) and must not. */
  const UNREAD = ['bystander', 'decoy-secret', 'decoy-certificate', 'refused-secret'];
  const entraHub = (name: string, auth: Record<string, unknown>, hostName = emulator.hostName) =>
    entraIotHub(
      name,
      hostName,
      auth,
      // Its own Secret's CA, so that the hub names that one Secret and no other.
      {
        caSecretRef: { name: ((auth.clientSecretRef ?? auth.clientCertificateRef) as { name: string }).name },
      },
      { namespace },
    );

  before(async () => {
    cp = await sharedControlPlane();
    await installCrds(cp);
    namespace = await testNamespace(cp, 'secret-reads');
    const certificate = await clientCertificate();
    const decoyCertificate = await clientCertificate();
    // Connection strings (local authentication) and Entra ID tokens alike.
    emulator = await startHubEmulator({
      tier: 'S3',
      entra: {
        tenantId: TENANT,
        applications: [
          { clientId: SECRET_APP, secrets: [secret] },
          { clientId: CERTIFICATE_APP, certificates: [certificate.certificate] },
          { clientId: REFUSED_APP, secrets: [secret] },
        ],
        roleAssignments: {
          [SECRET_APP]: ['IoT Hub Twin Contributor'],
          [CERTIFICATE_APP]: ['IoT Hub Twin Contributor'],
          [REFUSED_APP]: ['IoT Hub Twin Contributor'],
        },
      },
    });
    emulator.addDevices([{ deviceId: 'reads-0', tags: { environment: 'production' }, online: true }]);
    const ca = emulator.caCert;
    await applyObjects(cp.kubeconfig, [
      ...grant('Role', 'operator', RECONCILE_RULES, { name: 'operator', namespace }),
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
      hubSecret('app-secret', { clientSecret: secret, 'ca.crt': ca }, { namespace }),
      hubSecret(
        'app-certificate',
        { 'tls.crt': certificate.certificate, 'tls.key': certificate.privateKey, 'ca.crt': ca },
        { namespace },
      ),
      // Next to them, of the same shape, named by nothing.
      hubSecret('decoy-secret', { clientSecret: clientSecret(), 'ca.crt': ca }, { namespace }),
      hubSecret(
        'decoy-certificate',
        { 'tls.crt': decoyCertificate.certificate, 'tls.key': decoyCertificate.privateKey, 'ca.crt': ca },
        { namespace },
      ),
      // Named by a hub refused for its host: readable, and a valid secret of its app, so only the refusal
      // coming first keeps it from being read.
      hubSecret('refused-secret', { clientSecret: secret, 'ca.crt': ca }, { namespace }),
      entraHub('by-secret', {
        kind: 'ClientSecret',
        clientId: SECRET_APP,
        clientSecretRef: { name: 'app-secret' },
      }),
      entraHub('by-certificate', {
        kind: 'ClientCertificate',
        clientId: CERTIFICATE_APP,
        clientCertificateRef: { name: 'app-certificate' },
      }),
      entraHub(
        'elsewhere',
        { kind: 'ClientSecret', clientId: REFUSED_APP, clientSecretRef: { name: 'refused-secret' } },
        'attacker.example',
      ),
    ]);
    proxy = await recordingProxy(cp);
    // The operator's token, its API server the proxy.
    const kubeconfigPath = await serviceAccountKubeconfig(cp, namespace, 'operator');
    const kubeconfig = parse(readFileSync(kubeconfigPath, 'utf8'));
    kubeconfig.clusters[0].cluster = { server: proxy.url, 'insecure-skip-tls-verify': true };
    writeFileSync(kubeconfigPath, stringify(kubeconfig), { mode: 0o600 });
    const authorityCa = join(mkdtempSync(join(tmpdir(), 'secret-reads-')), 'authority-ca.pem');
    writeFileSync(authorityCa, ca);
    operator = startOperatorProcess([
      '--kubeconfig',
      kubeconfigPath,
      '--namespace',
      namespace,
      '--secret-recheck-interval',
      '1s',
      '--entra-hub-hosts',
      emulator.hostName,
      '--entra-namespaces',
      namespace,
      '--entra-authority-host',
      emulator.endpoint,
      '--entra-authority-ca-file',
      authorityCa,
    ]);
  });
  after(async () => {
    await operator?.stop();
    proxy?.close();
    await emulator?.close();
  });

  it('uses a rotated connection string, read again by name', async () => {
    await waitForReason('hub', 'Connected');
    const right = emulator.connectionString;
    const wrong = right.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`,
    );
    await setConnectionString(wrong);
    await waitForReason('hub', 'Unauthorized');
    await setConnectionString(right);
    await waitForReason('hub', 'Connected');
    const reads = secretRequests().filter((r) => r === getOf('hub-credentials'));
    assert.ok(reads.length >= 3, JSON.stringify(secretRequests()));
  });

  it('reads a client secret, and a client certificate and its key, by GET of the Secret the IoTHub names', async () => {
    // Ready means a token from the authority for the app's own secret or certificate: the hub used its Secret.
    await waitForReason('by-secret', 'Connected');
    await waitForReason('by-certificate', 'Connected');
    const requests = secretRequests();
    assert.ok(requests.includes(getOf('app-secret')), JSON.stringify(requests));
    assert.ok(requests.includes(getOf('app-certificate')), JSON.stringify(requests));
  });

  it('reads no Secret for an IoTHub whose host is outside --entra-hub-hosts', async () => {
    await waitForReason('elsewhere', 'HubHostNotAllowed');
    // The recording sees a ClientSecret hub's GET (the test above); none of the Secret this one names.
    assert.ok(secretRequests().includes(getOf('app-secret')));
    assert.deepEqual(
      proxy.requests.filter((r) => r.includes('refused-secret')),
      [],
      'the refused hub read its Secret',
    );
    assert.equal(emulator.entra!.tokenRequests(REFUSED_APP), 0);
  });

  it('never lists or watches a Secret, nor reads one no IoTHub names', () => {
    const named = new Set(NAMED.map(getOf));
    assert.deepEqual(
      secretRequests().filter((r) => !named.has(r)),
      [],
      'every Secret request is a GET of a Secret an IoTHub names: no list, no watch, no other Secret',
    );
    for (const name of UNREAD)
      assert.ok(!proxy.requests.some((r) => r.includes(name)), `Secret ${name} was read`);
    assert.equal(operator.process.exitCode, null);
  });
});
