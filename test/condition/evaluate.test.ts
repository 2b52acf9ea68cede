import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  compileCondition,
  type Expression,
  evaluateCondition,
  evaluateTruth,
  type LiteralValue,
  type Truth,
  type TwinDocument,
} from '../../src/condition/index.js';
import { expressionArbitrary } from '../support/condition-arbitraries.js';
import { parsed } from './helpers.js';

const twin: TwinDocument = {
  deviceId: 'edge-01',
  status: 'enabled',
  connectionState: 'Connected',
  tags: {
    site: 'lab',
    floor: 3,
    enabled: true,
    retired: false,
    owner: null,
    location: { region: 'eu', plant: 'Berlin' },
    zones: ['a', 'b'],
  },
  properties: {
    desired: { interval: 60, $version: 4 },
    reported: { interval: 30, firmware: '1.2.0', $version: 7 },
  },
};

const selects = (text: string, document: TwinDocument = twin) =>
  evaluateCondition(parsed(text, { dialect: 'hubQuery' }), document);
const truth = (text: string, document: TwinDocument = twin) =>
  evaluateTruth(parsed(text, { dialect: 'hubQuery' }), document);

describe('evaluateCondition comparisons', () => {
  it('compares numbers with every operator', () => {
    const cases: [string, boolean][] = [
      ['tags.floor = 3', true],
      ['tags.floor = 3.0', true],
      ['tags.floor != 3', false],
      ['tags.floor <> 4', true],
      ['tags.floor < 4', true],
      ['tags.floor < 3', false],
      ['tags.floor <= 3', true],
      ['tags.floor > 2.5', true],
      ['tags.floor > 3', false],
      ['tags.floor >= 3', true],
      ['tags.floor >= -3', true],
    ];
    for (const [text, expected] of cases) assert.equal(selects(text), expected, text);
  });

  it('compares strings case-sensitively', () => {
    assert.equal(selects("tags.site = 'lab'"), true);
    assert.equal(selects("tags.site = 'Lab'"), false);
    assert.equal(selects("tags.site != 'Lab'"), true);
  });

  it('orders strings by UTF-16 code unit', () => {
    assert.equal(selects("tags.site > 'Z'"), true);
    assert.equal(selects("tags.site < 'lac'"), true);
    assert.equal(selects("tags.site >= 'lab'"), true);
    assert.equal(selects("properties.reported.firmware < '1.10.0'"), false);
  });

  it('compares booleans and orders false before true', () => {
    assert.equal(selects('tags.enabled = true'), true);
    assert.equal(selects('tags.retired = false'), true);
    assert.equal(selects('tags.enabled != false'), true);
    assert.equal(selects('tags.retired < tags.enabled'), true);
  });

  it('reads a constant on the left like the mirrored comparison', () => {
    assert.equal(selects('2 < tags.floor'), true);
    assert.equal(selects('3 <= tags.floor'), true);
    assert.equal(selects('4 <= tags.floor'), false);
    assert.equal(selects("'lab' = tags.site"), true);
  });

  it('compares two properties of the same twin', () => {
    assert.equal(selects('properties.desired.interval > properties.reported.interval'), true);
    assert.equal(selects('properties.desired.interval = properties.reported.interval'), false);
    assert.equal(truth('properties.desired.interval = properties.reported.missing'), undefined);
  });

  it('reads nested tags and desired and reported properties', () => {
    assert.equal(selects("tags.location.region = 'eu'"), true);
    assert.equal(selects('properties.desired.interval = 60'), true);
    assert.equal(selects('properties.reported.$version = 7'), true);
  });
});

describe('evaluateCondition undefined and mismatched types', () => {
  it('leaves a comparison with a missing property undefined, so neither it nor its negation selects', () => {
    for (const text of [
      "tags.missing = 'x'",
      "tags.missing != 'x'",
      'tags.missing < 1',
      'tags.location.missing = 1',
    ]) {
      assert.equal(truth(text), undefined, text);
      assert.equal(selects(text), false, text);
      assert.equal(selects(`NOT ${text}`), false, `NOT ${text}`);
    }
  });

  it('leaves comparisons across types undefined', () => {
    for (const text of [
      "tags.floor = '3'",
      "tags.floor != '3'",
      "tags.floor < '4'",
      'tags.site = 1',
      'tags.enabled = 1',
      "tags.enabled = 'true'",
      'tags.site = null',
      'tags.site != null',
      'tags.floor > false',
    ]) {
      assert.equal(truth(text), undefined, text);
      assert.equal(selects(`NOT (${text})`), false, text);
    }
  });

  it('matches = null only for an explicit null', () => {
    assert.equal(selects('tags.owner = null'), true);
    assert.equal(selects('tags.missing = null'), false);
    assert.equal(truth('tags.missing = null'), undefined);
    assert.equal(selects('tags.owner != null'), false);
  });

  it('leaves comparisons with objects and arrays undefined', () => {
    assert.equal(truth("tags.location = 'eu'"), undefined);
    assert.equal(truth("tags.zones = 'a'"), undefined);
    assert.equal(truth('tags.location = tags.location'), undefined);
  });

  it('does not read through arrays or primitives', () => {
    assert.equal(truth('tags.zones.length = 2'), undefined);
    assert.equal(truth('tags.site.length = 3'), undefined);
    assert.equal(selects('IS_DEFINED(tags.zones.length)'), false);
  });

  it('never reads names from the object prototype', () => {
    assert.equal(selects('IS_DEFINED(tags.constructor)'), false);
    assert.equal(selects('IS_DEFINED(tags.toString)'), false);
    assert.equal(selects('IS_DEFINED(tags.__proto__)'), false);
    const own = JSON.parse('{"tags": {"constructor": 1, "__proto__": 2}}') as TwinDocument;
    assert.equal(selects('tags.constructor = 1 AND tags.__proto__ = 2', own), true);
  });
});

describe('evaluateCondition three-valued logic', () => {
  const unknown = "tags.missing = 'x'";
  const yes = "tags.site = 'lab'";
  const no = "tags.site = 'hq'";

  it('makes undefined AND false false, and undefined AND true undefined', () => {
    assert.equal(truth(`${unknown} AND ${no}`), false);
    assert.equal(truth(`${no} AND ${unknown}`), false);
    assert.equal(truth(`${unknown} AND ${yes}`), undefined);
    assert.equal(truth(`${yes} AND ${yes} AND ${unknown}`), undefined);
    assert.equal(truth(`${yes} AND ${unknown} AND ${no}`), false);
  });

  it('makes undefined OR true true, and undefined OR false undefined', () => {
    assert.equal(truth(`${unknown} OR ${yes}`), true);
    assert.equal(truth(`${yes} OR ${unknown}`), true);
    assert.equal(truth(`${unknown} OR ${no}`), undefined);
    assert.equal(truth(`${no} OR ${no} OR ${unknown}`), undefined);
    assert.equal(truth(`${no} OR ${unknown} OR ${yes}`), true);
  });

  it('keeps NOT undefined undefined', () => {
    assert.equal(truth(`NOT ${unknown}`), undefined);
    assert.equal(truth(`NOT NOT ${unknown}`), undefined);
    assert.equal(truth(`NOT ${yes}`), false);
    assert.equal(truth(`NOT ${no}`), true);
  });

  it('selects a twin only when the condition is true', () => {
    assert.equal(selects(`${unknown} OR ${no}`), false);
    assert.equal(selects(`NOT (${unknown} OR ${no})`), false);
    assert.equal(selects(`NOT (${unknown} AND ${no})`), true);
  });
});

describe('evaluateCondition IN and NIN', () => {
  it('selects a value in the list and rejects one that is not', () => {
    assert.equal(selects("tags.site IN ['hq', 'lab']"), true);
    assert.equal(selects("tags.site IN ['hq', 'plant']"), false);
    assert.equal(selects("tags.site NIN ['hq', 'plant']"), true);
    assert.equal(selects("tags.site NIN ['lab']"), false);
    assert.equal(selects('tags.floor IN [1, 2, 3]'), true);
    assert.equal(selects('tags.owner IN [null]'), true);
    assert.equal(selects('tags.enabled IN [true]'), true);
  });

  it('treats IN as a chain of OR equalities when the list mixes types', () => {
    assert.equal(truth("tags.site IN [1, 'lab', true]"), true);
    assert.equal(truth("tags.site IN [1, 'hq', null]"), undefined);
    assert.equal(truth("tags.site NIN [1, 'hq', null]"), undefined);
    assert.equal(truth("tags.site NIN [1, 'lab']"), false);
    assert.equal(truth('tags.floor IN [3, true]'), true);
  });

  it('leaves IN and NIN undefined when every constant has another type', () => {
    assert.equal(truth("tags.floor IN ['3']"), undefined);
    assert.equal(truth("tags.floor NIN ['3']"), undefined);
  });

  it('leaves IN and NIN undefined for missing properties, objects and arrays', () => {
    for (const field of ['tags.missing', 'tags.location', 'tags.zones']) {
      assert.equal(truth(`${field} IN ['a']`), undefined, field);
      assert.equal(truth(`${field} NIN ['a']`), undefined, field);
    }
  });

  it('does not confuse numbers with their string spelling', () => {
    assert.equal(selects("tags.floor IN ['3', 4]"), false);
  });
});

describe('evaluateCondition functions', () => {
  it('tells defined from missing properties, counting null and objects as defined', () => {
    assert.equal(selects('IS_DEFINED(tags.site)'), true);
    assert.equal(selects('IS_DEFINED(tags.owner)'), true);
    assert.equal(selects('IS_DEFINED(tags.location)'), true);
    assert.equal(selects('IS_DEFINED(tags.missing)'), false);
    assert.equal(selects('NOT IS_DEFINED(tags.missing)'), true);
    assert.equal(selects('IS_DEFINED(tags.missing.deeper)'), false);
  });

  it('matches string prefixes and suffixes case-sensitively', () => {
    assert.equal(selects("STARTSWITH(deviceId, 'edge-')"), true);
    assert.equal(selects("STARTSWITH(deviceId, 'Edge-')"), false);
    assert.equal(selects("STARTSWITH(deviceId, '')"), true);
    assert.equal(selects("ENDSWITH(deviceId, '-01')"), true);
    assert.equal(selects("ENDSWITH(deviceId, '-02')"), false);
    assert.equal(selects("NOT ENDSWITH(deviceId, '-02')"), true);
  });

  it('leaves STARTSWITH and ENDSWITH undefined on missing or non-string properties', () => {
    assert.equal(truth("STARTSWITH(tags.floor, '3')"), undefined);
    assert.equal(truth("ENDSWITH(tags.missing, 'x')"), undefined);
    assert.equal(truth("STARTSWITH(tags.owner, 'x')"), undefined);
    assert.equal(selects("NOT STARTSWITH(tags.missing, 'x')"), false);
  });
});

describe('evaluateCondition property names', () => {
  it('matches property names case-insensitively, like the hub', () => {
    assert.equal(selects("TAGS.SITE = 'lab'"), true);
    assert.equal(selects("Tags.Location.Region = 'eu'"), true);
    assert.equal(selects("DeviceId = 'edge-01'"), true);
  });

  it('prefers the exact spelling when a twin has names differing only in case', () => {
    const document = { tags: { Site: 'upper', site: 'lower' } };
    assert.equal(selects("tags.Site = 'upper'", document), true);
    assert.equal(selects("tags.site = 'lower'", document), true);
  });
});

describe('compileCondition', () => {
  it('selects the same twins as evaluateCondition', () => {
    const expression = parsed(
      "tags.site IN ['lab', 'hq'] AND (status = 'enabled' OR NOT IS_DEFINED(tags.floor))",
    );
    const predicate = compileCondition(expression);
    const twins: TwinDocument[] = [
      twin,
      { deviceId: 'a', status: 'disabled', tags: { site: 'hq' } },
      { deviceId: 'b', status: 'disabled', tags: { site: 'hq', floor: 1 } },
      { deviceId: 'c', tags: {} },
      { deviceId: 'd' },
    ];
    assert.deepEqual(
      twins.map(predicate),
      twins.map((document) => evaluateCondition(expression, document)),
    );
    assert.deepEqual(twins.map(predicate), [true, true, false, false, false]);
  });

  it('agrees with a direct reading of the semantics on random conditions and twins', () => {
    const names = fc.constantFrom('site', 'Site', 'floor', 'owner', 'constructor');
    const strings = fc.constantFrom('lab', 'Lab', 'l', '', 'b');
    const value: fc.Arbitrary<unknown> = fc.oneof(
      strings,
      fc.constantFrom(0, 1, 2, -1, 1.5),
      fc.boolean(),
      fc.constant(null),
      fc.constant({ nested: 1 }),
      fc.constant(['lab']),
    );
    const twins = fc.record({
      deviceId: fc.oneof(strings, fc.constant(undefined)),
      status: fc.constantFrom('enabled', 'disabled'),
      tags: fc.oneof(
        fc.dictionary(names, fc.oneof(value, fc.dictionary(names, value))),
        fc.constant('not an object'),
      ),
    });
    const literal: fc.Arbitrary<LiteralValue> = fc.oneof(
      strings,
      fc.constantFrom(0, 1, 2, -1, 1.5),
      fc.boolean(),
      fc.constant(null),
    );
    const expressions = expressionArbitrary({ name: names, literal, text: strings });
    fc.assert(
      fc.property(expressions, twins, (expression, document) => {
        const expected = referenceTruth(expression, document);
        assert.equal(evaluateTruth(expression, document), expected);
        assert.equal(compileCondition(expression)(document), expected === true);
      }),
      { numRuns: 2000 },
    );
  });
});

/** The semantics written out plainly, one rule at a time, to check the optimised closures against. */
function referenceTruth(expression: Expression, document: unknown): Truth {
  switch (expression.kind) {
    case 'and': {
      const results = expression.operands.map((operand) => referenceTruth(operand, document));
      return results.includes(false) ? false : results.includes(undefined) ? undefined : true;
    }
    case 'or': {
      const results = expression.operands.map((operand) => referenceTruth(operand, document));
      return results.includes(true) ? true : results.includes(undefined) ? undefined : false;
    }
    case 'not': {
      const result = referenceTruth(expression.operand, document);
      return result === undefined ? undefined : !result;
    }
    case 'compare': {
      const read = (operand: typeof expression.left) =>
        operand.kind === 'path' ? referenceLookup(document, operand.segments) : operand.value;
      return referenceCompare(expression.operator, read(expression.left), read(expression.right));
    }
    case 'in':
    case 'nin': {
      // IN is a chain of OR equalities.
      const value = referenceLookup(document, expression.path.segments);
      const results = expression.values.map((constant) => referenceCompare('=', value, constant));
      const membership = results.includes(true) ? true : results.includes(undefined) ? undefined : false;
      if (expression.kind === 'in') return membership;
      return membership === undefined ? undefined : !membership;
    }
    case 'isDefined':
      return referenceLookup(document, expression.path.segments) !== undefined;
    case 'startsWith':
    case 'endsWith': {
      const value = referenceLookup(document, expression.path.segments);
      if (typeof value !== 'string') return undefined;
      return expression.kind === 'startsWith'
        ? value.startsWith(expression.value)
        : value.endsWith(expression.value);
    }
  }
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function referenceCompare(operator: string, a: unknown, b: unknown): Truth {
  if (a === undefined || b === undefined) return undefined;
  const type = jsonType(a);
  if (type !== jsonType(b) || type === 'object' || type === 'array') return undefined;
  const x = a as number;
  const y = b as number;
  switch (operator) {
    case '=':
      return x === y;
    case '!=':
      return x !== y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

function referenceLookup(document: unknown, segments: readonly string[]): unknown {
  let current = document;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    const keys = Object.keys(current);
    const key = keys.includes(segment)
      ? segment
      : keys.find((k) => k.toLowerCase() === segment.toLowerCase());
    if (key === undefined) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
