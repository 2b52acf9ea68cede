import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HubError, isHubError } from '../../src/hub/errors.js';
import {
  DEFAULT_RETRY,
  isRetryable,
  type RetryOptions,
  retryDelayMs,
  withRetry,
} from '../../src/hub/retry.js';
import { backoffDelayMs } from '../../src/runtime/backoff.js';
import { FakeClock, settle, track } from '../support/fake-clock.js';

const options = (overrides: Partial<RetryOptions> = {}): RetryOptions => ({
  ...DEFAULT_RETRY,
  baseMs: 100,
  maxMs: 2000,
  maxAttempts: 6,
  ...overrides,
});

const answer = (statusCode: number, extra: Partial<ConstructorParameters<typeof HubError>[0]> = {}) =>
  new HubError({
    kind: statusCode === 429 ? 'Throttled' : statusCode >= 500 ? 'Transient' : 'InvalidArgument',
    statusCode,
    message: `status ${statusCode}`,
    ...extra,
  });
const network = (networkCode: string) =>
  new HubError({ kind: 'Transient', networkCode, message: networkCode });

describe('backoff', () => {
  it('doubles its window per retry up to the cap, with full jitter below the window', () => {
    const top = options({ random: () => 0.9999 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((retry) => backoffDelayMs(top, retry)),
      [99, 199, 399, 799, 1599, 1999, 1999],
    );
    assert.equal(backoffDelayMs(options({ random: () => 0 }), 5), 0);
    assert.equal(backoffDelayMs(options({ random: () => 0.5 }), 3), 200);
  });

  it('spreads retries over the whole window', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const delays = Array.from({ length: 2000 }, () => backoffDelayMs(options({ random }), 4));
    assert.ok(Math.min(...delays) < 80 && Math.max(...delays) > 720, 'uses the whole 0..800 ms window');
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    assert.ok(mean > 360 && mean < 440, `mean ${mean} is about half the window`);
  });

  it("waits at least as long as the hub's Retry-After, but never beyond the cap", () => {
    const zero = options({ random: () => 0 });
    assert.equal(retryDelayMs(answer(429, { retryAfterMs: 1000 }), 1, zero), 1000);
    assert.equal(retryDelayMs(answer(429, { retryAfterMs: 60_000 }), 1, zero), 2000);
  });
});

describe('what is retried', () => {
  it('retries 408, 429, 500, 502, 503, 504 and dropped connections', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) assert.ok(isRetryable(answer(status)), `${status}`);
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED'])
      assert.ok(isRetryable(network(code)), code);
  });

  it('returns other answers to the caller at once', () => {
    for (const status of [400, 401, 403, 404, 409, 412, 413])
      assert.ok(!isRetryable(answer(status)), `${status}`);
    assert.ok(!isRetryable(new HubError({ kind: 'Configuration', networkCode: 'ENOTFOUND', message: 'x' })));
    assert.ok(
      !isRetryable(new HubError({ kind: 'Transient', message: 'an error without status or socket code' })),
    );
  });

  it('stops after the last attempt', () => {
    assert.notEqual(retryDelayMs(answer(503), 5, options()), undefined);
    assert.equal(retryDelayMs(answer(503), 6, options()), undefined);
  });
});

describe('withRetry', () => {
  const run = (clock: FakeClock, extra: Partial<Parameters<typeof withRetry>[1]> = {}) => ({
    clock,
    options: options({ random: () => 0.5 }),
    toError: (e: unknown) => e as HubError,
    ...extra,
  });

  it('survives two 503s and returns the third answer, after backoffs of 50 and 100 ms', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const retries: number[] = [];
    const result = track(
      withRetry(
        async () => {
          calls++;
          if (calls < 3) throw answer(503);
          return 'twin';
        },
        run(clock, { onRetry: (_e, retry, delay) => retries.push(retry, delay) }),
      ),
    );
    await clock.advance(149);
    assert.ok(!result.settled());
    await clock.advance(1);
    assert.equal(result.value, 'twin');
    assert.equal(calls, 3);
    assert.deepEqual(retries, [1, 50, 2, 100]);
  });

  it('gives up with the last error after the last attempt', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const result = track(
      withRetry(async () => {
        calls++;
        throw answer(500);
      }, run(clock)),
    );
    await clock.advance(60_000);
    assert.equal(calls, 6);
    assert.equal((result.error as HubError).statusCode, 500);
  });

  it('does not retry a precondition failure', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls++;
        throw answer(412, { kind: 'PreconditionFailed' });
      }, run(new FakeClock())),
      (e) => isHubError(e, 'PreconditionFailed'),
    );
    assert.equal(calls, 1);
  });

  it('stops waiting at once when cancelled during a backoff', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    let calls = 0;
    const result = track(
      withRetry(
        async () => {
          calls++;
          throw answer(503);
        },
        run(clock, { abort: controller.signal }),
      ),
    );
    await settle();
    assert.equal(clock.pendingSleeps, 1);
    controller.abort();
    await settle();
    assert.ok(isHubError(result.error, 'Cancelled'));
    assert.equal(calls, 1);
  });
});
