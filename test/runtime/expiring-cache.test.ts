import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpiringCache } from '../../src/runtime/expiring-cache.js';

describe('ExpiringCache', () => {
  it('gives a value until it expires, by a lifetime or a time', () => {
    let now = 1000;
    const cache = new ExpiringCache<string>(10, () => now);
    cache.set('a', 'kept a minute', 60_000);
    cache.setUntil('b', 'kept to 5000', 5000);
    now = 4999;
    assert.equal(cache.get('a'), 'kept a minute');
    assert.equal(cache.get('b'), 'kept to 5000');
    now = 5000;
    assert.equal(cache.get('b'), undefined, 'expired at its time');
    now = 61_000;
    assert.equal(cache.get('a'), undefined, 'expired after its lifetime');
    assert.equal(cache.entryCount, 0, 'expired entries read are dropped');
  });

  it('never holds more than its size: the oldest entry goes, and a key set again is the newest', () => {
    const cache = new ExpiringCache<number>(3, () => 0);
    for (const [i, key] of ['a', 'b', 'c'].entries()) cache.set(key, i, 1000);
    cache.set('a', 10, 1000);
    cache.set('d', 3, 1000);
    assert.equal(cache.get('b'), undefined, 'b was the oldest');
    assert.deepEqual(
      ['a', 'c', 'd'].map((k) => cache.get(k)),
      [10, 2, 3],
    );
    for (let i = 0; i < 10_000; i++) cache.set(`flood-${i}`, i, 1000);
    assert.equal(cache.entryCount, 3);
  });
});
