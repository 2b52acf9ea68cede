// The Helm chart as `helm lint` and `helm template` see it: objects the real API server accepts (server-side dry
// run, under the restricted Pod Security Standard), the same RBAC and pod as kustomize renders from manifests/,
// and the values a user sets reaching the objects.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { kubectl, kubectlOk, sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { CHART, helm, helmTemplate } from '../support/helm.js';
import { installCrds, REPO } from '../support/kube.js';

const cp = await sharedControlPlane();

async function kustomize(variant: '' | 'namespaced'): Promise<any[]> {
  const yaml = await kubectlOk(cp.kubeconfig, ['kustomize', join(REPO, 'manifests', variant)]);
  return parseAllDocuments(yaml).map((d) => d.toJS());
}

const RBAC_KINDS = ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

/** The RBAC objects without their labels (Helm's carry the release's), in a stable order. */
function rbacOf(objects: any[]): object[] {
  return objects
    .filter((o) => RBAC_KINDS.includes(o.kind))
    .map(({ kind, metadata: { name, namespace }, rules, roleRef, subjects }) => ({
      kind,
      name,
      namespace,
      rules,
      roleRef,
      subjects,
    }))
    .sort((a, b) => `${a.kind}/${a.namespace}/${a.name}`.localeCompare(`${b.kind}/${b.namespace}/${b.name}`));
}

function deploymentOf(objects: any[]): any {
  return objects.find((o) => o.kind === 'Deployment');
}

describe('charts/iot-security-operator', () => {
  let namespace: string;

  before(async () => {
    await installCrds(cp);
    // The PodSecurity admission judges the dry runs' pod template in a namespace enforcing the restricted standard.
    namespace = await testNamespace(cp, 'helm-chart');
    await kubectlOk(cp.kubeconfig, [
      'label',
      'namespace',
      namespace,
      'pod-security.kubernetes.io/enforce=restricted',
    ]);
  });

  it('passes helm lint --strict, with its defaults and with every option on', async () => {
    for (const values of [
      [],
      [
        '--set',
        'watchNamespaces={a,b}',
        '--set',
        'metrics.serviceMonitor.enabled=true',
        '--set',
        'metrics.prometheusRule.enabled=true',
        '--set',
        'metrics.grafanaDashboard.enabled=true',
        '--set',
        'metrics.certSecret=metrics-tls',
        '--set',
        'entra.namespaces={a}',
        '--set',
        'entra.hubHosts={*.azure-devices.net}',
        '--set',
        'entra.authorityHost=https://login.microsoftonline.us',
        '--set',
        'entra.workloadIdentity.enabled=true',
        '--set',
        'entra.workloadIdentity.clientId=app',
      ],
    ]) {
      const result = await helm(['lint', '--strict', CHART, ...values]);
      assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  for (const [variant, values] of [
    ['every namespace', []],
    ['watched namespaces', ['--set', 'watchNamespaces={NS}']],
  ] as const) {
    it(`renders objects the API server accepts, watching ${variant} (server-side dry run)`, async () => {
      const objects = await helmTemplate([
        '-n',
        namespace,
        '--include-crds',
        '--set',
        'metrics.grafanaDashboard.enabled=true',
        ...values.map((v) => v.replace('NS', namespace)),
      ]);
      const kinds = objects.map((o) => o.kind);
      for (const kind of [
        'CustomResourceDefinition',
        'ServiceAccount',
        'Deployment',
        'Service',
        'PodDisruptionBudget',
        'ConfigMap',
        'Role',
      ])
        assert.ok(kinds.includes(kind), `${kind} is rendered`);
      // Watching namespaces, the only cluster-wide rights are the reviews secure /metrics needs (cluster-scoped
      // APIs) and the reader role for Prometheus.
      const clusterRoles = objects.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name);
      assert.equal(
        clusterRoles.some((name) => !/-metrics-(auth|reader)$/.test(name)),
        variant === 'every namespace',
        clusterRoles.join(', '),
      );
      const result = await kubectl(
        cp.kubeconfig,
        [
          'apply',
          '--server-side',
          '--force-conflicts',
          '--field-manager=helm-test',
          '--dry-run=server',
          '-f',
          '-',
        ],
        { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /would violate PodSecurity|Warning/, 'no warning from the server');
      assert.equal(result.stdout.trim().split('\n').length, objects.length, 'every object was checked');
    });
  }

  for (const [variant, values] of [
    ['', []],
    ['namespaced', ['--set', 'watchNamespaces={iot-security}']],
  ] as const) {
    it(`grants the rights kustomize's manifests/${variant} grants, from the same rules`, async () => {
      const fromKustomize = rbacOf(await kustomize(variant));
      const fromHelm = rbacOf(await helmTemplate(['-n', 'iot-security', ...values]));
      assert.ok(fromKustomize.length >= 4);
      assert.deepEqual(fromHelm, fromKustomize);
    });

    it(`runs the pod kustomize's manifests/${variant} runs (security, resources, heap, probes, args)`, async () => {
      const fromKustomize = deploymentOf(await kustomize(variant));
      const fromHelm = deploymentOf(await helmTemplate(['-n', 'iot-security', ...values]));
      const pod = fromHelm.spec.template.spec;
      // The chart passes the log level it is given; kustomize's Deployment leaves it to the default, info.
      const args: string[] = pod.containers[0].args;
      assert.ok(args.includes('--log-level=info'));
      // It names the leader Lease after the release: for the release iot-security-operator, kustomize's default.
      assert.ok(args.includes('--leader-elect-resource-name=iot-security-operator-leader'));
      pod.containers[0].args = args.filter(
        (a) => a !== '--log-level=info' && a !== '--leader-elect-resource-name=iot-security-operator-leader',
      );
      // The chart names the pull policy; kustomize's leaves the API server's default, the same for a tagged image.
      assert.equal(pod.containers[0].imagePullPolicy, 'IfNotPresent');
      delete pod.containers[0].imagePullPolicy;
      assert.deepEqual(pod, fromKustomize.spec.template.spec);
      assert.equal(fromHelm.spec.replicas, fromKustomize.spec.replicas);
    });
  }

  it('sets the image, replicas, leader election, namespaces, logging, heap, extra env and args from its values', async () => {
    const objects = await helmTemplate([
      '-n',
      namespace,
      '--set',
      'image.repository=registry.example/iso',
      '--set',
      'image.tag=1.2.3',
      '--set',
      'image.pullPolicy=Never',
      '--set',
      'replicas=1',
      '--set',
      'leaderElection.enabled=false',
      '--set',
      'watchNamespaces={team-a,team-b}',
      '--set',
      'logLevel=debug',
      '--set',
      'logFormat=text',
      '--set',
      'heapMiB=1024',
      '--set',
      'resources.limits.memory=2Gi',
      '--set',
      'extraEnv[0].name=HTTPS_PROXY',
      '--set',
      'extraEnv[0].value=http://proxy:3128',
      '--set',
      'extraArgs={--max-concurrent-hubs=8}',
    ]);
    const pod = deploymentOf(objects).spec.template.spec;
    const container = pod.containers[0];
    assert.equal(deploymentOf(objects).spec.replicas, 1);
    assert.equal(container.image, 'registry.example/iso:1.2.3');
    assert.equal(container.imagePullPolicy, 'Never');
    assert.ok(!container.args.includes('--leader-elect'));
    for (const arg of [
      '--namespace=team-a',
      '--namespace=team-b',
      '--log-level=debug',
      '--max-concurrent-hubs=8',
    ])
      assert.ok(container.args.includes(arg), arg);
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    assert.equal(env.LOG_FORMAT, 'text');
    assert.equal(env.NODE_OPTIONS, '--max-old-space-size=1024');
    assert.equal(env.HTTPS_PROXY, 'http://proxy:3128');
    assert.equal(container.resources.limits.memory, '2Gi');
    const roles = objects.filter((o) => o.kind === 'Role' && !o.metadata.name.endsWith('-leader-election'));
    assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), ['team-a', 'team-b']);
    // One replica: a PodDisruptionBudget of minAvailable 1 would only block node drains.
    assert.ok(!objects.some((o) => o.kind === 'PodDisruptionBudget'));
  });

  it("defaults the image's tag to the chart's appVersion", async () => {
    const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'));
    const container = deploymentOf(await helmTemplate()).spec.template.spec.containers[0];
    assert.equal(container.image, `ghcr.io/iot-security-operator/iot-security-operator:${chart.appVersion}`);
  });

  it('refuses a memory limit that leaves no room above the heap cap', async () => {
    const result = await helm([
      'template',
      'iot-security-operator',
      CHART,
      '--set',
      'resources.limits.memory=600Mi',
    ]);
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /resources\.limits\.memory 600Mi leaves too little above the heap cap heapMiB 512/,
    );
    const raised = await helm(['template', 'iot-security-operator', CHART, '--set', 'heapMiB=1024']);
    assert.match(raised.stderr, /at least 1280 Mi/);
  });

  it('refuses replicas that would all reconcile, and sharding beside leader election', async () => {
    const unled = await helm(['template', 'x', CHART, '--set', 'leaderElection.enabled=false']);
    assert.match(unled.stderr, /replicas 2 without leader election would all reconcile the same hubs/);
    const both = await helm(['template', 'x', CHART, '--set', 'extraArgs={--sharding}']);
    assert.match(both.stderr, /--sharding and leaderElection.enabled are two ways of sharing the work/);
    // The operator refuses a value for its boolean flag: the pods would crash-loop.
    for (const leaderElection of ['true', 'false']) {
      const valued = await helm([
        'template',
        'x',
        CHART,
        '--set',
        `leaderElection.enabled=${leaderElection}`,
        '--set',
        'extraArgs={--sharding=true}',
      ]);
      assert.notEqual(valued.code, 0);
      assert.match(valued.stderr, /extraArgs --sharding=true: --sharding takes no value/);
    }
    const sharded = deploymentOf(
      await helmTemplate(['--set', 'leaderElection.enabled=false', '--set', 'extraArgs={--sharding}']),
    );
    const args: string[] = sharded.spec.template.spec.containers[0].args;
    assert.ok(args.includes('--sharding') && !args.includes('--leader-elect'));
    assert.equal(sharded.spec.replicas, 2);
  });

  it('refuses extraArgs that repeat a flag the chart sets, naming the value to set instead', async () => {
    for (const [arg, advice] of [
      ['--log-level=debug', /set logLevel instead/],
      ['--namespace=team-a', /set watchNamespaces instead/],
      ['--leader-elect', /set leaderElection.enabled instead/],
      ['--leader-elect=true', /set leaderElection.enabled instead/],
      ['--leader-elect-resource-name=mine', /names the Lease after the release/],
      ['--leader-elect-resource-namespace=elsewhere', /release's namespace/],
      ['--metrics-bind-address=:9090', /set metrics.enabled and metrics.port instead/],
      ['--health-probe-bind-address=:9091', /probes call port 8081/],
      ['--graceful-shutdown-timeout=5s', /terminationGracePeriodSeconds/],
    ] as const) {
      const result = await helm(['template', 'x', CHART, '--set', `extraArgs={${arg}}`]);
      assert.notEqual(result.code, 0, arg);
      const flag = arg.split('=')[0];
      assert.match(result.stderr, new RegExp(`extraArgs ${arg}: the chart sets ${flag} itself`));
      assert.match(result.stderr, advice);
    }
    // A flag the chart leaves alone, even one that starts like one it sets, passes.
    const args: string[] = deploymentOf(
      await helmTemplate(['--set', 'extraArgs={--leader-elect-lease-duration=30s}']),
    ).spec.template.spec.containers[0].args;
    assert.ok(args.includes('--leader-elect-lease-duration=30s'));
  });

  it('sets up Microsoft Entra ID and a metrics certificate from values, objects the API server accepts', async () => {
    const clientId = '9a1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b';
    const objects = await helmTemplate([
      '-n',
      namespace,
      '--set',
      'entra.hubHosts={*.azure-devices.net,hub.internal:8443}',
      '--set',
      'entra.namespaces={team-a,team-b}',
      '--set',
      'entra.authorityHost=https://login.microsoftonline.us',
      '--set',
      'entra.workloadIdentity.enabled=true',
      '--set',
      `entra.workloadIdentity.clientId=${clientId}`,
      '--set',
      'serviceAccount.annotations.team=fleet',
      '--set',
      'metrics.certSecret=metrics-tls',
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.serviceMonitor.tlsConfig.ca.secret.name=metrics-tls',
      '--set',
      'metrics.serviceMonitor.tlsConfig.ca.secret.key=ca\\.crt',
    ]);
    const pod = deploymentOf(objects).spec.template;
    const container = pod.spec.containers[0];
    for (const arg of [
      '--entra-hub-hosts=*.azure-devices.net,hub.internal:8443',
      '--entra-namespaces=team-a,team-b',
      '--entra-authority-host=https://login.microsoftonline.us',
      '--metrics-cert-path=/var/run/metrics-cert',
    ])
      assert.ok(container.args.includes(arg), `${arg} in ${container.args.join(' ')}`);
    assert.equal(pod.metadata.labels['azure.workload.identity/use'], 'true', "AKS's webhook label");
    const account = objects.find((o) => o.kind === 'ServiceAccount');
    assert.deepEqual(account.metadata.annotations, {
      'azure.workload.identity/client-id': clientId,
      team: 'fleet',
    });
    assert.deepEqual(pod.spec.volumes, [{ name: 'metrics-cert', secret: { secretName: 'metrics-tls' } }]);
    assert.deepEqual(container.volumeMounts, [
      { name: 'metrics-cert', mountPath: '/var/run/metrics-cert', readOnly: true },
    ]);
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor');
    assert.deepEqual(monitor.spec.endpoints[0].tlsConfig, {
      ca: { secret: { name: 'metrics-tls', key: 'ca.crt' } },
    });
    // No Prometheus Operator CRD here: the rest through a server-side dry run, under the restricted standard.
    const served = objects.filter((o) => o.kind !== 'ServiceMonitor');
    const result = await kubectl(
      cp.kubeconfig,
      ['apply', '--server-side', '--field-manager=helm-test', '--dry-run=server', '-f', '-'],
      { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: served }) },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /would violate PodSecurity|Warning/);

    // By default: none of it, and the self-signed certificate is scraped without verification.
    const plain = await helmTemplate(['--set', 'metrics.serviceMonitor.enabled=true']);
    const plainArgs: string[] = deploymentOf(plain).spec.template.spec.containers[0].args;
    assert.deepEqual(
      plainArgs.filter((a) => /^--(entra-|metrics-cert)/.test(a)),
      [],
    );
    assert.equal(plain.find((o) => o.kind === 'ServiceAccount').metadata.annotations, undefined);
    assert.deepEqual(plain.find((o) => o.kind === 'ServiceMonitor').spec.endpoints[0].tlsConfig, {
      insecureSkipVerify: true,
    });

    for (const [value, refusal] of [
      ['entra.namespaces={Team_A}', /entra\/namespaces\/0/],
      ['entra.hubHosts={https://hub.example}', /entra\/hubHosts\/0/],
      ['entra.authorityHost=http://login.example', /entra\/authorityHost/],
      ['metrics.certSecret=Metrics_TLS', /metrics\/certSecret/],
      ['extraArgs={--entra-namespaces=team-a}', /set entra.namespaces instead/],
      ['extraArgs={--metrics-cert-path=/certs}', /set metrics.certSecret instead/],
    ] as const) {
      const refused = await helm(['template', 'x', CHART, '--set', value]);
      assert.notEqual(refused.code, 0, value);
      assert.match(refused.stderr, refusal, value);
    }
  });

  it("names the leader Lease after the release: its args, its Role's rights, its alert and dashboard", async () => {
    const objects = await helmTemplate(
      ['--set', 'metrics.prometheusRule.enabled=true', '--set', 'metrics.grafanaDashboard.enabled=true'],
      'fleet-b',
    );
    const lease = 'fleet-b-iot-security-operator-leader';
    const args: string[] = deploymentOf(objects).spec.template.spec.containers[0].args;
    assert.ok(args.includes(`--leader-elect-resource-name=${lease}`));
    const role = objects.find((o) => o.kind === 'Role' && o.metadata.name.endsWith('-leader-election'));
    const named = role.rules.filter((r: any) => r.resourceNames);
    assert.deepEqual(
      named.map((r: any) => r.resourceNames),
      [[lease]],
    );
    // The alert and the panel that watch the leader read the metric by the Lease's name.
    const leaderQueries = (text: string) => text.match(/leader_election_master_status\{name=[^}]*\}/g) ?? [];
    const rules = JSON.stringify(objects.find((o) => o.kind === 'PrometheusRule').spec);
    const dashboard = objects.find((o) => o.kind === 'ConfigMap').data['iot-security-operator.json'];
    for (const text of [rules, dashboard]) {
      const queries = leaderQueries(text.replaceAll('\\"', '"'));
      assert.ok(queries.length > 0);
      for (const query of queries) assert.equal(query, `leader_election_master_status{name="${lease}"}`);
    }
  });

  it('renders the monitoring of manifests/monitoring/ when asked: ServiceMonitor, PrometheusRule, dashboard', async () => {
    const objects = await helmTemplate([
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set',
      'metrics.grafanaDashboard.enabled=true',
    ]);
    // No Prometheus Operator CRDs on this control plane: the two are checked against what they must match.
    const service = objects.find((o) => o.kind === 'Service');
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor');
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels))
      assert.equal(service.metadata.labels[key], value, `the ServiceMonitor selects the Service by ${key}`);
    assert.equal(monitor.spec.endpoints[0].port, service.spec.ports[0].name);
    const rules = parse(readFileSync(join(REPO, 'manifests', 'monitoring', 'prometheus-rules.yaml'), 'utf8'));
    assert.deepEqual(objects.find((o) => o.kind === 'PrometheusRule').spec, rules);
    const dashboard = objects.find((o) => o.kind === 'ConfigMap');
    assert.equal(dashboard.metadata.labels.grafana_dashboard, '1');
    assert.deepEqual(
      JSON.parse(dashboard.data['iot-security-operator.json']),
      JSON.parse(readFileSync(join(REPO, 'manifests', 'monitoring', 'grafana-dashboard.json'), 'utf8')),
    );
    // Without leader election nothing exports the leader metric: the chart leaves out the alert that reads it.
    const alone = await helmTemplate([
      '--set',
      'replicas=1',
      '--set',
      'leaderElection.enabled=false',
      '--set',
      'metrics.prometheusRule.enabled=true',
    ]);
    const alerts = (spec: { groups: { rules: { alert?: string }[] }[] }) =>
      spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
    assert.deepEqual(
      alerts(alone.find((o) => o.kind === 'PrometheusRule').spec),
      alerts(rules).filter((a) => a !== 'SecurityOperatorNoLeader'),
    );
    const none = (await helmTemplate()).map((o) => o.kind);
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'ConfigMap'])
      assert.ok(!none.includes(kind), kind);
  });

  it('renders no ServiceMonitor, PrometheusRule or dashboard without metrics, and says so in its notes', async () => {
    const asked = [
      '--set',
      'metrics.enabled=false',
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set',
      'metrics.grafanaDashboard.enabled=true',
    ];
    const kinds = (await helmTemplate(asked)).map((o) => o.kind);
    for (const kind of ['Service', 'ServiceMonitor', 'PrometheusRule', 'ConfigMap'])
      assert.ok(!kinds.includes(kind), kind);
    const notes = await installNotes(asked);
    assert.match(
      notes,
      /metrics.enabled is false, so no ServiceMonitor, PrometheusRule or Grafana dashboard/,
    );
    assert.doesNotMatch(await installNotes([]), /metrics.enabled is false/);
  });

  it('warns in its notes while the image is the unpublished default, with the steps to set one', async () => {
    const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'));
    const notes = await installNotes([]);
    assert.match(notes, /WARNING: image.repository is still the default/);
    assert.match(notes, /ImagePullBackOff/);
    assert.match(notes, /make image/);
    assert.match(notes, new RegExp(`podman push localhost/iot-security-operator:${chart.appVersion} `));
    assert.match(notes, /--set image.repository=REGISTRY\/iot-security-operator --set image.tag=/);
    const own = await installNotes(['--set', 'image.repository=registry.example/iso']);
    assert.doesNotMatch(own, /WARNING/);
  });

  it('refuses a misspelt value or one of the wrong type, naming it (values.schema.json)', async () => {
    for (const [set, message] of [
      ['replicaCount=3', /additional properties 'replicaCount' not allowed/],
      [
        'metrics.serviceMonitor.enable=true',
        /at '\/metrics\/serviceMonitor': additional properties 'enable'/,
      ],
      ['replicas=two', /at '\/replicas': got string, want integer/],
      ['logLevel=trace', /at '\/logLevel': value must be one of 'error', 'warn', 'info', 'debug'/],
      ['logFormat=xml', /at '\/logFormat': value must be one of 'json', 'text'/],
      ['image.pullPolicy=Sometimes', /at '\/image\/pullPolicy'/],
      ['heapMiB=8', /at '\/heapMiB': minimum/],
      ['watchNamespaces={Team_A}', /at '\/watchNamespaces\/0'/],
    ] as const) {
      for (const command of [
        ['template', 'x', CHART],
        ['lint', '--strict', CHART],
      ]) {
        const result = await helm([...command, '--set', set]);
        assert.notEqual(result.code, 0, `helm ${command[0]} --set ${set}`);
        assert.match(`${result.stdout}${result.stderr}`, message, `helm ${command[0]} --set ${set}`);
      }
    }
    // Every value values.yaml has passes it, and so do the Kubernetes objects the chart passes through.
    await helmTemplate([
      '--set',
      'podDisruptionBudget.minAvailable=50%',
      '--set',
      'image.tag=2',
      '--set',
      'tolerations[0].operator=Exists',
      '--set',
      'resources.limits.cpu=2',
    ]);
  });
});

/** The notes `helm install` prints, from a client-side dry run with `args`. */
async function installNotes(args: string[]): Promise<string> {
  const result = await helm(['install', 'iot-security-operator', CHART, '--dry-run=client', ...args]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.slice(result.stdout.indexOf('NOTES:'));
}
