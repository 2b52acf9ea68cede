import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  evaluateCondition,
  evaluateTruth,
  MAX_CONDITION_LENGTH,
  MAX_NESTING_DEPTH,
  parseCondition,
} from '../../src/condition/index.js';
import { literal, parsed, path, rejected } from './helpers.js';

/** Asserts the message and that offset and column point at the same place on a one-line condition. */
function assertRejected(text: string, column: number, message: string): void {
  const error = rejected(text);
  assert.equal(error.message, message);
  assert.equal(error.column, column);
  assert.equal(error.line, 1);
  assert.equal(error.offset, column - 1);
}

describe('parseCondition syntax errors', () => {
  it('reports an unexpected token where a value belongs', () => {
    assertRejected("tags.site = 'x' AND (tags.a = )", 31, "unexpected ')' at column 31, expected a value");
  });

  it('reports a missing comparison operator after a path', () => {
    assertRejected(
      'tags.a',
      7,
      "unexpected end of input at column 7, expected a comparison operator, IN or NIN after 'tags.a'",
    );
    assertRejected(
      "tags.a 'x'",
      8,
      "unexpected string 'x' at column 8, expected a comparison operator, IN or NIN after 'tags.a'",
    );
  });

  it('reports a missing comparison operator after a constant', () => {
    assertRejected(
      "'x' IN ['x']",
      5,
      "unexpected 'IN' at column 5, expected a comparison operator after string 'x'",
    );
  });

  it('reports a token that cannot start a condition', () => {
    assertRejected(
      'tags.a = 1 AND )',
      16,
      "unexpected ')' at column 16, expected a condition: a property path, a value, a function or '('",
    );
    assertRejected(
      'AND tags.a = 1',
      1,
      "unexpected 'AND' at column 1, expected a condition: a property path, a value, a function or '('",
    );
  });

  it('reports text after a complete condition', () => {
    assertRejected(
      'tags.a = 1 tags.b = 2',
      12,
      "unexpected 'tags.b' at column 12, expected AND, OR or the end of the condition",
    );
  });

  it('reports a closing parenthesis without an opening one', () => {
    assertRejected('tags.a = 1)', 11, "unexpected ')' at column 11; it closes no '('");
  });

  it('reports an opening parenthesis that is never closed', () => {
    assertRejected('(tags.a = 1', 12, "unexpected end of input at column 12, expected AND, OR or ')'");
  });

  it('reports a comparison between two constants', () => {
    assertRejected(
      '1 = 1',
      1,
      'the comparison at column 1 compares two constants; one side must be a property path',
    );
  });

  it('reports an empty condition', () => {
    assertRejected('', 1, "the condition is empty (at column 1); write one such as tags.site = 'lab'");
    assertRejected('   ', 1, "the condition is empty (at column 1); write one such as tags.site = 'lab'");
  });

  it('gives the line and column of an error on a later line', () => {
    const error = rejected("tags.site = 'lab'\n  AND )");
    assert.equal(
      error.message,
      "unexpected ')' at line 2, column 7, expected a condition: a property path, a value, a function or '('",
    );
    assert.deepEqual([error.line, error.column, error.offset], [2, 7, 24]);
  });
});

describe('parseCondition IN and NIN errors', () => {
  it('reports an empty list', () => {
    assertRejected('tags.a IN []', 12, 'the list after IN is empty at column 12; give at least one value');
    assertRejected('tags.a NIN []', 13, 'the list after NIN is empty at column 13; give at least one value');
  });

  it('reports a missing list', () => {
    assertRejected(
      "tags.a IN 'x'",
      11,
      "unexpected string 'x' at column 11, expected '[' and a list of values after IN",
    );
  });

  it('reports a property path inside the list', () => {
    assertRejected(
      "tags.a IN ['x', tags.b]",
      17,
      "unexpected 'tags.b' at column 17, expected a constant: a quoted string, a number, true, false or null",
    );
  });

  it('reports a missing separator or closing bracket', () => {
    assertRejected(
      "tags.a IN ['x' 'y']",
      16,
      "unexpected string 'y' at column 16, expected ',' or ']' in the list of values",
    );
    assertRejected(
      "tags.a IN ['x'",
      15,
      "unexpected end of input at column 15, expected ',' or ']' in the list of values",
    );
  });
});

describe('parseCondition function errors', () => {
  it('names the supported functions when given another one', () => {
    assertRejected(
      "LOWER(tags.site) = 'x'",
      1,
      "unknown function 'LOWER' at column 1; supported: IS_DEFINED, STARTSWITH, ENDSWITH",
    );
    assertRejected(
      "tags.a = 1 AND CONTAINS(deviceId, 'x')",
      16,
      "unknown function 'CONTAINS' at column 16; supported: IS_DEFINED, STARTSWITH, ENDSWITH",
    );
  });

  it('rejects the routing spelling STARTS_WITH', () => {
    assertRejected(
      "STARTS_WITH(deviceId, 'x')",
      1,
      "unknown function 'STARTS_WITH' at column 1; supported: IS_DEFINED, STARTSWITH, ENDSWITH",
    );
  });

  it('requires a property path as the first argument', () => {
    assertRejected(
      "IS_DEFINED('x')",
      12,
      "unexpected string 'x' at column 12, expected a property path as the argument of IS_DEFINED",
    );
  });

  it('requires a string as the second argument of STARTSWITH and ENDSWITH', () => {
    assertRejected(
      'STARTSWITH(deviceId, 1)',
      22,
      'unexpected number 1 at column 22, expected a quoted string as the second argument of STARTSWITH',
    );
    assertRejected(
      'ENDSWITH(deviceId, tags.a)',
      20,
      "unexpected 'tags.a' at column 20, expected a quoted string as the second argument of ENDSWITH",
    );
  });

  it('reports missing separators and extra arguments', () => {
    assertRejected(
      "STARTSWITH(deviceId 'x')",
      21,
      "unexpected string 'x' at column 21, expected ',' and a string after the property path in STARTSWITH",
    );
    assertRejected(
      'IS_DEFINED(tags.a, tags.b)',
      18,
      "unexpected ',' at column 18, expected ')' after the argument of IS_DEFINED",
    );
    assertRejected(
      "ENDSWITH(deviceId, 'x', 'y')",
      23,
      "unexpected ',' at column 23, expected ')' after the arguments of ENDSWITH",
    );
  });
});

describe('parseCondition token errors', () => {
  it('rejects == with a hint', () => {
    assertRejected('tags.a == 1', 8, "'==' at column 8 is not an operator; use '=' to compare");
  });

  it('rejects a lone ! with a hint', () => {
    assertRejected('!tags.a = 1', 1, "unexpected '!' at column 1; use NOT to negate or '!=' to compare");
  });

  it('rejects arithmetic', () => {
    assertRejected(
      'tags.a + 1 = 2',
      8,
      "unexpected '+' at column 8; arithmetic is not supported in conditions",
    );
    assertRejected(
      'tags.a / 2 = 1',
      8,
      "unexpected '/' at column 8; arithmetic is not supported in conditions",
    );
    assertRejected(
      'tags.a % 2 = 1',
      8,
      "unexpected '%' at column 8; arithmetic is not supported in conditions",
    );
    assertRejected(
      'tags.a = 1 - 1',
      12,
      "unexpected '-' at column 12; property names may use only letters, digits and '_', and arithmetic is not supported in conditions",
    );
    assertRejected(
      'tags.a * 2 = 1',
      8,
      "unexpected '*' at column 8, expected a comparison operator, IN or NIN after 'tags.a'",
    );
  });

  it('rejects a hyphen in a property name, which the hub would read as subtraction', () => {
    assertRejected(
      "tags.my-key = 'x'",
      8,
      "unexpected '-' at column 8; property names may use only letters, digits and '_' (the hub reads '-' as subtraction)",
    );
  });

  it('rejects property names that do not start with a letter or underscore', () => {
    assertRejected(
      'tags.2nd = 1',
      6,
      "expected a property name after '.' at column 6; property names may use only letters, digits and '_' and start with a letter or '_'",
    );
    assertRejected(
      'tags. = 1',
      6,
      "expected a property name after '.' at column 6; property names may use only letters, digits and '_' and start with a letter or '_'",
    );
  });

  it('rejects a bare $ in a path', () => {
    assertRejected(
      'tags.$ = 1',
      7,
      "unexpected U+0020 at column 7; property names may use only letters, digits and '_' and start with a letter or '_'",
    );
  });

  it('rejects non-ASCII letters in property names', () => {
    assertRejected(
      "tags.café = 'x'",
      9,
      "unexpected 'é' at column 9; property names may use only letters, digits and '_'",
    );
  });

  it('rejects characters outside the language', () => {
    assertRejected("tags.a = 'x' @", 14, "unexpected character '@' at column 14");
    assertRejected('tags.a = {}', 10, "unexpected character '{' at column 10");
    assertRejected(
      'tags.a\u00a0= 1',
      7,
      "unexpected U+00A0 at column 7; property names may use only letters, digits and '_'",
    );
    assertRejected('tags.a = 1\u0000', 11, 'unexpected character U+0000 at column 11');
    assertRejected('tags.a = `x`', 10, "unexpected character '`' at column 10");
    assertRejected('tags.a = 1 🚀', 12, "unexpected character '🚀' at column 12");
  });

  it('rejects malformed numbers', () => {
    const hint = 'write numbers as plain decimals such as 42, -7 or 0.25';
    assertRejected('tags.a = 1e5', 10, `malformed number '1e5' at column 10; ${hint}`);
    assertRejected('tags.a = 1.', 10, `malformed number '1.' at column 10; ${hint}`);
    assertRejected('tags.a = 1.2.3', 10, `malformed number '1.2.3' at column 10; ${hint}`);
    assertRejected('tags.a = 0x1F', 10, `malformed number '0x1F' at column 10; ${hint}`);
    assertRejected('tags.a = .5', 10, "unexpected character '.' at column 10");
  });

  it('rejects numbers too large for a double', () => {
    assertRejected(`tags.a = ${'9'.repeat(400)}`, 10, 'number at column 10 is too large');
  });

  it('rejects an unterminated string', () => {
    assertRejected("tags.a = 'abc", 10, "unterminated string starting at column 10; close it with '");
    assertRejected('tags.a = "abc', 10, 'unterminated string starting at column 10; close it with "');
  });

  it('rejects escapes the hub does not define', () => {
    assertRejected(
      String.raw`tags.a = 'a\nb'`,
      12,
      String.raw`unsupported escape '\n' at column 12; strings allow \', \", \\ and \uXXXX`,
    );
    assertRejected(
      String.raw`tags.a = '\u12'`,
      11,
      String.raw`unsupported escape '\u' at column 11; strings allow \', \", \\ and \uXXXX`,
    );
  });

  it('rejects raw control characters inside strings', () => {
    assert.equal(
      rejected("tags.a = 'a\nb'").message,
      String.raw`control character U+000A inside a string at line 1, column 12; write it as \u000a`,
    );
    assertRejected(
      "tags.a = 'a\tb'",
      12,
      String.raw`control character U+0009 inside a string at column 12; write it as \u0009`,
    );
  });

  it('rejects reserved words used as property names', () => {
    assertRejected(
      "tags.group = 'a'",
      1,
      "'tags.group' at column 1 uses 'group', a reserved word of the hub query language, as a property name",
    );
    assertRejected(
      'tags.select.x = 1',
      1,
      "'tags.select.x' at column 1 uses 'select', a reserved word of the hub query language, as a property name",
    );
  });

  it('rejects a keyword where a value belongs', () => {
    assertRejected('tags.a = NOT', 10, "unexpected 'NOT' at column 10, expected a value");
  });
});

describe('parseCondition input checks', () => {
  it('rejects a value that is not a string, as a custom resource might carry', () => {
    const result = parseCondition(42 as unknown as string);
    assert.deepEqual(result, {
      ok: false,
      error: { message: 'the condition must be a string (at column 1)', offset: 0, line: 1, column: 1 },
    });
  });

  it('shows unprintable characters of a string escaped in messages', () => {
    assertRejected(
      String.raw`tags.a 'x\u000ay'`,
      8,
      String.raw`unexpected string 'x\u000ay' at column 8, expected a comparison operator, IN or NIN after 'tags.a'`,
    );
  });
});

describe('parseCondition limits', () => {
  it(`accepts a condition of exactly ${MAX_CONDITION_LENGTH} characters`, () => {
    const prefix = "tags.a = '";
    parsed(`${prefix}${'x'.repeat(MAX_CONDITION_LENGTH - prefix.length - 1)}'`);
  });

  it('rejects a longer condition', () => {
    const text = `tags.a = '${'x'.repeat(MAX_CONDITION_LENGTH)}'`;
    const error = rejected(text);
    assert.equal(
      error.message,
      `the condition has ${text.length} characters, more than the limit of ${MAX_CONDITION_LENGTH} (at column ${MAX_CONDITION_LENGTH + 1})`,
    );
    assert.equal(error.offset, MAX_CONDITION_LENGTH);
  });

  it(`accepts ${MAX_NESTING_DEPTH} levels of parentheses and rejects one more`, () => {
    const nested = (depth: number) => `${'('.repeat(depth)}tags.a = 1${')'.repeat(depth)}`;
    parsed(nested(MAX_NESTING_DEPTH));
    assertRejected(
      nested(MAX_NESTING_DEPTH + 1),
      MAX_NESTING_DEPTH + 1,
      `the condition nests deeper than ${MAX_NESTING_DEPTH} levels of '(' and NOT at column ${MAX_NESTING_DEPTH + 1}; simplify it`,
    );
  });

  it('counts NOT towards the nesting depth', () => {
    parsed(`${'NOT '.repeat(MAX_NESTING_DEPTH)}tags.a = 1`);
    const error = rejected(`${'NOT '.repeat(MAX_NESTING_DEPTH + 1)}tags.a = 1`);
    assert.equal(error.column, MAX_NESTING_DEPTH * 4 + 1);
  });

  it('does not count a long flat chain of AND as nesting', () => {
    parsed(Array.from({ length: 200 }, (_, i) => `tags.a${i} = ${i}`).join(' AND '));
  });
});

describe('parseCondition injection attempts', () => {
  it('rejects a comment smuggled after the condition', () => {
    assertRejected("tags.a = 'x' --", 14, "comments are not allowed: '--' at column 14");
    assertRejected("tags.a = 'x' /* */", 14, "comments are not allowed: '/*' at column 14");
  });

  it('rejects an always-true clause with a comment', () => {
    assertRejected(
      "tags.a = 'x' OR 1=1 --",
      17,
      'the comparison at column 17 compares two constants; one side must be a property path',
    );
  });

  it('rejects a statement separator', () => {
    assertRejected(
      "tags.a = 'x'; DROP TABLE devices",
      13,
      "unexpected ';' at column 13; a condition is a single expression without ';'",
    );
  });

  it('rejects a quote that tries to end the string early', () => {
    assertRejected("'; DROP", 1, "unterminated string starting at column 1; close it with '");
    assertRejected(
      "tags.a = 'x'; DROP '",
      13,
      "unexpected ';' at column 13; a condition is a single expression without ';'",
    );
    assertRejected("tags.a = 'x' OR 'y", 17, "unterminated string starting at column 17; close it with '");
  });

  it('rejects SQL-style doubled quotes, which the hub does not treat as an escape', () => {
    assertRejected(
      "tags.a = 'it''s'",
      14,
      "unexpected string 's' at column 14, expected AND, OR or the end of the condition",
    );
  });

  it('rejects breaking out of a surrounding WHERE with a parenthesis', () => {
    assertRejected("tags.a = 'x') OR (", 13, "unexpected ')' at column 13; it closes no '('");
  });

  it('rejects a subquery', () => {
    assertRejected(
      'deviceId IN (SELECT deviceId FROM devices)',
      13,
      "unexpected '(' at column 13, expected '[' and a list of values after IN",
    );
  });

  it('rejects query clauses appended to a condition', () => {
    assertRejected(
      "tags.a = 'x' GROUP BY status",
      14,
      "unexpected 'GROUP' at column 14, expected AND, OR or the end of the condition",
    );
  });

  it('keeps quotes inside a string literal harmless', () => {
    assert.deepEqual(parsed(String.raw`tags.a = 'x\' OR 1=1 --'`), {
      kind: 'compare',
      operator: '=',
      left: { kind: 'path', segments: ['tags', 'a'] },
      right: { kind: 'literal', value: "x' OR 1=1 --" },
    });
  });

  it('never reads properties from the object prototype', () => {
    const both = parsed('tags.constructor = 1 AND tags.__proto__ = 2');
    assert.deepEqual(both, {
      kind: 'and',
      operands: [
        { kind: 'compare', operator: '=', left: path('tags.constructor'), right: literal(1) },
        { kind: 'compare', operator: '=', left: path('tags.__proto__'), right: literal(2) },
      ],
    });
    // A twin without such tags: Object.prototype's names are not its tags, in any spelling.
    const untagged = { tags: { site: 'ams' } };
    for (const text of [
      'tags.constructor = 1',
      'tags.__proto__ = 2',
      'tags.Constructor = 1',
      'tags.__PROTO__ = 2',
    ]) {
      assert.equal(evaluateTruth(parsed(text), untagged), undefined, text);
      assert.equal(evaluateCondition(parsed(text), untagged), false, text);
    }
    assert.equal(evaluateCondition(parsed('IS_DEFINED(tags.constructor)'), untagged), false);
    assert.equal(evaluateCondition(parsed('IS_DEFINED(tags.__proto__)'), untagged), false);
    // A twin whose tags are named so (JSON.parse keeps `__proto__` as an own key) is selected by them.
    const tagged = JSON.parse('{"tags": {"constructor": 1, "__proto__": 2}}');
    assert.equal(evaluateCondition(both, tagged), true);
    assert.equal(evaluateCondition(parsed('tags.constructor = 2 OR tags.__proto__ = 1'), tagged), false);
    // Spelled otherwise, they are still found (names match case-insensitively), not shadowed by the prototype's.
    const otherwise = JSON.parse('{"tags": {"Constructor": 1, "__PROTO__": 2}}');
    assert.equal(evaluateCondition(both, otherwise), true);
  });
});
