import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

type Schema = Record<string, any>;
const crd = (plural: string): Schema =>
  parse(readFileSync(join(import.meta.dirname, '..', '..', 'crds', `${plural}.iotsecurity.io.yaml`), 'utf8'));

/** Every node of a structural schema has a type (or is int-or-string) and never additionalProperties: false. */
function assertStructural(schema: Schema, at: string): void {
  assert.ok(schema.type || schema['x-kubernetes-int-or-string'], `${at} has no type`);
  assert.notEqual(schema.additionalProperties, false, `${at} has additionalProperties: false`);
  assert.equal(schema.$ref, undefined, `${at} has a $ref`);
  for (const [name, child] of Object.entries(schema.properties ?? {}))
    assertStructural(child as Schema, `${at}.${name}`);
  if (schema.items) assertStructural(schema.items, `${at}[]`);
}

describe('CRD manifests', () => {
  for (const plural of ['iothubs', 'securitymoduleconfigs', 'twinconfigs']) {
    it(`${plural} is a namespaced v1alpha1 kind with a status subresource and a structural schema`, () => {
      const doc = crd(plural);
      assert.equal(doc.metadata.name, `${plural}.iotsecurity.io`);
      assert.equal(doc.spec.scope, 'Namespaced');
      const version = doc.spec.versions[0];
      assert.equal(version.name, 'v1alpha1');
      assert.deepEqual(version.subresources, { status: {} });
      assertStructural(version.schema.openAPIV3Schema, plural);
    });
  }

  it('gives SecurityModuleConfig the short name smc, printer columns and defaults', () => {
    const doc = crd('securitymoduleconfigs');
    assert.deepEqual(doc.spec.names.shortNames, ['smc']);
    const columns = doc.spec.versions[0].additionalPrinterColumns.map((c: Schema) => c.name);
    assert.deepEqual(columns, ['Hub', 'Priority', 'Targeted', 'Converged', 'Ready', 'Reason', 'Age']);
    const spec = doc.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
    assert.equal(spec.priority.default, 0);
    assert.equal(spec.deletionPolicy.default, 'Remove');
    assert.deepEqual(spec.deletionPolicy.enum, ['Remove', 'Retain']);
    assert.equal(spec.convergenceTimeout.default, '15m');
    assert.equal(spec.rollout.properties.batchSize.default, '100%');
    assert.equal(spec.target.maxProperties, 1);
    const hash = spec.agentConfiguration.properties.baselineCustomChecks.properties.fileHash;
    assert.equal(hash.nullable, true);
  });

  it('gives IoTHub the short name hub and tier/units defaults', () => {
    const doc = crd('iothubs');
    assert.deepEqual(doc.spec.names.shortNames, ['hub']);
    const spec = doc.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
    assert.equal(spec.tier.default, 'S1');
    assert.equal(spec.units.default, 1);
    assert.equal(spec.resyncInterval.default, '10m');
    assert.equal(spec.connectionStringSecretRef.properties.key.default, 'connectionString');
    assert.equal(spec.rateLimits.properties.twinUpdatesPerSecond.exclusiveMinimum, true);
  });
});
