// /metrics over HTTPS, each caller checked with the API server as controller-runtime's secure serving does: no token
// or a token the API server does not know is a 401, a ServiceAccount without the ...-metrics-reader rules a 403, one
// with them reads the metrics; the reviews are kept briefly; a certificate given as files is served and replaced
// when they change; --metrics-secure=false serves plain HTTP.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { loadKubeConfig } from '../../src/cli/commands/run.js';
import { METRICS_AUTH_RULES, METRICS_READER_RULES } from '../../src/controller/rbac-rules.js';
import { createCertificates } from '../../src/emulator/certificates.js';
import {
  type AccessReviews,
  kubeAccessReviews,
  MetricsAccess,
} from '../../src/observability/metrics-access.js';
import {
  applyObjects,
  kubectl,
  serviceAccountKubeconfig,
  serviceAccountToken,
  sharedControlPlane,
  testNamespace,
} from '../support/control-plane.js';
import { installCrds } from '../support/kube.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { grant } from '../support/resources.js';
import { until } from '../support/until.js';

const cp = await sharedControlPlane();

interface Answer {
  status: number;
  body: string;
  /** The fingerprint of the certificate the server presented. */
  served: string;
}

/** GET over HTTPS, the certificate checked against `ca` when given, not checked otherwise (insecureSkipVerify). */
function get(url: string, options: { token?: string; ca?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      url,
      {
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
        ...(options.ca ? { ca: options.ca, servername: 'localhost' } : { rejectUnauthorized: false }),
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            served: (response.socket as TLSSocket).getPeerCertificate().fingerprint256,
          }),
        );
      },
    );
    request.on('error', reject);
  });
}

describe('secure /metrics', () => {
  let namespace: string;
  let reader: string;
  let stranger: string;
  const operators: OperatorProcess[] = [];
  const clusterObjects: string[] = [];

  before(async () => {
    await installCrds(cp);
    namespace = await testNamespace(cp, 'secure-metrics');
    const name = `metrics-reader-${namespace}`;
    clusterObjects.push(`clusterrole/${name}`, `clusterrolebinding/${name}`);
    reader = await serviceAccountToken(cp, namespace, 'prometheus');
    stranger = await serviceAccountToken(cp, namespace, 'someone');
    await applyObjects(
      cp.kubeconfig,
      grant('ClusterRole', name, METRICS_READER_RULES, { name: 'prometheus', namespace }),
    );
  });
  after(async () => {
    for (const operator of operators) await operator.kill();
    await kubectl(cp.kubeconfig, ['delete', ...clusterObjects, '--ignore-not-found']);
  });

  it('answers 401 without a token or with one the API server refuses, 403 without the right, the metrics with it', async () => {
    // The operator as deployed: its own ServiceAccount, granted the reviews (a ClusterRole: they are cluster-scoped).
    const name = `metrics-auth-${namespace}`;
    clusterObjects.push(`clusterrole/${name}`, `clusterrolebinding/${name}`);
    const kubeconfig = await serviceAccountKubeconfig(cp, namespace, 'operator');
    await applyObjects(
      cp.kubeconfig,
      grant('ClusterRole', name, METRICS_AUTH_RULES, { name: 'operator', namespace }),
    );
    const operator = startOperatorProcess([
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      namespace,
      '--metrics-secure',
    ]);
    operators.push(operator);
    const { metrics } = await operator.endpoints();
    assert.match(metrics, /^https:\/\//);
    assert.equal((await get(`${metrics}/metrics`)).status, 401);
    assert.equal((await get(`${metrics}/metrics`, { token: 'not-a-token' })).status, 401);
    const forbidden = await get(`${metrics}/metrics`, { token: stranger });
    assert.equal(forbidden.status, 403, forbidden.body);
    assert.match(forbidden.body, new RegExp(`system:serviceaccount:${namespace}:someone`));
    // The right may take a moment to reach the API server's authorizer cache.
    await until(
      async () => (await get(`${metrics}/metrics`, { token: reader })).status === 200,
      20_000,
      'the metrics-reader allowed',
      250,
    );
    const allowed = await get(`${metrics}/metrics`, { token: reader });
    assert.match(allowed.body, /^# HELP /m);
    assert.match(allowed.body, /leader_election_master_status|controller_runtime_/);
    // Plain HTTP to the HTTPS port gets no metrics.
    const plain = await fetch(`${metrics.replace('https:', 'http:')}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    assert.doesNotMatch(plain, /# HELP/);
    assert.doesNotMatch(operator.log(), new RegExp(reader.slice(-20)), 'tokens stay out of the log');
  });

  it('reviews a token and its right once, not at every scrape', async () => {
    const counted = { tokens: 0, access: 0 };
    const real = kubeAccessReviews(loadKubeConfig(cp.kubeconfig));
    const reviews: AccessReviews = {
      reviewToken: (token) => {
        counted.tokens++;
        return real.reviewToken(token);
      },
      reviewAccess: (...args) => {
        counted.access++;
        return real.reviewAccess(...args);
      },
    };
    const access = new MetricsAccess(reviews);
    for (let scrape = 0; scrape < 10; scrape++) {
      assert.equal((await access.decide(`Bearer ${reader}`, 'GET', '/metrics')).status, 200);
      assert.equal((await access.decide(`Bearer ${stranger}`, 'GET', '/metrics')).status, 403);
    }
    assert.deepEqual(counted, { tokens: 2, access: 2 });
  });

  it('serves the certificate given as files, and the new one when they change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'metrics-cert-'));
    const write = async () => {
      const made = await createCertificates(['localhost', '127.0.0.1']);
      // Written aside and renamed into place, as a Secret's volume swaps its files.
      writeFileSync(join(dir, 'tls.key.new'), made.serverKey);
      writeFileSync(join(dir, 'tls.crt.new'), made.serverCert);
      renameSync(join(dir, 'tls.key.new'), join(dir, 'tls.key'));
      renameSync(join(dir, 'tls.crt.new'), join(dir, 'tls.crt'));
      return made.caCert;
    };
    const firstCa = await write();
    const operator = startOperatorProcess([
      '--kubeconfig',
      cp.kubeconfig,
      '--namespace',
      namespace,
      '--metrics-secure=true',
      '--metrics-cert-path',
      dir,
    ]);
    operators.push(operator);
    const { metrics } = await operator.endpoints();
    const first = await get(`${metrics}/metrics`, { ca: firstCa, token: reader });
    assert.equal(first.status, 200, first.body);
    const secondCa = await write();
    await until(
      async () => (await get(`${metrics}/metrics`, { ca: secondCa }).catch(() => undefined))?.status === 401,
      40_000,
      'the renewed certificate served',
      500,
    );
    assert.match(operator.log(), /serving the renewed metrics certificate/);
  });

  it('serves plain HTTP, to anyone, with --metrics-secure=false', async () => {
    const operator = startOperatorProcess([
      '--kubeconfig',
      cp.kubeconfig,
      '--namespace',
      namespace,
      '--metrics-secure=false',
    ]);
    operators.push(operator);
    const { metrics, probes } = await operator.endpoints();
    assert.match(metrics, /^http:\/\//);
    const response = await fetch(`${metrics}/metrics`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /^# HELP /m);
    assert.equal((await fetch(`${probes}/healthz`)).status, 200, 'the probes stay plain HTTP');
  });
});
