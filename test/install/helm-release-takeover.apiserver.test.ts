// Moving from `kubectl apply -k manifests/` to the chart with `helm install --take-ownership`, as
// docs/helm-chart.md tells it: Helm takes the kustomize install's objects over in place, except the Deployment,
// whose selector (the release's instance label added) cannot change and which is deleted first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { kubectl, kubectlOk, sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { CHART, helm, helmOk } from '../support/helm.js';
import { installCrds, REPO } from '../support/kube.js';
import { until } from '../support/until.js';

const cp = await sharedControlPlane();
const NAME = 'iot-security-operator';

/**
 * manifests/namespaced/'s own objects, moved to `namespace`. Its Namespace and CRDs are not the install's to take,
 * and its cluster-scoped roles (the reviews secure /metrics needs) are left out: on this control plane, shared by
 * every test file, they would be every test's; the chart is installed without them (metrics.secure=false).
 */
async function kustomizeInstall(namespace: string): Promise<any[]> {
  const yaml = await kubectlOk(cp.kubeconfig, ['kustomize', `${REPO}/manifests/namespaced`]);
  return parseAllDocuments(yaml)
    .map((d) => d.toJS())
    .filter(
      (o) => !['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind),
    )
    .map((o) => {
      const moved = JSON.parse(JSON.stringify(o).replaceAll('"iot-security"', `"${namespace}"`));
      if (o.kind === 'Deployment')
        moved.spec.template.spec.containers[0].args = o.spec.template.spec.containers[0].args.map(
          (a: string) => a.replace('--namespace=iot-security', `--namespace=${namespace}`),
        );
      return moved;
    });
}

async function uid(kind: string, name: string, namespace: string): Promise<string> {
  const object = JSON.parse(
    await kubectlOk(cp.kubeconfig, ['get', kind, name, '-n', namespace, '-o', 'json']),
  );
  return object.metadata.uid;
}

describe('helm install --take-ownership of a kustomize install', () => {
  it('takes over its objects in place once its Deployment is deleted, and uninstalls them', async () => {
    await installCrds(cp);
    const namespace = await testNamespace(cp, 'helm-takeover');
    const objects = await kustomizeInstall(namespace);
    // As `kubectl apply -k` applies: client-side, with the last-applied annotation.
    await kubectlOk(
      cp.kubeconfig,
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    );
    const kept = objects.filter((o) => o.kind !== 'Deployment');
    assert.deepEqual(kept.map((o) => o.kind).sort(), [
      'PodDisruptionBudget',
      'Role',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    const before = await Promise.all(kept.map((o) => uid(o.kind, o.metadata.name, namespace)));
    const install = [
      'install',
      NAME,
      CHART,
      '-n',
      namespace,
      '--set',
      `watchNamespaces={${namespace}}`,
      '--set',
      'metrics.secure=false',
    ];

    // Without --take-ownership Helm refuses objects it did not make.
    const refused = await helm(install, cp.kubeconfig);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /exists and cannot be imported into the current release/);

    await kubectlOk(cp.kubeconfig, ['delete', 'deployment', NAME, '-n', namespace, '--wait']);
    await helmOk([...install, '--take-ownership', '--force-conflicts'], cp.kubeconfig);
    for (const [i, o] of kept.entries()) {
      const object = JSON.parse(
        await kubectlOk(cp.kubeconfig, ['get', o.kind, o.metadata.name, '-n', namespace, '-o', 'json']),
      );
      assert.equal(object.metadata.uid, before[i], `${o.kind}/${o.metadata.name} is the same object`);
      assert.equal(object.metadata.annotations['meta.helm.sh/release-name'], NAME);
      assert.equal(object.metadata.labels['app.kubernetes.io/managed-by'], 'Helm');
    }
    const deployment = JSON.parse(
      await kubectlOk(cp.kubeconfig, ['get', 'deployment', NAME, '-n', namespace, '-o', 'json']),
    );
    assert.equal(deployment.spec.selector.matchLabels['app.kubernetes.io/instance'], NAME);

    await helmOk(['uninstall', NAME, '-n', namespace], cp.kubeconfig);
    for (const o of [...kept, { kind: 'Deployment', metadata: { name: NAME } }])
      await until(
        async () => {
          const result = await kubectl(cp.kubeconfig, ['get', o.kind, o.metadata.name, '-n', namespace]);
          return result.code !== 0 && /NotFound/.test(result.stderr);
        },
        30_000,
        `${o.kind}/${o.metadata.name} to be deleted with the release`,
      );
  });
});
