import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTwinSchema } from '../../src/twin-models/index.js';

const ORIGIN = { at: ['spec', 'schema', 'dtdl'], where: 'ConfigMap models, key big.json' };

function interfaceWith(count: number, nameLength = 5): string {
  return JSON.stringify({
    '@context': 'dtmi:dtdl:context;3',
    '@id': 'dtmi:com:example:Big;1',
    '@type': 'Interface',
    contents: Array.from({ length: count }, (_, i) => ({
      '@type': 'Property',
      name: `p${String(i).padStart(nameLength, '0')}`,
      schema: 'double',
      writable: true,
    })),
  });
}

describe('DTDL models within bounded time and memory', () => {
  it('refuses a 100 MB model without reading it', () => {
    const huge = `[${' '.repeat(100 * 1024 * 1024 - 2)}]`;
    // The refusal, not its time: a time limit fails on a loaded machine (the size is checked before any read).
    const result = compileTwinSchema({ dtdl: huge }, ORIGIN);
    assert.deepEqual(!result.ok && result.problems.map((p) => p.message), [
      'ConfigMap models, key big.json, line 1, column 1: the model is over 100 MiB; at most 1 MiB is read',
    ]);
  });

  it('refuses a model of 100,000 properties by its size', () => {
    const result = compileTwinSchema({ dtdl: interfaceWith(100_000) }, ORIGIN);
    assert.deepEqual(!result.ok && result.problems.map((p) => p.message), [
      'ConfigMap models, key big.json, line 1, column 1: the model is over 6.8 MiB; at most 1 MiB is read',
    ]);
  });

  it('refuses a model nested deeper than 64 levels', () => {
    const deep = `{"@context": "dtmi:dtdl:context;3", "x": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const result = compileTwinSchema({ dtdl: deep }, ORIGIN);
    assert.deepEqual(!result.ok && result.problems.map((p) => p.message), [
      'ConfigMap models, key big.json, line 1, column 1: the model nests more than 64 levels deep',
    ]);
  });

  it('reads the largest model that fits, and judges against it with a bounded list of problems', () => {
    const result = compileTwinSchema({ dtdl: interfaceWith(14_000) }, ORIGIN);
    assert.equal(result.ok, true);
    if (!result.ok) return;
    const properties = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`q${i}`, 1]));
    const problems = result.schema.judge(properties, ['spec', 'properties']);
    assert.equal(problems.length, 51);
    assert.equal(
      problems[0].message,
      "'q0' is not a Property of dtmi:com:example:Big;1; it has 14000 writable properties",
    );
    assert.equal(problems[50].message, 'only the first 50 problems are shown');
  });

  it('compares long names for did-you-mean only when they could be close', () => {
    const result = compileTwinSchema({ dtdl: interfaceWith(1800, 500) }, ORIGIN);
    assert.equal(result.ok, true);
    if (!result.ok) return;
    const problems = result.schema.judge({ [`q${'1'.repeat(499)}`]: 1 });
    assert.match(
      problems[0].message,
      /is not a Property of dtmi:com:example:Big;1; it has 1800 writable properties$/,
    );
  });
});
