// The stop vocabulary: drain (start nothing new) and abort (abandon what is in flight), and the controller that
// fires them, the abort after a grace period.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortedError, drainAlso } from '../../src/runtime/stop.js';
import { StopController } from '../../src/runtime/stop-controller.js';
import { FakeClock } from '../support/fake-clock.js';

describe('StopController', () => {
  it('drains first, and aborts when the grace period is over', async () => {
    const clock = new FakeClock();
    const controller = new StopController(clock);
    controller.drain(new Error('shutting down'), 10_000);
    assert.equal(controller.stop.drain.aborted, true);
    assert.equal(controller.stop.abort.aborted, false);
    await clock.advance(9_999);
    assert.equal(controller.stop.abort.aborted, false);
    await clock.advance(1);
    assert.equal(controller.stop.abort.aborted, true);
    assert.equal((controller.stop.abort.reason as Error).message, 'shutting down: grace period over');
  });

  it('never aborts work that settled within the grace period', async () => {
    const clock = new FakeClock();
    const controller = new StopController(clock);
    controller.drain(new Error('stopping'), 1000);
    controller.settle();
    await clock.advance(60_000);
    assert.equal(controller.stop.abort.aborted, false);
  });

  it('keeps the earlier abort when asked to drain again with a longer grace period', async () => {
    const clock = new FakeClock();
    const controller = new StopController(clock);
    controller.drain(new Error('first'), 1000);
    controller.drain(new Error('second'), 60_000);
    await clock.advance(1000);
    assert.equal(controller.stop.abort.aborted, true);
    assert.equal((controller.stop.drain.reason as Error).message, 'first');
  });

  it('brings the abort forward when asked to drain again with less time to spare', async () => {
    // A shutdown's 20 s grace period under way when the hub's lease is about to lapse: the lapse's deadline wins.
    const clock = new FakeClock();
    const controller = new StopController(clock);
    controller.drain(new Error('shutting down'), 20_000);
    await clock.advance(5000);
    controller.drain(new Error('lost the lease'), 3000);
    await clock.advance(2999);
    assert.equal(controller.stop.abort.aborted, false);
    await clock.advance(1);
    assert.equal(controller.stop.abort.aborted, true);
    assert.equal((controller.stop.drain.reason as Error).message, 'shutting down');
  });

  it('gives a grace period to a drain that had none', async () => {
    const clock = new FakeClock();
    const controller = new StopController(clock);
    controller.drain(new Error('draining'));
    controller.drain(new Error('now with a deadline'), 500);
    await clock.advance(500);
    assert.equal(controller.stop.abort.aborted, true);
  });

  it('drains without ever aborting when no grace period is given', async () => {
    const clock = new FakeClock();
    const controller = new StopController(clock);
    controller.drain();
    await clock.advance(60_000);
    assert.equal(controller.draining, true);
    assert.equal(controller.stop.abort.aborted, false);
  });

  it('aborts at once on abort(), which drains too', () => {
    const controller = new StopController(new FakeClock());
    controller.abort(new Error('shutting down now'));
    assert.equal(controller.stop.abort.aborted, true);
    assert.equal(controller.stop.drain.aborted, true, 'an abort drains as well');
    assert.equal((controller.stop.abort.reason as Error).message, 'shutting down now');
  });
});

describe('stops made from signals', () => {
  it('drainAlso adds a reason to drain that does not abort', () => {
    const base = new StopController(new FakeClock());
    const edited = new AbortController();
    const stop = drainAlso(base.stop, undefined, edited.signal);
    assert.equal(stop.drain.aborted, false);
    edited.abort();
    assert.equal(stop.drain.aborted, true);
    assert.equal(stop.abort.aborted, false);
    base.abort();
    assert.equal(stop.abort.aborted, true);
  });

  it('drainAlso without a signal is the same stop', () => {
    const base = new StopController(new FakeClock());
    assert.equal(drainAlso(base.stop, undefined), base.stop);
  });

  it('AbortedError says why the wait was abandoned', () => {
    assert.equal(new AbortedError(new Error('leadership lost')).message, 'leadership lost');
    assert.equal(new AbortedError().message, 'aborted');
  });
});
