// Exponential backoff with full jitter: the window doubles up to its bound, and the wait falls anywhere in it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BackoffPolicy, backoffDelayMs, backoffWindowMs } from '../../src/runtime/backoff.js';

const policy: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

describe('backoff', () => {
  it('doubles its window with each retry and never goes past the bound', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 20].map((retry) => backoffWindowMs(policy, retry)),
      [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000],
    );
  });

  it('waits anywhere from nothing to just under the window', () => {
    assert.equal(backoffDelayMs({ ...policy, random: () => 0 }, 3), 0);
    assert.equal(backoffDelayMs({ ...policy, random: () => 0.5 }, 3), 1000);
    assert.equal(backoffDelayMs({ ...policy, random: () => 0.99999 }, 3), 1999);
  });

  it('draws at random by default, within the window', () => {
    const delays = Array.from({ length: 500 }, () => backoffDelayMs(policy, 4));
    assert.ok(delays.every((d) => d >= 0 && d < 4000));
    assert.ok(new Set(delays).size > 100, 'the waits are spread out, not all alike');
  });
});
