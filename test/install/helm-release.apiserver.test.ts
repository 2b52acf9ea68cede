// The chart installed, upgraded and uninstalled by Helm against the real API server. There is no kubelet here, so
// no pod runs: these prove the objects a release makes, changes and leaves behind.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { kubectl, kubectlOk, sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { CHART, helmOk } from '../support/helm.js';
import { GROUP } from '../support/kube.js';
import { until } from '../support/until.js';

const cp = await sharedControlPlane();
const CRDS = ['iothubs', 'securitymoduleconfigs', 'twinconfigs'].map((plural) => `crd/${plural}.${GROUP}`);

async function getJson(args: string[]): Promise<any> {
  return JSON.parse(await kubectlOk(cp.kubeconfig, ['get', ...args, '-o', 'json']));
}

async function gone(args: string[]): Promise<boolean> {
  const result = await kubectl(cp.kubeconfig, ['get', ...args]);
  return result.code !== 0 && /NotFound/.test(result.stderr);
}

describe('helm install, upgrade and uninstall of charts/iot-security-operator', () => {
  const release = `iso-${process.pid}`;
  const fullname = `${release}-iot-security-operator`;
  let namespace: string;
  let watched: string;
  // What the release owns; each must be there after install and gone after uninstall.
  let owned: string[][];

  before(async () => {
    namespace = await testNamespace(cp, 'helm-release');
    watched = await testNamespace(cp, 'helm-watched');
    owned = [
      ['deployment', fullname, '-n', namespace],
      ['serviceaccount', fullname, '-n', namespace],
      ['service', `${fullname}-metrics`, '-n', namespace],
      ['poddisruptionbudget', fullname, '-n', namespace],
      ['role', `${fullname}-leader-election`, '-n', namespace],
      ['rolebinding', `${fullname}-leader-election`, '-n', namespace],
    ];
  });

  it("installs the operator's objects and the CRDs of the chart's crds/", async () => {
    const out = await helmOk(['install', release, CHART, '-n', namespace], cp.kubeconfig);
    assert.match(out, /STATUS: deployed/);
    await kubectlOk(cp.kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', ...CRDS]);
    for (const object of [...owned, ['clusterrole', fullname], ['clusterrolebinding', fullname]])
      await getJson(object);
    const deployment = await getJson(['deployment', fullname, '-n', namespace]);
    assert.equal(deployment.spec.replicas, 2);
    assert.ok(deployment.spec.template.spec.containers[0].args.includes('--leader-elect'));
    const binding = await getJson(['clusterrolebinding', fullname]);
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: fullname, namespace }]);
  });

  it('upgrades: a changed value reaches the Deployment, the others are kept', async () => {
    await helmOk(
      [
        'upgrade',
        release,
        CHART,
        '-n',
        namespace,
        '--reuse-values',
        '--set',
        'replicas=3',
        '--set',
        'logLevel=debug',
      ],
      cp.kubeconfig,
    );
    const deployment = await getJson(['deployment', fullname, '-n', namespace]);
    assert.equal(deployment.spec.replicas, 3);
    const args: string[] = deployment.spec.template.spec.containers[0].args;
    assert.ok(args.includes('--log-level=debug'));
    assert.ok(args.includes('--leader-elect'));
    const history = JSON.parse(
      await helmOk(['history', release, '-n', namespace, '-o', 'json'], cp.kubeconfig),
    );
    assert.deepEqual(
      history.map((h: any) => [h.revision, h.status]),
      [
        [1, 'superseded'],
        [2, 'deployed'],
      ],
    );
  });

  it('moves from every namespace to watched ones on upgrade: the ClusterRole goes, a Role comes', async () => {
    await helmOk(
      ['upgrade', release, CHART, '-n', namespace, '--reuse-values', '--set', `watchNamespaces={${watched}}`],
      cp.kubeconfig,
    );
    await until(() => gone(['clusterrole', fullname]), 30_000, 'the ClusterRole to be deleted');
    await until(() => gone(['clusterrolebinding', fullname]), 30_000, 'the ClusterRoleBinding to be deleted');
    const role = await getJson(['role', fullname, '-n', watched]);
    assert.ok(role.rules.some((r: any) => r.resources.includes('iothubs')));
    const args: string[] = (await getJson(['deployment', fullname, '-n', namespace])).spec.template.spec
      .containers[0].args;
    assert.ok(args.includes(`--namespace=${watched}`));
    owned.push(['role', fullname, '-n', watched], ['rolebinding', fullname, '-n', watched]);
  });

  it('uninstalls what it installed, and keeps the CRDs and so the IoTHubs and their Secrets', async () => {
    await kubectlOk(
      cp.kubeconfig,
      ['apply', '-n', watched, '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'hub' },
            stringData: { connectionString: 'x' },
          },
          {
            apiVersion: `${GROUP}/v1alpha1`,
            kind: 'IoTHub',
            metadata: { name: 'fleet' },
            spec: { connectionStringSecretRef: { name: 'hub' }, tier: 'S1', units: 1 },
          },
        ],
      }),
    );
    const out = await helmOk(['uninstall', release, '-n', namespace], cp.kubeconfig);
    assert.match(out, /uninstalled/);
    for (const object of owned) await until(() => gone(object), 30_000, `${object.join(' ')} to be deleted`);
    for (const crd of CRDS) await getJson([crd]);
    await getJson(['iothub', 'fleet', '-n', watched]);
    await getJson(['secret', 'hub', '-n', watched]);
    // Helm 4 lists releases in every status: none left, not even one uninstalling or failed.
    const releases = JSON.parse(await helmOk(['list', '-n', namespace, '-o', 'json'], cp.kubeconfig));
    assert.deepEqual(releases, []);
  });
});

describe('two releases of charts/iot-security-operator in one namespace', () => {
  it('elect with two Leases, each release granted its own and not the other', async () => {
    const namespace = await testNamespace(cp, 'helm-two');
    const releases = ['fleet-a', 'fleet-b'].map((name, i) => ({
      name,
      fullname: `${name}-iot-security-operator`,
      watched: `${namespace}-w${i}`,
    }));
    for (const { name, watched } of releases) {
      await kubectlOk(cp.kubeconfig, ['create', 'namespace', watched]);
      await helmOk(
        ['install', name, CHART, '-n', namespace, '--set', `watchNamespaces={${watched}}`],
        cp.kubeconfig,
      );
    }
    const canGetLease = async (fullname: string, lease: string) => {
      const result = await kubectl(cp.kubeconfig, [
        'auth',
        'can-i',
        'get',
        `leases/${lease}`,
        '-n',
        namespace,
        `--as=system:serviceaccount:${namespace}:${fullname}`,
      ]);
      return result.stdout.trim();
    };
    for (const own of releases) {
      const args: string[] = (await getJson(['deployment', own.fullname, '-n', namespace])).spec.template.spec
        .containers[0].args;
      assert.ok(args.includes(`--leader-elect-resource-name=${own.fullname}-leader`));
      for (const other of releases)
        assert.equal(
          await canGetLease(own.fullname, `${other.fullname}-leader`),
          own === other ? 'yes' : 'no',
          `${own.name} reads ${other.name}'s Lease`,
        );
    }
    for (const { name } of releases) await helmOk(['uninstall', name, '-n', namespace], cp.kubeconfig);
  });
});
