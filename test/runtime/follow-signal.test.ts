// A hub call (or a wait) follows the step's signal until it ends, and lets go of it then.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { followAbort, unfollowAbort } from '../../src/runtime/follow-signal.js';

describe('followAbort', () => {
  it('tells each follower once when the long-lived signal aborts, and not those that left', () => {
    const parent = new AbortController();
    const told: number[] = [];
    const listeners = Array.from({ length: 500 }, (_, i) => () => told.push(i));
    for (const listener of listeners) followAbort(parent.signal, listener);
    for (const listener of listeners.slice(0, 250)) unfollowAbort(parent.signal, listener);
    parent.abort();
    parent.abort();
    assert.deepEqual(
      told,
      Array.from({ length: 250 }, (_, i) => 250 + i),
    );
  });

  it('tells a follower at once when the signal has already aborted', () => {
    let told = 0;
    followAbort(AbortSignal.abort(), () => told++);
    assert.equal(told, 1);
  });
});
