// The operator with only the rights the manifests grant: the rendered RBAC applied to the real API server (RBAC
// authorization on), a token for the manifests' ServiceAccount (TokenRequest), the operator process run with that
// token through a whole scenario: never a 403. Its /metrics are scraped during the run and checked against the
// hub's own counts (the emulator's /_emulator/stats); its log carries the hub on every reconcile line and never a
// key or a signature.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  type ControlPlaneInfo,
  kubectl,
  kubectlOk,
  serviceAccountKubeconfig,
  sharedControlPlane,
  testNamespace,
} from '../support/control-plane.js';
import { rawRequest } from '../support/emulator-requests.js';
import { startHubEmulator } from '../support/emulator-support.js';
import { installCrds, REPO } from '../support/kube.js';
import { parseMetrics } from '../support/metrics.js';
import { hubResources } from '../support/operator-fixture.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { securityModuleConfig } from '../support/resources.js';
import { until } from '../support/until.js';

describe('the operator with only the rights of manifests/', () => {
  let cp: ControlPlaneInfo;
  let emulator: RunningEmulator;
  let namespace: string;
  let operator: OperatorProcess;
  const k = (args: string[], input?: string) => kubectlOk(cp.kubeconfig, args, input);
  const ready = async (kind: string, name: string) => {
    const result = await kubectl(cp.kubeconfig, ['get', kind, name, '-n', namespace, '-o', 'json']);
    if (result.code !== 0) return undefined;
    const object = JSON.parse(result.stdout);
    const condition = object.status?.conditions?.find((c: any) => c.type === 'Ready');
    return object.status?.observedGeneration === object.metadata.generation ? condition : undefined;
  };

  before(async () => {
    cp = await sharedControlPlane();
    await installCrds(cp);
    const rendered = parseAllDocuments(await k(['kustomize', join(REPO, 'manifests')])).map((d) => d.toJS());
    const rbac = rendered.filter((o) =>
      ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(
        o.kind,
      ),
    );
    await k(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=least-privilege-test', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }),
    );
    namespace = await testNamespace(cp, 'least-privilege');
    emulator = await startHubEmulator({ tier: 'S3', agentDelay: { min: 20, max: 200 } });
    emulator.addDevices(
      Array.from({ length: 40 }, (_, i) => ({
        deviceId: `lp-${i}`,
        tags: { environment: 'production', site: i < 10 ? 'ams' : 'chi' },
        online: true,
      })),
    );
    const token = await serviceAccountKubeconfig(cp, 'iot-security', 'iot-security-operator');
    const whoami = await kubectlOk(token, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(whoami, 'system:serviceaccount:iot-security:iot-security-operator');
    operator = startOperatorProcess([
      '--kubeconfig',
      token,
      '--namespace',
      namespace,
      '--leader-elect',
      '--leader-elect-resource-namespace',
      'iot-security',
    ]);
  });
  after(async () => {
    await operator?.stop();
    await emulator?.close();
  });

  it('runs the whole scenario without one 403', async () => {
    const [secret, hub] = hubResources(emulator, { namespace });
    const smc = (name: string, spec: Record<string, unknown>) =>
      securityModuleConfig(name, spec, { namespace });
    const baseline = smc('baseline', {
      target: { condition: "tags.environment = 'production'" },
      priority: 10,
      agentConfiguration: { snapshotFrequency: 'PT6H' },
      rollout: { batchSize: '50%' },
    });
    const site = smc('site', {
      target: { condition: "tags.site = 'ams'" },
      priority: 50,
      agentConfiguration: { snapshotFrequency: 'PT2H' },
    });
    await k(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [secret, hub, baseline, site] }),
    );
    await until(
      async () =>
        (await ready('smc', 'baseline'))?.status === 'True' &&
        (await ready('smc', 'site'))?.status === 'True',
      60_000,
      'both Ready',
    );

    // An edit, an invalid spec and its fix (Events created, then one repeated: patched), a reconcile by hand, a delete.
    (baseline.spec as any).agentConfiguration.snapshotFrequency = 'PT5H';
    await k(['apply', '-f', '-'], JSON.stringify(baseline));
    await until(
      async () => (await ready('smc', 'baseline'))?.status === 'True',
      60_000,
      'the edit rolled out',
    );
    // Invalid in a way the API server accepts (the CRDs' CEL refuses what one resource's settings break): a
    // condition that does not parse.
    const invalid = smc('site', {
      target: { condition: "tags.site = 'ams' AND" },
      priority: 50,
      agentConfiguration: { highPriorityMessageFrequency: 'PT10M' },
    });
    for (let round = 0; round < 2; round++) {
      await k(['apply', '-f', '-'], JSON.stringify(invalid));
      await until(async () => (await ready('smc', 'site'))?.reason === 'InvalidSpec', 30_000, 'InvalidSpec');
      await k(['apply', '-f', '-'], JSON.stringify(site));
      await until(async () => (await ready('smc', 'site'))?.status === 'True', 30_000, 'fixed');
    }
    const events = JSON.parse(await k(['get', 'events', '-n', namespace, '-o', 'json'])).items;
    assert.ok(
      events.some((e: any) => e.reason === 'InvalidSpec' && e.count === 2),
      'the repeated Event was aggregated (patched)',
    );
    await k([
      'annotate',
      'hub',
      'hub',
      '-n',
      namespace,
      '--overwrite',
      'iotsecurity.io/reconcile-requested-at=1',
    ]);
    await until(
      async () =>
        JSON.parse(await k(['get', 'hub', 'hub', '-n', namespace, '-o', 'json'])).status
          ?.lastHandledReconcileAt === '1',
      30_000,
      'the annotation handled',
    );
    await k(['delete', 'smc', 'site', '-n', namespace, '--timeout=60s']);

    const log = operator.log();
    assert.doesNotMatch(log, /\b403\b|forbidden/i, 'no request was refused');
    assert.match(log, /became the leader/);
  });

  it("exports /metrics whose hub counts are the hub's own", async () => {
    const { metrics, probes } = await operator.endpoints();
    assert.equal((await fetch(`${probes}/healthz`)).status, 200);
    const readyz = await fetch(`${probes}/readyz`);
    assert.equal(readyz.status, 200);
    assert.match(await readyz.text(), /leader/);
    // Quiet: every resource is Ready, nothing is pending; the counts hold still while we compare.
    await until(
      async () => {
        const baseline = JSON.parse(await k(['get', 'smc', 'baseline', '-n', namespace, '-o', 'json']));
        return (
          baseline.status?.convergedDevices === 40 && (await ready('smc', 'baseline'))?.status === 'True'
        );
      },
      30_000,
      'the baseline converged again after the delete',
    );
    const samples = parseMetrics(await (await fetch(`${metrics}/metrics`)).text());
    const stats = (await rawRequest(emulator, { method: 'GET', path: '/_emulator/stats' })).json as {
      requests: Record<string, Record<string, number>>;
      throttled: Record<string, number>;
    };
    for (const cls of ['twinUpdate', 'query', 'twinRead']) {
      const exported = samples
        .filter((s) => s.name === 'iot_security_hub_requests_total' && s.labels.class === cls)
        .reduce((sum, s) => sum + s.value, 0);
      const hub = Object.values(stats.requests[cls] ?? {}).reduce((a, b) => a + b, 0);
      assert.equal(exported, hub, `${cls}: the operator counted ${exported} requests, the hub ${hub}`);
    }
    assert.ok((stats.requests.twinUpdate?.['200'] ?? 0) > 40);
    const find = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    assert.equal(find('leader_election_master_status', { name: 'iot-security-operator-leader' })?.value, 1);
    assert.ok(
      (find('controller_runtime_reconcile_total', { controller: 'iothub', result: 'requeue_after' })?.value ??
        0) > 0,
    );
    assert.ok(find('workqueue_adds_total', { name: 'iothub' })!.value > 0);
    assert.ok(find('workqueue_work_duration_seconds_count', { name: 'iothub' })!.value > 0);
    assert.equal(find('iot_security_resource_devices', { name: 'baseline', state: 'converged' })?.value, 40);
    assert.equal(
      find('iot_security_resource_ready', { kind: 'SecurityModuleConfig', name: 'baseline' })?.value,
      1,
    );
    assert.equal(
      find('iot_security_resource_ready', { kind: 'SecurityModuleConfig', name: 'site' }),
      undefined,
      'a deleted resource leaves the metrics',
    );
  });

  it('logs JSON lines with the hub on every reconcile line, and never a key or a signature', () => {
    const lines = operator
      .log()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const reconciles = lines.filter((l) => l.message === 'hub reconciled');
    assert.ok(reconciles.length > 0);
    for (const line of reconciles) assert.equal(line.hub, `${namespace}/hub`);
    const key = /SharedAccessKey=([^;]+)/.exec(emulator.connectionString)![1];
    const text = operator.log();
    assert.equal(text.includes(key), false, 'the key is never logged');
    assert.doesNotMatch(text, /sig=[A-Za-z0-9%]{10}/, 'no SAS signature is logged');
  });
});
