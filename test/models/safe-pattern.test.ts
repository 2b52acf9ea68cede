import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  compileSafePattern,
  PatternBudgetExceeded,
  withPatternBudget,
} from '../../src/twin-models/safe-pattern/pattern-machine.js';

const LIMIT = 2_000;

function refusal(pattern: string): string {
  try {
    compileSafePattern(pattern, LIMIT);
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
}

describe('patterns judged in linear time', () => {
  it('matches as the platform does on the patterns schemas use', () => {
    const cases: [string, string[]][] = [
      ['^[a-z][a-z0-9-]{0,62}$', ['thermostat-1', 'Thermostat', '', 'a'.repeat(63), 'a'.repeat(64), '1abc']],
      ['^\\d{4}-\\d{2}-\\d{2}$', ['2024-05-31', '2024-5-31', 'x2024-05-31']],
      ['colou?r', ['color', 'the colour red', 'colr']],
      ['^(on|off|auto)$', ['on', 'off', 'auto', 'onoff', '']],
      ['\\bfan\\b', ['the fan is on', 'fanatic', 'fan']],
      ['^\\p{Lu}\\p{Ll}+$', ['Élan', 'élan', 'E']],
      ['^[^\\s]+$', ['a b', 'ab', '']],
      ['^.{2,3}$', ['ab', 'abcd', 'a\nb', '😀😀']],
      ['^(?:ab)*c?$', ['', 'abab', 'ababc', 'aba']],
      ['(?<unit>[CF])$', ['21C', '70F', '21K']],
      ['^\\u{1F600}+$', ['😀😀', '😀a']],
      ['^(a|)*$', ['aaa', 'b']],
      ['x*', ['', 'yyy']],
    ];
    for (const [pattern, values] of cases) {
      const safe = compileSafePattern(pattern, LIMIT);
      const native = new RegExp(pattern, 'u');
      for (const value of values) {
        assert.equal(safe.test(value), native.test(value), `${pattern} on ${JSON.stringify(value)}`);
      }
    }
  });

  it('agrees with the platform on generated patterns and values', () => {
    const atom = fc.constantFrom(
      'a',
      'b',
      '.',
      '[ab]',
      '[^a]',
      '\\d',
      '\\w',
      '(a|b)',
      '(?:ab)',
      '\\b',
      '^',
      '$',
    );
    const quantifier = fc.constantFrom('', '*', '+', '?', '{2}', '{1,3}', '{0,}', '*?');
    const pattern = fc
      .array(fc.tuple(atom, quantifier), { minLength: 1, maxLength: 6 })
      .map((parts) => parts.map(([a, q]) => (/^[\^$]|\\b/.test(a) ? a : a + q)).join(''));
    const value = fc.stringMatching(/^[ab1 _-]{0,12}$/);
    fc.assert(
      fc.property(
        pattern,
        value,
        (p, v) => compileSafePattern(p, LIMIT).test(v) === new RegExp(p, 'u').test(v),
      ),
      { numRuns: 3000 },
    );
  });

  it('judges a value of 32 KiB against a catastrophic pattern in steps linear in its length', () => {
    // A backtracking engine takes 2^n steps here; a budget of 20 steps a character would stop it at once.
    const safe = compileSafePattern('^(a+)+$', LIMIT);
    assert.equal(
      withPatternBudget(20 * 32 * 1024, () => safe.test(`${'a'.repeat(32 * 1024)}!`)),
      false,
    );
    const nested = compileSafePattern('^(\\w+\\s?)*$', LIMIT);
    assert.equal(
      withPatternBudget(20 * 30_000, () => nested.test(`${'word '.repeat(6000)}!`)),
      false,
    );
  });

  it('stops a judging whose patterns take more steps than its budget', () => {
    const wide = compileSafePattern('[ab]{0,999}c', LIMIT);
    assert.throws(
      () => withPatternBudget(1_000_000, () => wide.test('a'.repeat(32 * 1024))),
      PatternBudgetExceeded,
    );
    assert.equal(
      withPatternBudget(1_000_000, () => wide.test('abc')),
      true,
      'a short value fits the budget',
    );
  });

  it('refuses backreferences and lookaround, which need backtracking', () => {
    assert.equal(refusal('(a)\\1'), 'backreferences (\\1) are not supported');
    assert.equal(refusal('(?<x>a)\\k<x>'), 'backreferences (\\k) are not supported');
    assert.equal(refusal('a(?=b)'), 'lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported');
    assert.equal(refusal('(?<!a)b'), 'lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported');
  });

  it('refuses repetition counts that multiply past the limit, and invalid patterns', () => {
    assert.equal(
      refusal('((a{100}){100})'),
      `it compiles to more than ${LIMIT} steps per character (its repetition counts multiply)`,
    );
    assert.equal(
      refusal('a{99999999999}'),
      `it compiles to more than ${LIMIT} steps per character (its repetition counts multiply)`,
    );
    assert.equal(refusal('(abc'), 'Unterminated group');
    assert.equal(refusal('('.repeat(60) + ')'.repeat(60)), 'groups nest more than 50 deep');
  });
});
