// The TwinConfig CRD as the real API server takes it: names and printer columns, unknown fields kept only in
// `properties` and an inline `schema.jsonSchema` (pruned or refused everywhere else), the CEL rules between
// fields (and on spec.twin's changes), defaults as the validator applies them, and rejectedDevices in the status subresource.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { validateResource } from '../../src/validation/validate-resource.js';
import { kubectl, kubectlOk, sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { CRDS, customObjects, GROUP, installCrds, VERSION } from '../support/kube.js';
import { validTwinConfig } from '../support/resources.js';

const cp = await sharedControlPlane();
const api = customObjects(cp.kubeconfig);

type Schema = Record<string, any>;

/** Paths of the CRD's schema nodes that keep unknown fields. */
function preservingPaths(schema: Schema, at: string, out: string[] = []): string[] {
  if (schema['x-kubernetes-preserve-unknown-fields']) out.push(at);
  for (const [name, child] of Object.entries(schema.properties ?? {}))
    preservingPaths(child as Schema, at ? `${at}.${name}` : name, out);
  if (schema.items) preservingPaths(schema.items, `${at}[]`, out);
  return out;
}

describe('the TwinConfig CRD on a real API server', () => {
  let namespace: string;
  const target = () => ({ group: GROUP, version: VERSION, namespace, plural: 'twinconfigs' });
  const apply = (body: Schema) =>
    kubectl(cp.kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(body) });
  const inNamespace = (document: Schema) => ({ ...document, metadata: { ...document.metadata, namespace } });

  before(async () => {
    await installCrds(cp);
    namespace = await testNamespace(cp, 'twinconfig-crd');
  });

  it('is established with the short name tc in the iotsecurity category', async () => {
    const crd = JSON.parse(await kubectlOk(cp.kubeconfig, ['get', `crd/twinconfigs.${GROUP}`, '-o', 'json']));
    const established = crd.status.conditions.find((c: Schema) => c.type === 'Established');
    assert.equal(established?.status, 'True');
    assert.deepEqual(crd.spec.names.shortNames, ['tc']);
    assert.deepEqual(crd.spec.names.categories, ['iotsecurity']);
  });

  it('keeps unknown fields only in properties and schema.jsonSchema', () => {
    const crd = parse(readFileSync(join(CRDS, `twinconfigs.${GROUP}.yaml`), 'utf8'));
    const schema = crd.spec.versions[0].schema.openAPIV3Schema;
    assert.deepEqual(preservingPaths(schema, ''), ['spec.properties', 'spec.schema.jsonSchema']);
  });

  it('stores any JSON in properties and an inline schema as written, and refuses unknown fields elsewhere', async () => {
    const properties = {
      targetTemperature: 21.5,
      schedule: { weekdays: [{ from: '07:00', to: '22:00', celsius: 21 }], holiday: false },
      'odd-name_1': ['a', 2, { deep: { deeper: { deepest: true } } }],
    };
    const jsonSchema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { targetTemperature: { type: 'number', minimum: 5 } },
      patternProperties: { '^x-': {} },
      'x-vendor': { any: ['thing'] },
    };
    const body = inNamespace(validTwinConfig({ properties, schema: { jsonSchema } }, 'preserved'));
    const created = (await api.createNamespacedCustomObject({
      ...target(),
      body,
      fieldValidation: 'Strict',
    })) as Schema;
    assert.deepEqual(created.spec.properties, properties);
    assert.deepEqual(created.spec.schema.jsonSchema, jsonSchema);

    for (const [where, spec] of [
      ['spec.colour', { colour: 'blue' }],
      ['spec.twin.colour', { twin: { colour: 'blue' } }],
      [
        'spec.schema.configMapKeyRef.colour',
        { schema: { configMapKeyRef: { name: 'm', key: 'k', colour: 'b' } } },
      ],
    ] as const) {
      const result = await apply(inNamespace(validTwinConfig(spec, 'unknown-field')));
      assert.notEqual(result.code, 0, `the server took an unknown field at ${where}`);
      assert.match(result.stderr, new RegExp(`unknown field "${where.replace(/\./g, '\\.')}"`));
    }
  });

  describe('refuses what its CEL rules and validate refuse, in the same words', () => {
    const cases: { title: string; spec: Schema; message: RegExp }[] = [
      {
        title: 'both an inline schema and a ConfigMap',
        spec: { schema: { jsonSchema: { type: 'object' }, configMapKeyRef: { name: 'm', key: 'k' } } },
        message: /set exactly one of jsonSchema or configMapKeyRef/,
      },
      {
        title: 'a schema that names neither',
        spec: { schema: { format: 'DTDL' } },
        message: /set exactly one of jsonSchema or configMapKeyRef/,
      },
      {
        title: 'a format beside an inline schema',
        spec: { schema: { jsonSchema: { type: 'object' }, format: 'DTDL' } },
        message: /format is only for configMapKeyRef/,
      },
      {
        title: 'createModule without moduleId',
        spec: { twin: { createModule: true } },
        message: /createModule is only for a module twin/,
      },
      {
        title: 'a component that is not a DTDL name',
        spec: { twin: { component: 'thermostat-1' } },
        message: /spec\.twin\.component/,
      },
      {
        title: 'a convergence it does not know',
        spec: { convergence: 'Eventually' },
        message: /spec\.convergence/,
      },
    ];
    for (const { title, spec, message } of cases) {
      it(`refuses ${title}`, async () => {
        const result = await apply(inNamespace(validTwinConfig(spec, 'refused')));
        assert.notEqual(result.code, 0, `the server accepted ${title}`);
        assert.match(result.stderr, message);
        const ours = validateResource(validTwinConfig(spec)).issues.filter((i) => i.severity === 'error');
        assert.ok(
          ours.some((i) => message.test(`spec.${i.path.slice(1).join('.')}: ${i.message}`)),
          `validate refuses it as well: ${JSON.stringify(ours)}`,
        );
      });
    }
  });

  it('refuses to move an existing TwinConfig to another twin, saying to create a new one and delete it', async () => {
    const applied = async (spec: Schema, name: string) => {
      const result = await apply(inNamespace(validTwinConfig(spec, name)));
      return { ok: result.code === 0, stderr: result.stderr };
    };
    const refusal =
      /spec\.twin: Forbidden: twin\.moduleId and twin\.component cannot change, be added or be removed: .*create a new TwinConfig for the other twin and delete this one/;
    // On a module twin: another module, the device twin, a component are all refused.
    assert.ok((await applied({ twin: { moduleId: 'collector' } }, 'on-module')).ok);
    for (const twin of [
      { moduleId: 'other' },
      undefined,
      { moduleId: 'collector', component: 'thermostat1' },
    ]) {
      const result = await applied({ twin }, 'on-module');
      assert.equal(result.ok, false, `the server moved it to ${JSON.stringify(twin)}`);
      assert.match(result.stderr, refusal);
    }
    // On the device twin: a module or a component cannot be added later.
    assert.ok((await applied({}, 'on-device')).ok);
    for (const twin of [{ moduleId: 'collector' }, { component: 'thermostat1' }]) {
      const result = await applied({ twin }, 'on-device');
      assert.equal(result.ok, false, `the server moved it to ${JSON.stringify(twin)}`);
      assert.match(result.stderr, refusal);
    }
    // What does not move it is taken: the same twin written out, createModule, other fields.
    assert.ok((await applied({ twin: {} }, 'on-device')).ok, 'twin: {} is the device twin still');
    const edited = await applied(
      { twin: { moduleId: 'collector', createModule: true }, properties: { targetTemperature: 19 } },
      'on-module',
    );
    assert.ok(edited.ok, edited.stderr);
    const stored = (await api.getNamespacedCustomObject({ ...target(), name: 'on-module' })) as Schema;
    assert.deepEqual(stored.spec.twin, { moduleId: 'collector', createModule: true });
  });

  it('applies the defaults the validator applies', async () => {
    const body = inNamespace(validTwinConfig({ rollout: {} }, 'defaults'));
    const created = (await api.createNamespacedCustomObject({ ...target(), body })) as Schema;
    const ours = validateResource(validTwinConfig({ rollout: {} }, 'defaults'));
    assert.ok(ours.resource);
    const spec: Schema = created.spec;
    assert.equal(spec.convergence, 'PlugAndPlay');
    assert.equal(spec.priority, 0);
    assert.equal(spec.deletionPolicy, 'Remove');
    assert.equal(spec.twin, undefined, 'no twin: the device twin');
    assert.deepEqual(spec, ours.resource.spec);
  });

  it('shows Hub, Priority, Targeted, Converged, Rejected, Ready, Reason in kubectl get tc, from the status', async () => {
    const body = inNamespace(validTwinConfig({ priority: 30 }, 'columns'));
    await api.createNamespacedCustomObject({ ...target(), body });
    await api.replaceNamespacedCustomObjectStatus({
      ...target(),
      name: 'columns',
      body: {
        ...(await api.getNamespacedCustomObject({ ...target(), name: 'columns' })),
        status: {
          targetedDevices: 12,
          convergedDevices: 9,
          rejectedDevices: 3,
          failures: [
            { deviceId: 'pnp-000004', reason: 'DeviceRejected', message: 'targetTemperature refused (400)' },
          ],
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'DevicesRejected',
              message: '3 devices rejected the values; see status.failures',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
        },
      },
    });
    const lines = (await kubectlOk(cp.kubeconfig, ['get', 'tc', '-n', namespace])).trim().split('\n');
    assert.deepEqual(lines[0].split(/\s+/), [
      'NAME',
      'HUB',
      'PRIORITY',
      'TARGETED',
      'CONVERGED',
      'REJECTED',
      'READY',
      'REASON',
      'AGE',
    ]);
    const row = lines.find((l) => l.startsWith('columns'))?.split(/\s+/);
    assert.deepEqual(row?.slice(0, 8), ['columns', 'hub', '30', '12', '9', '3', 'False', 'DevicesRejected']);
    const category = await kubectlOk(cp.kubeconfig, ['get', 'iotsecurity', '-n', namespace]);
    assert.match(category, /twinconfig\.iotsecurity\.io\/columns/);
  });
});
