// Every RBAC rule the manifests grant is needed: with each rule removed in turn (a Role of its own namespace, the
// operator run with a token of only those rights), the operator keeps running (no crash loop) and says which
// right it lacks: the API server's refusal, naming the verb and the resource, in its log. Without `get configmaps`
// only the TwinConfig that names a ConfigMap is held: the hub's SecurityModuleConfig still converges. Without `get
// secrets` the IoTHub says SecretUnreadable, naming the right to grant. The reviews of secure /metrics are
// cluster-scoped (a ClusterRole): without one, a scrape is refused and the operator says why.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import {
  LEADER_ELECTION_RULES,
  METRICS_AUTH_RULES,
  type PolicyRule,
  RECONCILE_RULES,
  SHARDING_RULES,
} from '../../src/controller/rbac-rules.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  kubectl,
  kubectlOk,
  serviceAccountKubeconfig,
  serviceAccountToken,
  sharedControlPlane,
  testNamespace,
} from '../support/control-plane.js';
import { startHubEmulator } from '../support/emulator-support.js';
import { installCrds } from '../support/kube.js';
import { reconcilesFinished } from '../support/metrics.js';
import { hubResources } from '../support/operator-fixture.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { reconcileNow } from '../support/reconciles.js';
import { configMap, grant, securityModuleConfig, twinConfig } from '../support/resources.js';
import { until } from '../support/until.js';

const cp = await sharedControlPlane();
const RULES: PolicyRule[] = [
  ...RECONCILE_RULES,
  ...LEADER_ELECTION_RULES,
  ...SHARDING_RULES,
  ...METRICS_AUTH_RULES,
];
/** The operator runs with --leader-elect, except where a sharding rule is removed: then with --sharding. */
const sharded = (rule: PolicyRule) => SHARDING_RULES.includes(rule);
/** Where a metrics review rule is removed, /metrics is served secure and scraped, with a valid token. */
const metricsAuth = (rule: PolicyRule) => METRICS_AUTH_RULES.includes(rule);

/** The status of a scrape of the operator's secure /metrics (its certificate is self-signed). */
function scrape(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) =>
    https
      .get(
        `${url}/metrics`,
        { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, agent: false },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      )
      .on('error', reject),
  );
}

/** The API server's words for a refused request of this rule, as they appear in a JSON log line. */
function refusal(rule: PolicyRule): RegExp {
  const verbs = rule.verbs.join('|');
  const resources = rule.resources.map((r) => r.replace('/', '\\/')).join('|');
  return new RegExp(`cannot (${verbs}) resource \\\\"(${resources})\\\\"`);
}

/**
 * Resolves once the operator has gone on past the refusal: one that leads has reconciled twice more when asked; one
 * whose caches cannot fill has listed again and been refused again; one that cannot take the lease stands by, ready;
 * one that cannot read the sharding Leases is ready and holds no hub.
 */
async function carriesOn(lacking: {
  removed: PolicyRule;
  operator: OperatorProcess;
  namespace: string;
  token: string;
}) {
  const { removed, operator, namespace, token } = lacking;
  const what = `the operator without ${removed.verbs.join(',')} ${removed.resources.join(',')}`;
  if (metricsAuth(removed)) {
    // The scrape is refused (401 when the token cannot be reviewed, 500 when the access cannot), the rest goes on.
    const { metrics, probes } = await operator.endpoints();
    assert.ok([401, 500].includes(await scrape(metrics, token)), `${what}: a scrape refused`);
    await until(async () => (await fetch(`${probes}/readyz`)).ok, 30_000, `${what} ready`, 250);
  } else if (sharded(removed)) {
    const { probes } = await operator.endpoints();
    const readyz = async () => (await fetch(`${probes}/readyz`)).text();
    await until(async () => (await readyz()).includes('sharding: 0 hubs'), 30_000, `${what} ready`, 250);
  } else if (LEADER_ELECTION_RULES.includes(removed)) {
    const { probes } = await operator.endpoints();
    const readyz = async () => (await fetch(`${probes}/readyz`)).text();
    await until(async () => (await readyz()).includes('standby'), 30_000, `${what} standing by`, 250);
  } else if (removed.verbs.includes('list')) {
    const refusals = () =>
      operator
        .log()
        .split('\n')
        .filter((line) => refusal(removed).test(line)).length;
    const seen = refusals();
    await until(() => refusals() > seen, 40_000, `${what} listing again`, 250);
  } else {
    const hub = {
      kubeconfig: cp.kubeconfig,
      namespace,
      name: 'hub',
      finished: () => reconcilesFinished(operator),
    };
    // Without the right to write status it cannot acknowledge the requests: its reconciles are counted.
    await reconcileNow(hub, { acknowledged: false });
  }
}

/** The Ready condition of a resource, read as the admin. */
async function readyOf(kind: string, name: string, namespace: string) {
  const object = JSON.parse(
    await kubectlOk(cp.kubeconfig, ['get', kind, name, '-n', namespace, '-o', 'json']),
  ) as { status?: { conditions?: { type: string; reason: string; message: string }[] } };
  return object.status?.conditions?.find((c) => c.type === 'Ready');
}

/**
 * Without `get configmaps` the TwinConfig that names one is held with a reason of its own, saying which right is
 * missing, while the SecurityModuleConfig of the same hub is written and converges.
 */
async function heldAlone({ namespace }: { namespace: string }) {
  await until(
    async () => (await readyOf('smc', 'baseline', namespace))?.reason === 'Converged',
    40_000,
    'the SecurityModuleConfig beside a TwinConfig whose ConfigMap cannot be read converging',
    250,
  );
  const held = await readyOf('tc', 'setpoint', namespace);
  assert.equal(held?.reason, 'ConfigMapUnreadable', JSON.stringify(held));
  assert.match(held?.message ?? '', /cannot get resource "configmaps".*grant get on configmaps/);
}

/** Without `get secrets` the IoTHub is not Ready for a reason of its own, whose message names the missing right. */
async function secretUnreadable({ namespace }: { namespace: string }) {
  await until(
    async () => (await readyOf('iothub', 'hub', namespace))?.reason === 'SecretUnreadable',
    40_000,
    'the IoTHub whose Secret cannot be read saying SecretUnreadable',
    250,
  );
  const ready = await readyOf('iothub', 'hub', namespace);
  assert.match(ready?.message ?? '', /cannot get resource "secrets".*grant get on secrets/);
}

describe('every RBAC rule is needed', () => {
  let emulator: RunningEmulator;
  const operators: OperatorProcess[] = [];
  const clusterObjects: string[] = [];
  before(async () => {
    await installCrds(cp);
    emulator = await startHubEmulator({ tier: 'S3' });
  });
  after(async () => {
    for (const operator of operators) await operator.kill();
    await emulator.close();
    if (clusterObjects.length)
      await kubectl(cp.kubeconfig, ['delete', ...clusterObjects, '--ignore-not-found']);
  });

  it(`makes the operator say which right it lacks when one of the ${RULES.length} rules is removed`, async () => {
    const cases = await Promise.all(
      RULES.map(async (removed, index) => {
        const namespace = await testNamespace(cp, `rbac-${index}`);
        emulator.addDevices([{ deviceId: `rbac-${index}`, tags: { rule: String(index) }, online: true }]);
        const rules = RULES.filter((r) => r !== removed);
        const clusterRole = `rbac-metrics-${namespace}`;
        const objects = [
          ...grant(
            'Role',
            'operator',
            rules.filter((r) => !metricsAuth(r)),
            { name: 'operator', namespace },
          ),
          // The metrics reviews, cluster-scoped, as manifests/base/metrics-auth.yaml grants them.
          ...grant('ClusterRole', clusterRole, rules.filter(metricsAuth), { name: 'operator', namespace }),
          ...hubResources(emulator, { namespace }),
          securityModuleConfig(
            'baseline',
            {
              target: { condition: `tags.rule = '${index}'` },
              agentConfiguration: { snapshotFrequency: 'PT2H' },
            },
            { namespace },
          ),
          // A TwinConfig judged by a ConfigMap's schema: the only ConfigMaps the operator reads (get, by name).
          configMap('thermostat-schema', { 'schema.json': '{"type": "object"}' }, { namespace }),
          twinConfig(
            'setpoint',
            {
              target: { condition: `tags.rule = '${index}'` },
              properties: { targetTemperature: 21 },
              schema: { configMapKeyRef: { name: 'thermostat-schema', key: 'schema.json' } },
            },
            { namespace },
          ),
        ];
        clusterObjects.push(`clusterrole/${clusterRole}`, `clusterrolebinding/${clusterRole}`);
        const kubeconfig = await serviceAccountKubeconfig(cp, namespace, 'operator');
        // A token the API server knows (for the scrapes): the TokenReview then succeeds where it is granted.
        const token = await serviceAccountToken(cp, namespace, 'operator');
        await kubectlOk(
          cp.kubeconfig,
          ['apply', '-f', '-'],
          JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
        );
        const operator = startOperatorProcess([
          '--kubeconfig',
          kubeconfig,
          '--namespace',
          namespace,
          ...(sharded(removed) ? ['--sharding', '--shard-retry-period', '1s'] : ['--leader-elect']),
          ...(metricsAuth(removed) ? ['--metrics-secure=true'] : []),
          '--leader-elect-resource-namespace',
          namespace,
        ]);
        operators.push(operator);
        return { removed, operator, namespace, token };
      }),
    );
    const missing: string[] = [];
    await Promise.all(
      cases.map(async ({ removed, operator, token }) => {
        try {
          await until(
            async () => {
              // The reviews are made for a scrape only.
              if (metricsAuth(removed))
                await operator
                  .endpoints()
                  .then(({ metrics }) => scrape(metrics, token))
                  .catch(() => 0);
              return refusal(removed).test(operator.log());
            },
            30_000,
            `the refusal of ${JSON.stringify(removed)}`,
            250,
          );
        } catch {
          missing.push(
            `${removed.verbs.join(',')} ${removed.resources.join(',')}: not reported\n${operator.log().slice(-1500)}`,
          );
        }
      }),
    );
    assert.deepEqual(missing, []);
    // A missing right is reported and retried with backoff, not a crash loop: each operator carries on as far as its
    // rights let it, and is still running after.
    await Promise.all(cases.map(carriesOn));
    await heldAlone(cases.find((c) => c.removed.resources.includes('configmaps'))!);
    await secretUnreadable(cases.find((c) => c.removed.resources.includes('secrets'))!);
    for (const { removed, operator } of cases)
      assert.equal(
        operator.process.exitCode,
        null,
        `the operator without ${removed.verbs.join(',')} ${removed.resources.join(',')} exited`,
      );
  });
});
