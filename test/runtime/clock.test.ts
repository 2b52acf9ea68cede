// The system clock and `pause`: sleeps that end when their abort fires, timers that can be cancelled.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pause, systemClock } from '../../src/runtime/clock.js';
import { AbortedError } from '../../src/runtime/stop.js';
import { FakeClock } from '../support/fake-clock.js';

describe('systemClock', () => {
  it('tells the time in epoch milliseconds', () => {
    const before = Date.now();
    const now = systemClock.now();
    assert.ok(now >= before && now <= Date.now());
  });

  it('resolves a sleep that nothing cuts short', async () => {
    await systemClock.sleep(1);
  });

  it('ends a sleep as soon as its abort fires, with an AbortedError that carries the reason', async () => {
    const abort = new AbortController();
    const sleeping = systemClock.sleep(60_000, abort.signal);
    abort.abort(new Error('shutting down'));
    await assert.rejects(
      sleeping,
      (error) => error instanceof AbortedError && error.message === 'shutting down',
    );
  });

  it('rejects a sleep at once when its abort has already fired', async () => {
    await assert.rejects(systemClock.sleep(60_000, AbortSignal.abort()), AbortedError);
  });

  it('runs a timer once it is due, and never runs one that was cancelled', async () => {
    const ran: string[] = [];
    const cancelled = systemClock.setTimer(1, () => ran.push('cancelled'));
    cancelled.cancel();
    const due = new Promise<void>((resolve) => systemClock.setTimer(5, resolve));
    // Timers never keep the process alive (the test would end first): a sleep does, until the timer is due.
    await Promise.all([due, systemClock.sleep(10)]);
    assert.deepEqual(ran, []);
  });
});

describe('pause', () => {
  it('says true when the whole time passed', async () => {
    const clock = new FakeClock();
    const paused = pause(clock, 100, new AbortController().signal);
    await clock.advance(100);
    assert.equal(await paused, true);
  });

  it('says false, without throwing, when its stop came first', async () => {
    const clock = new FakeClock();
    const stop = new AbortController();
    const paused = pause(clock, 100, stop.signal);
    stop.abort();
    assert.equal(await paused, false);
    assert.equal(clock.pendingSleeps, 0, 'the sleep it cut short is gone');
  });
});
