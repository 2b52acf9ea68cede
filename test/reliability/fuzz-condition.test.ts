// Fuzzing the target-condition language (src/condition): arbitrary strings, token soup, and valid conditions
// with a few characters changed. Whatever the text, the parsers return a value: a condition, or an error at
// a place inside the text. They never throw, never take long, and what they accept reads back the same.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type ConditionError,
  formatCondition,
  MAX_CONDITION_LENGTH,
  MAX_NESTING_DEPTH,
  MAX_QUERY_LENGTH,
  parseCondition,
  parseQuery,
} from '../../src/condition/index.js';
import { anyLiteral, anyText, expressionArbitrary, validName } from '../support/condition-arbitraries.js';

/** A fixed seed keeps the suite repeatable; FUZZ_SEED and FUZZ_RUNS explore further (a soak run). */
const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 12);
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 20_000);

/** Words and symbols of the grammar and its neighbours: text that gets past the lexer more often than noise. */
const TOKENS = [
  'tags',
  'tags.site',
  'tags.a.b',
  'deviceId',
  'status',
  'connectionState',
  'properties.desired.x',
  '$version',
  'AND',
  'OR',
  'NOT',
  'and',
  'IN',
  'NIN',
  'IS_DEFINED',
  'STARTSWITH',
  'ENDSWITH',
  'SELECT',
  '*',
  'FROM',
  'devices',
  'devices.modules',
  'WHERE',
  'GROUP BY',
  '=',
  '!=',
  '<>',
  '<',
  '<=',
  '>',
  '>=',
  '==',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
  "'",
  '"',
  "'a'",
  '"b"',
  "'it''s'",
  "'\\''",
  "'\\u0041'",
  '\\',
  '0',
  '-1',
  '1.5e3',
  '1e999',
  '0x10',
  'true',
  'null',
  'NaN',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\u00a0',
  '\u2028',
  '\u0000',
  '\u001b',
  '\ud800',
  '😀',
  '--',
  '/*',
  ';',
  '`',
];

const tokenSoup = fc
  .tuple(fc.array(fc.oneof(fc.constantFrom(...TOKENS), anyText), { maxLength: 40 }), fc.constantFrom('', ' '))
  .map(([parts, separator]) => parts.join(separator));

/** A formatted valid condition with up to three edits: a character inserted, deleted or replaced. */
const mutatedCondition = fc
  .tuple(
    expressionArbitrary({ name: validName, literal: anyLiteral, text: anyText }).map(formatCondition),
    fc.array(
      fc.tuple(
        fc.constantFrom('insert', 'delete', 'replace'),
        fc.nat(),
        fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 2 })),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([text, edits]) => {
    let out = text;
    for (const [how, at, what] of edits) {
      const i = out.length === 0 ? 0 : at % (out.length + 1);
      if (how === 'insert') out = out.slice(0, i) + what + out.slice(i);
      else if (how === 'delete') out = out.slice(0, i) + out.slice(i + 1);
      else out = out.slice(0, i) + what + out.slice(i + 1);
    }
    return out;
  });

/** Inputs at the limits: long, deep, many operands. */
const extremes = fc.oneof(
  fc.nat({ max: 3 * MAX_NESTING_DEPTH }).map((n) => `${'('.repeat(n)}tags.a = 1${')'.repeat(n)}`),
  fc.nat({ max: 3 * MAX_NESTING_DEPTH }).map((n) => `${'NOT '.repeat(n)}tags.a = 1`),
  fc.nat({ max: 3 * MAX_NESTING_DEPTH }).map((n) => `${'('.repeat(n)}`),
  fc.integer({ min: 1, max: 2000 }).map((n) => Array(n).fill('tags.a = 1').join(' AND ')),
  fc.integer({ min: 1, max: 3000 }).map((n) => `tags.a IN [${Array(n).fill("'x'").join(',')}]`),
  fc
    .integer({ min: MAX_CONDITION_LENGTH - 5, max: MAX_QUERY_LENGTH + 5 })
    .map((n) => `tags.a = '${'x'.repeat(Math.max(0, n - 12))}'`),
  fc.string({ unit: 'binary', minLength: 100, maxLength: 5000 }),
);

const anyInput = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 4, arbitrary: tokenSoup },
  { weight: 4, arbitrary: mutatedCondition },
  {
    weight: 2,
    arbitrary: expressionArbitrary({ name: validName, literal: anyLiteral, text: anyText }).map(
      formatCondition,
    ),
  },
  { weight: 1, arbitrary: extremes },
);

/** The line and column of `offset` as a person counts them (lines split at '\n'). */
function placeOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

function assertPositioned(text: string, error: ConditionError): void {
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  assert.ok(Number.isInteger(error.offset) && error.offset >= 0, `offset ${error.offset}`);
  // An error past the end of a text over the length limit is placed at the limit.
  assert.ok(error.offset <= Math.max(text.length, 0), `offset ${error.offset} of ${text.length}`);
  assert.deepEqual({ line: error.line, column: error.column }, placeOf(text, error.offset));
}

describe('fuzzing the condition parser', () => {
  it('returns a condition or a positioned error for any text, and what it accepts reads back the same', () => {
    const counts = {
      inputs: 0,
      accepted: 0,
      rejected: 0,
      canonicalTooLong: 0,
      queriesAccepted: 0,
      slowestMs: 0,
    };
    fc.assert(
      fc.property(anyInput, (text) => {
        counts.inputs++;
        const started = performance.now();
        for (const dialect of ['deviceTarget', 'hubQuery'] as const) {
          const result = parseCondition(text, { dialect });
          if (!result.ok) {
            if (dialect === 'deviceTarget') counts.rejected++;
            assertPositioned(text, result.error);
            continue;
          }
          if (dialect === 'deviceTarget') counts.accepted++;
          const formatted = formatCondition(result.expression);
          // The canonical text spaces lists and operators out: past the length limit it cannot be read back.
          if (formatted.length > MAX_CONDITION_LENGTH) {
            counts.canonicalTooLong++;
            continue;
          }
          const again = parseCondition(formatted, { dialect });
          assert.ok(again.ok, `${JSON.stringify(text)} formats as ${JSON.stringify(formatted)}, rejected`);
          assert.deepStrictEqual(again.expression, result.expression);
        }
        const query = parseQuery(`SELECT * FROM devices.modules WHERE ${text}`);
        if (query.ok) counts.queriesAccepted++;
        else assertPositioned(`SELECT * FROM devices.modules WHERE ${text}`, query.error);
        counts.slowestMs = Math.max(counts.slowestMs, performance.now() - started);
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
    );
    console.log(
      `fuzzed ${counts.inputs} conditions: ${counts.accepted} accepted and read back the same (${counts.canonicalTooLong} canonical forms over the length limit not read back), ${counts.rejected} rejected with a position, ${counts.queriesAccepted} queries accepted, 0 throws; slowest ${counts.slowestMs.toFixed(1)} ms`,
    );
    assert.ok(counts.slowestMs < 1000, `${counts.slowestMs} ms`);
  });
});
