// The CRDs as the real API server takes them: established, defaults applied, printer columns, explain, the
// server's own validation and the status subresource.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { validateResource } from '../../src/validation/validate-resource.js';
import { kubectl, kubectlOk, sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { customObjects, EXAMPLES, GROUP, installCrds, VERSION } from '../support/kube.js';
import { validIotHub, validSecurityModuleConfig } from '../support/resources.js';

const cp = await sharedControlPlane();
const api = customObjects(cp.kubeconfig);
const EXAMPLES_NAMESPACE = 'iot-security';

function exampleDocuments(): Record<string, any>[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(EXAMPLES, f), 'utf8')).map((d) => d.toJS()));
}

const PLURALS: Record<string, string> = {
  IoTHub: 'iothubs',
  SecurityModuleConfig: 'securitymoduleconfigs',
  TwinConfig: 'twinconfigs',
};

/** The example ConfigMaps' data, as validate reads them from the same files. */
function exampleConfigMaps(documents: Record<string, any>[]) {
  return (namespace: string, name: string) =>
    documents.find(
      (d) => d.kind === 'ConfigMap' && d.metadata.name === name && d.metadata.namespace === namespace,
    )?.data;
}

async function getJson(args: string[]): Promise<any> {
  return JSON.parse(await kubectlOk(cp.kubeconfig, ['get', ...args, '-o', 'json']));
}

describe('the CRDs on a real API server', () => {
  before(async () => {
    await installCrds(cp);
    const exists = await kubectl(cp.kubeconfig, ['get', 'namespace', EXAMPLES_NAMESPACE]);
    if (exists.code !== 0) await kubectlOk(cp.kubeconfig, ['create', 'namespace', EXAMPLES_NAMESPACE]);
  });

  it('establishes both CRDs from crds/', async () => {
    for (const plural of ['iothubs', 'securitymoduleconfigs']) {
      const crd = await getJson([`crd/${plural}.${GROUP}`]);
      const established = crd.status.conditions.find((c: any) => c.type === 'Established');
      assert.equal(established?.status, 'True', `${plural} is not established`);
      const accepted = crd.status.conditions.find((c: any) => c.type === 'NamesAccepted');
      assert.equal(accepted?.status, 'True');
    }
  });

  it('accepts examples/ with kubectl apply and applies the same defaults as the validator', async () => {
    const applied = await kubectl(cp.kubeconfig, ['apply', '-f', EXAMPLES]);
    assert.equal(applied.code, 0, applied.stderr);
    const documents = exampleDocuments();
    for (const document of documents) {
      if (document.apiVersion !== `${GROUP}/${VERSION}`) continue;
      const plural = PLURALS[document.kind];
      const stored = await getJson([
        `${plural}.${GROUP}/${document.metadata.name}`,
        '-n',
        EXAMPLES_NAMESPACE,
      ]);
      const ours = validateResource(document, { lookup: exampleConfigMaps(documents) });
      assert.ok(ours.resource, `${document.metadata.name} is valid for the validator`);
      assert.deepEqual(
        stored.spec,
        ours.resource.spec,
        `${document.kind}/${document.metadata.name}: defaults`,
      );
    }
    const baseline = await getJson(['smc/fleet-baseline', '-n', EXAMPLES_NAMESPACE]);
    assert.equal(baseline.spec.deletionPolicy, 'Remove');
    assert.equal(baseline.spec.suspend, false);
    assert.equal(baseline.spec.createMissingModules, false);
    const lab = await getJson(['smc/lab-gateways-debug', '-n', EXAMPLES_NAMESPACE]);
    assert.equal(lab.spec.convergenceTimeout, '15m');
    assert.deepEqual(
      lab.spec.rollout ?? {},
      lab.spec.rollout ? { batchSize: '100%', failureThreshold: '10%' } : {},
    );
    const hub = await getJson(['hub/fleet-hub', '-n', EXAMPLES_NAMESPACE]);
    assert.equal(hub.spec.connectionStringSecretRef.key, 'connectionString');
  });

  it('shows the printer columns in kubectl get smc and kubectl get hub', async () => {
    await kubectlOk(cp.kubeconfig, ['apply', '-f', EXAMPLES]);
    const smc = (await kubectlOk(cp.kubeconfig, ['get', 'smc', '-n', EXAMPLES_NAMESPACE])).trim().split('\n');
    assert.deepEqual(smc[0].split(/\s+/), [
      'NAME',
      'HUB',
      'PRIORITY',
      'TARGETED',
      'CONVERGED',
      'READY',
      'REASON',
      'AGE',
    ]);
    const row = smc.find((l) => l.startsWith('site-amsterdam-strict'))?.split(/\s+/);
    assert.deepEqual(row?.slice(0, 3), ['site-amsterdam-strict', 'fleet-hub', '50']);
    const hubs = (await kubectlOk(cp.kubeconfig, ['get', 'hub', '-n', EXAMPLES_NAMESPACE]))
      .trim()
      .split('\n');
    assert.deepEqual(hubs[0].split(/\s+/), ['NAME', 'TIER', 'UNITS', 'DEVICES', 'READY', 'REASON', 'AGE']);
    assert.deepEqual(hubs[1].split(/\s+/).slice(0, 3), ['fleet-hub', 'S1', '2']);
    const wide = await kubectlOk(cp.kubeconfig, ['get', 'iotsecurity', '-n', EXAMPLES_NAMESPACE]);
    assert.match(
      wide,
      /securitymoduleconfig\.iotsecurity\.io\/fleet-baseline/,
      'the category lists both kinds',
    );
    assert.match(wide, /iothub\.iotsecurity\.io\/fleet-hub/);
  });

  it('describes the agent settings in kubectl explain', async () => {
    const text = await kubectlOk(cp.kubeconfig, ['explain', 'smc.spec.agentConfiguration']);
    for (const field of [
      'highPriorityMessageFrequency',
      'maxMessageSizeInBytes',
      'eventPriorities',
      'aggregation',
    ])
      assert.match(text, new RegExp(`\\b${field}\\b`), `explain lists ${field}`);
    const detail = await kubectlOk(cp.kubeconfig, [
      'explain',
      'smc.spec.agentConfiguration.maxMessageSizeInBytes',
    ]);
    assert.match(detail, /integer/);
    assert.match(detail, /\S{10,}/, 'the field has a description');
  });

  describe('rejects invalid resources and names the offending field', () => {
    const cases: { title: string; document: Record<string, unknown>; field: RegExp }[] = [
      {
        title: 'a string priority',
        document: validSecurityModuleConfig({ priority: 'high' }),
        field: /spec\.priority/,
      },
      {
        title: 'an unknown field',
        document: validSecurityModuleConfig({ colour: 'blue' }),
        field: /unknown field "spec\.colour"/,
      },
      {
        title: 'a message size above 262144',
        document: validSecurityModuleConfig({ agentConfiguration: { maxMessageSizeInBytes: 300000 } }),
        field: /spec\.agentConfiguration\.maxMessageSizeInBytes/,
      },
      {
        title: 'a negative priority',
        document: validSecurityModuleConfig({ priority: -1 }),
        field: /spec\.priority/,
      },
      {
        title: 'an event priority outside High/Low/Off',
        document: validSecurityModuleConfig({ agentConfiguration: { eventPriorities: { Login: 'Urgent' } } }),
        field: /spec\.agentConfiguration\.eventPriorities\.Login/,
      },
      {
        title: 'both target forms at once',
        document: validSecurityModuleConfig({ target: { condition: "tags.a = 'b'", deviceIds: ['d1'] } }),
        field: /spec\.target/,
      },
      {
        title: 'a tier that does not exist',
        document: validIotHub({ tier: 'S9' }),
        field: /spec\.tier/,
      },
      {
        title: 'an ISO duration that is not one',
        document: validSecurityModuleConfig({ agentConfiguration: { snapshotFrequency: '13 hours' } }),
        field: /spec\.agentConfiguration\.snapshotFrequency/,
      },
    ];
    let namespace: string;
    before(async () => {
      namespace = await testNamespace(cp, 'crd-invalid');
    });
    for (const { title, document, field } of cases) {
      it(`refuses ${title}`, async () => {
        const body = structuredClone(document) as any;
        body.metadata.namespace = namespace;
        const result = await kubectl(cp.kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(body) });
        assert.notEqual(result.code, 0, `the server accepted ${title}`);
        assert.match(result.stderr, field);
        assert.ok(
          validateResource(document).issues.some((i) => i.severity === 'error'),
          'validate refuses it too',
        );
      });
    }
  });

  describe('the status subresource', () => {
    let namespace: string;
    before(async () => {
      namespace = await testNamespace(cp, 'crd-status');
    });
    const target = () => ({ group: GROUP, version: VERSION, namespace, plural: 'securitymoduleconfigs' });

    it('leaves metadata.generation alone on a write to /status, and ignores status in a write to the resource', async () => {
      const body = validSecurityModuleConfig({}, 'status-probe') as any;
      body.metadata.namespace = namespace;
      body.status = { targetedDevices: 99 };
      const created = (await api.createNamespacedCustomObject({ ...target(), body })) as any;
      assert.equal(created.metadata.generation, 1);
      // Dropped, and what reads in its place is the CRD's default for a status nobody wrote: kstatus reads
      // observedGeneration 0 against generation 1 as InProgress from creation.
      assert.deepEqual(created.status, { observedGeneration: 0 }, 'status sent with the resource is dropped');

      created.status = {
        observedGeneration: 1,
        targetedDevices: 5,
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'Progressing',
            message: 'm',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      };
      const withStatus = (await api.replaceNamespacedCustomObjectStatus({
        ...target(),
        name: 'status-probe',
        body: created,
      })) as any;
      assert.equal(withStatus.metadata.generation, 1, 'a status write does not bump the generation');
      assert.equal(withStatus.status.targetedDevices, 5);

      withStatus.spec.priority = 7;
      withStatus.status.targetedDevices = 1234;
      const updated = (await api.replaceNamespacedCustomObject({
        ...target(),
        name: 'status-probe',
        body: withStatus,
      })) as any;
      assert.equal(updated.metadata.generation, 2, 'a spec write bumps the generation');
      assert.equal(updated.status.targetedDevices, 5, 'status in a write to the resource is ignored');
    });
  });
});
