// A hub call's own signal follows the step's until the call ends, and lets go of it then.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { followAbort, followSignal, unfollowAbort } from '../../src/runtime/follow-signal.js';

describe('followSignal', () => {
  it('aborts with the long-lived signal, with its reason', () => {
    const parent = new AbortController();
    const followers = Array.from({ length: 500 }, () => followSignal(parent.signal));
    parent.abort(new Error('draining'));
    assert.ok(followers.every((f) => f.signal.aborted));
    assert.equal((followers[0].signal.reason as Error).message, 'draining');
  });

  it('no longer follows once released: a call that ended is not aborted by a later stop', () => {
    const parent = new AbortController();
    const ended = followSignal(parent.signal);
    const running = followSignal(parent.signal);
    ended.release();
    ended.release();
    parent.abort();
    assert.deepEqual([ended.signal.aborted, running.signal.aborted], [false, true]);
  });

  it('starts aborted when the long-lived signal already is', () => {
    const parent = new AbortController();
    parent.abort('stopped');
    const followed = followSignal(parent.signal);
    assert.deepEqual([followed.signal.aborted, followed.signal.reason], [true, 'stopped']);
  });
});

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
