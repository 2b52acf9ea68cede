import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  jsonErrorOffset,
  lineAndColumn,
  offsetOfPath,
  parseBoundedJson,
} from '../../src/twin-models/json-text.js';

describe('JSON read from a ConfigMap key', () => {
  it('finds a syntax error where the platform reports one', () => {
    const broken = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom(',', '}', ']', ':', '"', 'x', '{', '['))
      .map(([json, at, c]) => {
        const i = at % (json.length + 1);
        return json.slice(0, i) + c + json.slice(i);
      });
    fc.assert(
      fc.property(broken, (text) => {
        try {
          JSON.parse(text);
          return true;
        } catch (e) {
          const reported = /at position (\d+)/.exec((e as Error).message);
          return reported === null || Number(reported[1]) === jsonErrorOffset(text);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('says what is wrong at which line and column', () => {
    const text = '[\n  {"a": 1},\n  {"a" 2}\n]';
    const parsed = parseBoundedJson(text, 1000, 'the model');
    assert.equal(parsed.ok, false);
    assert.deepEqual(!parsed.ok && lineAndColumn(text, parsed.offset!), { line: 3, column: 8 });
  });

  it('finds the line and column of a value, or of its key, by its path', () => {
    const text = '{\n  "contents": [\n    {"name": "speed", "schema": "doubel"}\n  ]\n}';
    assert.deepEqual(lineAndColumn(text, offsetOfPath(text, ['contents', 0, 'schema'])), {
      line: 3,
      column: 33,
    });
    assert.deepEqual(lineAndColumn(text, offsetOfPath(text, ['contents', 0, 'schema'], true)), {
      line: 3,
      column: 23,
    });
    assert.deepEqual(
      lineAndColumn(text, offsetOfPath(text, ['contents', 4])),
      { line: 2, column: 15 },
      'the nearest parent',
    );
  });

  it('refuses a 100 MB text unread, and JSON nested or counted beyond the limits', () => {
    // Not JSON at all: refused for its size, not for its syntax, so it was not parsed.
    const huge = `{${' '.repeat(100 * 1024 * 1024 - 1)}`;
    const parsed = parseBoundedJson(huge, 1024 * 1024, 'the model');
    assert.deepEqual(parsed, { ok: false, message: 'the model is over 100 MiB; at most 1 MiB is read' });
    assert.deepEqual(parseBoundedJson('['.repeat(100_000) + ']'.repeat(100_000), 1024 * 1024, 'the model'), {
      ok: false,
      message: 'the model nests more than 64 levels deep',
    });
    assert.deepEqual(parseBoundedJson(`[${'0,'.repeat(150_000)}0]`, 1024 * 1024, 'the model'), {
      ok: false,
      message: 'the model holds more than 100000 JSON values',
    });
  });
});
