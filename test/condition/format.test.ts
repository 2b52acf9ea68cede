import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatCondition, MAX_CONDITION_LENGTH, parseCondition } from '../../src/condition/index.js';
import { anyLiteral, anyText, expressionArbitrary, validName } from '../support/condition-arbitraries.js';
import { parsed } from './helpers.js';

const canonical = (text: string, dialect: 'deviceTarget' | 'hubQuery' = 'deviceTarget') =>
  formatCondition(parsed(text, { dialect }));

describe('formatCondition', () => {
  it('writes keywords in upper case and constants in lower case', () => {
    assert.equal(
      canonical(
        "not tags.a = TRUE and is_defined(tags.b) or startswith(deviceId, 'x') or tags.c nin [NULL, False]",
      ),
      "NOT tags.a = true AND IS_DEFINED(tags.b) OR STARTSWITH(deviceId, 'x') OR tags.c NIN [null, false]",
    );
  });

  it('writes <> as !=', () => {
    assert.equal(canonical("status <> 'enabled'"), "status != 'enabled'");
  });

  it('writes strings in single quotes with the hub escapes', () => {
    assert.equal(
      canonical(String.raw`tags.a = "it's \"quoted\" \\ here"`),
      String.raw`tags.a = 'it\'s "quoted" \\ here'`,
    );
  });

  it('writes control characters, line separators and lone surrogates as \\u escapes', () => {
    assert.equal(
      canonical(String.raw`tags.a IN ['\u000a\u0009', '\u2028', '\ud800x', '\u00e9 🚀']`),
      String.raw`tags.a IN ['\u000a\u0009', '\u2028', '\ud800x', 'é 🚀']`,
    );
  });

  it('writes numbers in plain decimal notation', () => {
    assert.equal(
      canonical('tags.a IN [1.50, -0.0, 007, 1000000000000000000000]'),
      'tags.a IN [1.5, 0, 7, 1000000000000000000000]',
    );
    assert.equal(canonical('tags.a = 0.0000001'), 'tags.a = 0.0000001');
    assert.equal(canonical('tags.a = -0.000000000000000000000123'), 'tags.a = -0.000000000000000000000123');
  });

  it('keeps only the parentheses the tree needs', () => {
    assert.equal(canonical('((tags.a = 1)) AND (tags.b = 2)'), 'tags.a = 1 AND tags.b = 2');
    assert.equal(
      canonical('(tags.a = 1 AND tags.b = 2) OR tags.c = 3'),
      'tags.a = 1 AND tags.b = 2 OR tags.c = 3',
    );
    assert.equal(
      canonical('tags.a = 1 AND (tags.b = 2 OR tags.c = 3)'),
      'tags.a = 1 AND (tags.b = 2 OR tags.c = 3)',
    );
    assert.equal(canonical('NOT (tags.a = 1 OR tags.b = 2)'), 'NOT (tags.a = 1 OR tags.b = 2)');
    assert.equal(canonical('NOT (NOT tags.a = 1)'), 'NOT NOT tags.a = 1');
  });

  it('keeps the parentheses of a nested group of the same operator', () => {
    assert.equal(
      canonical('tags.a = 1 OR (tags.b = 2 OR tags.c = 3)'),
      'tags.a = 1 OR (tags.b = 2 OR tags.c = 3)',
    );
    assert.equal(
      canonical('(tags.a = 1 AND tags.b = 2) AND tags.c = 3'),
      '(tags.a = 1 AND tags.b = 2) AND tags.c = 3',
    );
  });

  it('keeps the order of operands and the spelling of paths', () => {
    assert.equal(canonical("'lab' = Tags.Site"), "'lab' = Tags.Site");
    assert.equal(
      canonical('properties.desired.x >= properties.reported.$version', 'hubQuery'),
      'properties.desired.x >= properties.reported.$version',
    );
  });
});

describe('formatCondition on trees built by code', () => {
  it('refuses a property name that would break out of the grammar', () => {
    const expression = {
      kind: 'compare',
      operator: '=',
      left: { kind: 'path', segments: ['tags', "a' OR 'x"] },
      right: { kind: 'literal', value: 1 },
    } as const;
    assert.throws(() => formatCondition(expression), {
      name: 'RangeError',
      message: "'a' OR 'x' cannot be written as a property name in a hub query",
    });
  });

  it('refuses an empty IN list, an AND with one operand and an infinite number', () => {
    const path = { kind: 'path', segments: ['tags', 'a'] } as const;
    assert.throws(() => formatCondition({ kind: 'in', path, values: [] }), RangeError);
    assert.throws(
      () => formatCondition({ kind: 'and', operands: [{ kind: 'isDefined', path }] }),
      RangeError,
    );
    assert.throws(
      () =>
        formatCondition({
          kind: 'compare',
          operator: '=',
          left: path,
          right: { kind: 'literal', value: Number.POSITIVE_INFINITY },
        }),
      RangeError,
    );
  });
});

describe('formatCondition round trip', () => {
  const run = (dialect: 'deviceTarget' | 'hubQuery') => {
    const expressions = expressionArbitrary({
      name: validName,
      literal: anyLiteral,
      text: anyText,
      hubFields: dialect === 'hubQuery',
    });
    fc.assert(
      fc.property(expressions, (expression) => {
        const text = formatCondition(expression);
        fc.pre(text.length <= MAX_CONDITION_LENGTH);
        const result = parseCondition(text, { dialect });
        assert.ok(result.ok, result.ok ? '' : `${result.error.message}\n${text}`);
        assert.deepStrictEqual(result.expression, expression);
        assert.equal(formatCondition(result.expression), text);
      }),
      { numRuns: 500 },
    );
  };

  it('parses formatted target conditions back to the same tree', () => run('deviceTarget'));

  it('parses formatted hub query conditions back to the same tree', () => run('hubQuery'));

  it('formats a parsed condition to a fixed point', () => {
    fc.assert(
      fc.property(
        expressionArbitrary({ name: validName, literal: anyLiteral, text: anyText }),
        (expression) => {
          const once = formatCondition(expression);
          fc.pre(once.length <= MAX_CONDITION_LENGTH);
          assert.equal(formatCondition(parsed(formatCondition(parsed(once)))), once);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('round-trips every string and number constant', () => {
    fc.assert(
      fc.property(anyLiteral, (value) => {
        const expression = parsed(
          formatCondition({ kind: 'in', path: { kind: 'path', segments: ['tags', 'a'] }, values: [value] }),
        );
        assert.deepStrictEqual(expression, {
          kind: 'in',
          path: { kind: 'path', segments: ['tags', 'a'] },
          values: [value],
        });
      }),
      { numRuns: 1000 },
    );
  });
});
