// The install manifests as kustomize renders them: every object valid for the real API server (server-side dry
// run), the Deployment within the restricted Pod Security Standard, two replicas with leader election.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { kubectl, kubectlOk, sharedControlPlane } from '../support/control-plane.js';
import { installCrds, REPO } from '../support/kube.js';

const cp = await sharedControlPlane();

export async function render(variant: '' | 'namespaced'): Promise<any[]> {
  const yaml = await kubectlOk(cp.kubeconfig, ['kustomize', join(REPO, 'manifests', variant)]);
  return parseAllDocuments(yaml).map((d) => d.toJS());
}

describe('manifests/', () => {
  before(async () => {
    await installCrds(cp);
    // The namespace as the manifests make it (labelled for the restricted Pod Security Standard), for real: the
    // PodSecurity admission then judges the Deployment's pod template in the dry runs below.
    const namespace = (await render('')).find((o) => o.kind === 'Namespace');
    await kubectlOk(
      cp.kubeconfig,
      ['apply', '--server-side', '--force-conflicts', '--field-manager=manifests-test', '-f', '-'],
      JSON.stringify(namespace),
    );
  });

  it('would be warned about by the API server if the pod broke the restricted standard (the check has teeth)', async () => {
    const deployment = (await render('')).find((o) => o.kind === 'Deployment');
    delete deployment.spec.template.spec.securityContext.seccompProfile;
    const result = await kubectl(
      cp.kubeconfig,
      ['apply', '--server-side', '--field-manager=manifests-test', '--dry-run=server', '-f', '-'],
      {
        input: JSON.stringify(deployment),
      },
    );
    assert.match(result.stderr, /would violate PodSecurity "restricted/);
  });

  for (const variant of ['', 'namespaced'] as const) {
    it(`renders ${variant || 'the default install'} into objects the API server accepts (server-side dry run)`, async () => {
      const objects = await render(variant);
      const kinds = objects.map((o) => o.kind).sort();
      for (const kind of [
        'CustomResourceDefinition',
        'Deployment',
        'Namespace',
        'PodDisruptionBudget',
        'Service',
        'ServiceAccount',
      ])
        assert.ok(kinds.includes(kind), `${kind} is rendered`);
      assert.ok(kinds.includes(variant ? 'Role' : 'ClusterRole'));
      const result = await kubectl(
        cp.kubeconfig,
        [
          'apply',
          '--server-side',
          '--force-conflicts',
          '--field-manager=manifests-test',
          '--dry-run=server',
          '-f',
          '-',
        ],
        {
          input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
        },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /would violate PodSecurity|Warning/, 'no warning from the server');
      assert.equal(result.stdout.trim().split('\n').length, objects.length, 'every object was checked');
    });
  }

  it('runs two replicas with leader election, probes, limits and the restricted security context', async () => {
    const deployment = (await render('')).find((o) => o.kind === 'Deployment');
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    assert.ok(container.args.includes('--leader-elect'));
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    const namespace = (await render('')).find((o) => o.kind === 'Namespace');
    assert.equal(namespace.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it("gives the Deployment the user's image through the overlay the README and docs/install.md show", async () => {
    // The overlay as the docs write it, next to a manifests/ that is the repository's (its ../manifests resolves).
    const overlayOf = (doc: string) => {
      const text = readFileSync(join(REPO, doc), 'utf8');
      const overlay = /cat > my-install\/kustomization\.yaml <<'YAML'\n([\s\S]*?)\nYAML\n/.exec(text)?.[1];
      assert.ok(overlay, `${doc} shows the overlay`);
      return overlay;
    };
    const overlay = overlayOf('README.md');
    assert.equal(overlayOf('docs/install.md'), overlay, 'the two show the same overlay');
    const dir = mkdtempSync(join(tmpdir(), 'overlay-'));
    symlinkSync(join(REPO, 'manifests'), join(dir, 'manifests'));
    mkdirSync(join(dir, 'my-install'));
    writeFileSync(join(dir, 'my-install', 'kustomization.yaml'), overlay);
    const objects = parseAllDocuments(
      await kubectlOk(cp.kubeconfig, ['kustomize', join(dir, 'my-install')]),
    ).map((d) => d.toJS());
    const image: string = objects.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].image;
    const base: string = (await render('')).find((o) => o.kind === 'Deployment').spec.template.spec
      .containers[0].image;
    assert.equal(image, `registry.example.com/iot-security-operator:${base.split(':')[1]}`);
    assert.equal(objects.length, (await render('')).length, 'every object of the install');
  });

  it('passes --namespace in the namespaced variant, and grants no cluster-wide rights there but reviews for /metrics', async () => {
    const objects = await render('namespaced');
    const args = objects.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].args;
    assert.ok(args.includes('--namespace=iot-security'));
    // TokenReview and SubjectAccessReview are cluster-scoped APIs: checking a scraper's token needs a ClusterRole
    // granting only their creation (and /metrics' reader role, for Prometheus, grants nothing to the operator).
    const clusterWide = objects.filter((o) => o.kind.startsWith('Cluster'));
    assert.deepEqual(clusterWide.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      'ClusterRole/iot-security-operator-metrics-auth',
      'ClusterRole/iot-security-operator-metrics-reader',
      'ClusterRoleBinding/iot-security-operator-metrics-auth',
    ]);
    const rules = clusterWide.find(
      (o) => o.metadata.name === 'iot-security-operator-metrics-auth' && o.rules,
    ).rules;
    assert.deepEqual(
      rules.flatMap((r: any) => r.resources.map((res: string) => `${r.verbs.join(',')} ${res}`)).sort(),
      ['create subjectaccessreviews', 'create tokenreviews'],
    );
  });

  it('grants Secrets get alone (never list or watch), and never get on the watched kinds', async () => {
    const role = (await render('')).find((o) => o.kind === 'ClusterRole');
    const secrets = role.rules.filter((r: any) => r.resources.includes('secrets'));
    assert.deepEqual(secrets.flatMap((r: any) => r.verbs).sort(), ['get']);
    for (const rule of role.rules) assert.ok(!rule.verbs.includes('*') && !rule.resources.includes('*'));
  });
});
