// The controller's memory of the validator's verdicts: a steady reconcile judges nothing again (a TwinConfig's
// schema is compiled once, however many reconciles and however many distinct schemas), and a verdict is made anew
// when the spec (generation) or the ConfigMap it names (resourceVersion) changes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planInputs } from '../../src/controller/config-decisions.js';
import type { ConfigMapRead } from '../../src/controller/config-maps.js';
import type { HubView } from '../../src/controller/hub-view.js';
import { asWritten, type ConfigObject, FINALIZER } from '../../src/controller/kube-objects.js';
import { KubeCallError } from '../../src/controller/kube-writer.js';
import { ValidationMemo, validateConfig } from '../../src/controller/validation-memo.js';
import { twinSchemaCompilations } from '../../src/twin-models/index.js';
import { twinConfig } from '../support/resources.js';

function twinConfigObject(
  name: string,
  schema: Record<string, unknown>,
  meta: Partial<ConfigObject['metadata']> = {},
): ConfigObject {
  const object = twinConfig(
    name,
    {
      target: { condition: "tags.site = 'amsterdam'" },
      properties: { targetTemperature: 21 },
      schema,
    },
    { namespace: 'iot' },
  ) as unknown as ConfigObject;
  return {
    ...object,
    metadata: { ...object.metadata, uid: `${name}-uid`, generation: 1, finalizers: [FINALIZER], ...meta },
  };
}

/** An inline JSON Schema of its own (the compile cache is the process's). */
const distinctSchema = (n: number) => ({
  jsonSchema: {
    type: 'object',
    properties: { targetTemperature: { type: 'number', maximum: 1_000_000 + n } },
  },
});

const view = (current: ConfigObject[]): HubView => ({
  key: 'iot/hub',
  namespace: 'iot',
  name: 'hub',
  hub: undefined,
  current,
  away: [],
});

const SCHEMA_TEXT = JSON.stringify({ type: 'object', properties: { targetTemperature: { type: 'number' } } });
const configMap = (resourceVersion: string, text = SCHEMA_TEXT): Map<string, ConfigMapRead> =>
  new Map([['schemas', { found: true, data: { 'schema.json': text }, resourceVersion }]]);

describe("the controller's memory of verdicts", () => {
  it('compiles nothing at a steady reconcile, even for more distinct schemas than the compile cache holds', () => {
    // 40 distinct inline schemas: past the compile cache's 32, every pass compiled all of them again.
    const configs = Array.from({ length: 40 }, (_, i) => twinConfigObject(`tc-${i}`, distinctSchema(i)));
    const pass = (validate = new ValidationMemo().validate) =>
      planInputs(view(configs), () => true, new Map(), validate);
    const before = twinSchemaCompilations();
    pass(validateConfig);
    assert.equal(twinSchemaCompilations() - before, 40, 'each compiled once');
    const again = twinSchemaCompilations();
    pass(validateConfig);
    assert.equal(twinSchemaCompilations() - again, 40, 'without the memory: all again, the cache thrashed');

    const memo = new ValidationMemo();
    const first = planInputs(view(configs), () => true, new Map(), memo.validate);
    assert.equal(first.resources.length, 40);
    const steady = twinSchemaCompilations();
    for (let reconcile = 0; reconcile < 5; reconcile++) {
      const inputs = planInputs(view(configs), () => true, new Map(), memo.validate);
      assert.equal(inputs.resources.length, 40);
    }
    assert.equal(twinSchemaCompilations(), steady, 'five more reconciles compiled nothing');
    assert.deepEqual(memo.stats, { validated: 40, remembered: 200 });
  });

  it('judges again when the spec or the ConfigMap changes, and forgets a resource that is gone', () => {
    const memo = new ValidationMemo();
    const ref = { configMapKeyRef: { name: 'schemas', key: 'schema.json' } };
    const config = twinConfigObject('judged', ref);
    const judge = (object: ConfigObject, configMaps: Map<string, ConfigMapRead>) =>
      memo.validate(object, asWritten(object), configMaps);
    const valid = judge(config, configMap('10'));
    assert.deepEqual(valid.issues, []);
    assert.equal(judge(config, configMap('10')), valid, 'the same verdict, kept');
    assert.equal(memo.has(config, configMap('10')), true);

    // The ConfigMap edited in place: a new resourceVersion, judged by what it holds now.
    const stricter = JSON.stringify({ type: 'object', properties: { targetTemperature: { maximum: 20 } } });
    const refused = judge(config, configMap('11', stricter));
    assert.match(refused.issues.map((i) => i.message).join(), /20/);
    // A new spec: a new generation.
    const edited = twinConfigObject('judged', ref, { generation: 2 });
    (edited.spec as { properties: Record<string, unknown> }).properties = { targetTemperature: 19 };
    assert.deepEqual(judge(edited, configMap('11', stricter)).issues, []);
    assert.equal(memo.stats.validated, 3);

    // Without a generation or a resourceVersion nothing is kept; a ConfigMap that cannot be read neither.
    const unversioned = twinConfigObject('loose', ref, { generation: undefined });
    judge(unversioned, configMap('11'));
    judge(unversioned, configMap('11'));
    assert.equal(memo.stats.validated, 5);
    const unreadable = new Map<string, ConfigMapRead>([
      [
        'schemas',
        { found: false, unreadable: new KubeCallError(403, 'not allowed to get ConfigMap iot/schemas') },
      ],
    ]);
    assert.equal(memo.has(config, unreadable), false);
    memo.forget('judged-uid');
    assert.equal(memo.has(edited, configMap('11', stricter)), false);
  });
});
