import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHubError } from '../../src/hub/errors.js';
import { HubRateLimiter, type RatePermit, sharedHubRateLimiter } from '../../src/hub/rate-limiter.js';
import { type HubRateLimits, rateLimitsFor } from '../../src/hub/rate-limits.js';
import { FakeClock, settle, track } from '../support/fake-clock.js';

const SECOND = 1000;
const MINUTE = 60_000;

function limits(overrides: Partial<HubRateLimits> = {}): HubRateLimits {
  return {
    twinRead: { limit: 100, windowMs: SECOND },
    twinUpdate: { limit: 20, windowMs: SECOND },
    query: { limit: 20, windowMs: MINUTE },
    identity: { limit: 100, windowMs: MINUTE },
    job: { limit: 100, windowMs: MINUTE },
    ...overrides,
  };
}

/** Exact numbers: no headroom, a burst of half a window. */
function exactLimiter(clock: FakeClock, overrides: Partial<HubRateLimits> = {}) {
  return new HubRateLimiter('hub.example', limits(overrides), { clock, adaptation: { headroom: 0 } });
}

async function acquireMany(limiter: HubRateLimiter, count: number, abort?: AbortSignal) {
  const calls = Array.from({ length: count }, () => track(limiter.acquire('twinUpdate', { abort })));
  await settle();
  return { calls, granted: () => calls.filter((c) => c.settled() && c.error === undefined).length };
}

describe('HubRateLimiter', () => {
  it('hands out half a window at once, then one token per 1/rate', async () => {
    const clock = new FakeClock();
    const limiter = exactLimiter(clock);
    const { granted } = await acquireMany(limiter, 40);
    assert.equal(granted(), 10);
    await clock.advance(1000);
    assert.equal(granted(), 30);
    await clock.advance(499);
    assert.equal(granted(), 39);
    await clock.advance(1);
    assert.equal(granted(), 40);
  });

  it('keeps a share of the nominal rate as headroom by default', async () => {
    const clock = new FakeClock();
    const limiter = new HubRateLimiter('hub.example', limits(), { clock });
    assert.equal(limiter.snapshot().twinUpdate.currentPerSecond, 19.6);
    const { granted } = await acquireMany(limiter, 300);
    const burst = granted();
    assert.equal(burst, 9);
    await clock.advance(10_000);
    const paced = granted() - burst;
    assert.ok(paced >= 195 && paced <= 196, `${paced} tokens in 10 s at 19.6/s`);
  });

  it('serves waiters in the order they asked', async () => {
    const clock = new FakeClock();
    const limiter = exactLimiter(clock, { twinUpdate: { limit: 2, windowMs: SECOND } });
    const order: number[] = [];
    const calls = Array.from({ length: 5 }, (_, i) =>
      limiter.acquire('twinUpdate').then(() => order.push(i)),
    );
    await clock.advance(3000);
    await Promise.all(calls);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
  });

  it('rejects a cancelled waiter at once with a Cancelled error and gives its turn to the next', async () => {
    const clock = new FakeClock();
    const limiter = exactLimiter(clock, { twinUpdate: { limit: 2, windowMs: SECOND } });
    await limiter.acquire('twinUpdate');
    const controller = new AbortController();
    const cancelled = track(limiter.acquire('twinUpdate', { abort: controller.signal }));
    const next = track(limiter.acquire('twinUpdate'));
    await settle();
    controller.abort();
    await settle();
    assert.ok(cancelled.settled(), 'the cancelled waiter does not wait for a token');
    assert.ok(isHubError(cancelled.error, 'Cancelled'));
    assert.match((cancelled.error as Error).message, /twinUpdate token of hub hub\.example was cancelled/);
    await clock.advance(500);
    assert.ok(next.settled() && next.error === undefined, 'the next waiter got the token');
  });

  it('stops its timer when the last waiter cancels, so that it holds no process open', async () => {
    const clock = new FakeClock();
    const limiter = exactLimiter(clock, { query: { limit: 2, windowMs: MINUTE } });
    await limiter.acquire('query');
    const controller = new AbortController();
    const waiting = track(limiter.acquire('query', { abort: controller.signal }));
    await settle();
    assert.equal(clock.pendingSleeps, 1);
    controller.abort();
    await settle();
    assert.ok(isHubError(waiting.error, 'Cancelled'));
    assert.equal(clock.pendingSleeps, 0);
    const later = track(limiter.acquire('query'));
    await clock.advance(30_000);
    assert.ok(later.settled() && later.error === undefined, 'the limiter still serves new waiters');
  });

  it('rejects at once when the signal is already aborted', async () => {
    const limiter = exactLimiter(new FakeClock());
    await assert.rejects(limiter.acquire('query', { abort: AbortSignal.abort() }), (e) =>
      isHubError(e, 'Cancelled'),
    );
  });

  it('keeps classes apart: waiting queries do not hold back twin updates', async () => {
    const clock = new FakeClock();
    const limiter = exactLimiter(clock);
    const queries = Array.from({ length: 15 }, () => track(limiter.acquire('query')));
    await settle();
    assert.equal(queries.filter((q) => q.settled()).length, 10);
    const update = track(limiter.acquire('twinUpdate'));
    await settle();
    assert.ok(update.settled());
  });

  it('halves the rate on a 429 and ignores 429s of calls made at the old rate', async () => {
    const clock = new FakeClock();
    const limiter = exactLimiter(clock);
    const permits: RatePermit[] = await Promise.all(
      Array.from({ length: 5 }, () => limiter.acquire('twinUpdate')),
    );
    for (const permit of permits) limiter.reportThrottled(permit);
    assert.equal(limiter.snapshot().twinUpdate.currentPerSecond, 10);
    assert.equal(limiter.snapshot().twinUpdate.available, 0, 'a 429 empties the bucket');
    const { granted } = await acquireMany(limiter, 20);
    await clock.advance(1000);
    assert.equal(granted(), 10);
  });

  it('never slows a class below a tenth of its nominal rate', async () => {
    const clock = new FakeClock();
    const limiter = exactLimiter(clock);
    for (let i = 0; i < 10; i++) {
      const permit = await limiter.acquire('twinUpdate').catch(() => undefined);
      if (permit) limiter.reportThrottled(permit);
      await clock.advance(1000);
    }
    assert.equal(limiter.snapshot().twinUpdate.currentPerSecond, 2);
  });

  it('recovers to nominal by steps of a tenth, no more than one step per recovery interval', async () => {
    const clock = new FakeClock();
    const limiter = exactLimiter(clock);
    limiter.reportThrottled(await limiter.acquire('twinUpdate'));
    assert.equal(limiter.snapshot().twinUpdate.currentPerSecond, 10);
    const rates: number[] = [];
    for (let second = 1; second <= 14; second++) {
      await clock.advance(1000);
      limiter.reportSuccess(await limiter.acquire('twinUpdate'));
      rates.push(limiter.snapshot().twinUpdate.currentPerSecond);
    }
    assert.deepEqual(rates, [10, 12, 12, 14, 14, 16, 16, 18, 18, 20, 20, 20, 20, 20]);
  });

  it('takes new nominal rates when the hub changes tier, keeping its adaptation', async () => {
    const clock = new FakeClock();
    const limiter = exactLimiter(clock);
    limiter.reportThrottled(await limiter.acquire('twinUpdate'));
    limiter.configure(limits({ twinUpdate: { limit: 40, windowMs: SECOND } }));
    assert.deepEqual(
      {
        nominal: limiter.snapshot().twinUpdate.nominalPerSecond,
        current: limiter.snapshot().twinUpdate.currentPerSecond,
      },
      { nominal: 40, current: 20 },
    );
  });
});

describe('sharedHubRateLimiter', () => {
  it('gives everything that talks to one hub the same limiter, whatever the case of its host name', () => {
    const a = sharedHubRateLimiter('Shared-Hub.azure-devices.net', limits());
    const b = sharedHubRateLimiter('shared-hub.azure-devices.net', limits());
    const other = sharedHubRateLimiter('other-hub.azure-devices.net', limits());
    assert.equal(a, b);
    assert.notEqual(a, other);
  });

  it('takes the latest limits given for a hub', () => {
    const hub = 'reconfigured-hub.azure-devices.net';
    sharedHubRateLimiter(hub, limits());
    const limiter = sharedHubRateLimiter(hub, limits({ twinRead: { limit: 500, windowMs: SECOND } }));
    assert.equal(limiter.snapshot().twinRead.nominalPerSecond, 500);
  });
});

describe('rateLimitsFor', () => {
  it('sizes each class from the tier and units', () => {
    assert.deepEqual(rateLimitsFor('h', 'S1', 1), {
      twinRead: { limit: 100, windowMs: SECOND },
      twinUpdate: { limit: 50, windowMs: SECOND },
      query: { limit: 20, windowMs: MINUTE },
      identity: { limit: 100, windowMs: MINUTE },
      job: { limit: 100, windowMs: MINUTE },
    });
    const s3 = rateLimitsFor('h', 'S3', 2);
    assert.deepEqual([s3.twinUpdate.limit, s3.query.limit, s3.identity.limit], [500, 2000, 10_000]);
  });

  it('lets the resource override a class', () => {
    const overridden = rateLimitsFor('h', 'S1', 1, { twinUpdatesPerSecond: 20, queriesPerMinute: 5 });
    assert.deepEqual(overridden.twinUpdate, { limit: 20, windowMs: SECOND });
    assert.deepEqual(overridden.query, { limit: 5, windowMs: MINUTE });
  });

  it('refuses a basic tier, impossible units and a non-positive override with Configuration errors', () => {
    assert.throws(
      () => rateLimitsFor('h', 'B1', 1),
      (e) => isHubError(e, 'Configuration') && /no device or module twins/.test(e.message),
    );
    assert.throws(
      () => rateLimitsFor('h', 'S3', 11),
      (e) => isHubError(e, 'Configuration') && /at most 10 units/.test(e.message),
    );
    assert.throws(
      () => rateLimitsFor('h', 'S1', 1, { twinReadsPerSecond: 0 }),
      (e) => isHubError(e, 'Configuration'),
    );
  });
});
