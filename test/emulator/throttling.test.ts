import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  checkTierUnits,
  hubQuotas,
  maxConcurrentJobs,
  quotaFor,
  TokenBucket,
} from '../../src/quotas/index.js';
import {
  errorCodeOf,
  rawRequest,
  registryOf,
  rejectionOf,
  startHubEmulator,
} from '../support/emulator-requests.js';

describe('tier quotas', () => {
  it('gives S1 the per-unit and fixed rates of the quota table', () => {
    assert.deepEqual(quotaFor('S1', 2, 'registry'), { limit: 200, windowMs: 60_000 });
    assert.deepEqual(quotaFor('S1', 2, 'query'), { limit: 40, windowMs: 60_000 });
    assert.deepEqual(quotaFor('S1', 2, 'twinRead'), { limit: 100, windowMs: 1000 });
    assert.deepEqual(quotaFor('S1', 2, 'twinUpdate'), { limit: 50, windowMs: 1000 });
    assert.deepEqual(quotaFor('S1', 2, 'jobDeviceOperations'), { limit: 10, windowMs: 1000 });
  });

  it('gives S2 the higher of its floor and its per-unit rate', () => {
    assert.equal(quotaFor('S2', 4, 'twinUpdate').limit, 50);
    assert.equal(quotaFor('S2', 20, 'twinUpdate').limit, 100);
    assert.equal(quotaFor('S2', 20, 'twinRead').limit, 200);
    assert.equal(quotaFor('S2', 20, 'jobDeviceOperations').limit, 20);
  });

  it('gives S3 its per-unit rates', () => {
    const quotas = hubQuotas('S3', 2);
    assert.equal(quotas.twinRead.limit, 1000);
    assert.equal(quotas.twinUpdate.limit, 500);
    assert.equal(quotas.query.limit, 2000);
    assert.equal(quotas.registry.limit, 10_000);
    assert.equal(quotas.configurations.limit, 40);
  });

  it('limits concurrent jobs by tier and checks unit counts', () => {
    assert.deepEqual([maxConcurrentJobs('S1'), maxConcurrentJobs('S2'), maxConcurrentJobs('S3')], [1, 5, 10]);
    assert.equal(checkTierUnits('S1', 1), undefined);
    assert.match(checkTierUnits('S3', 11) ?? '', /at most 10 units/);
    assert.match(checkTierUnits('S1', 0) ?? '', /at least 1/);
  });
});

describe('the token bucket', () => {
  it('allows a full burst, then refills at its rate on the injected clock', () => {
    let now = 0;
    const bucket = new TokenBucket({ capacity: 5, refillPerMs: 1 / 100, clock: { now: () => now } });
    for (let i = 0; i < 5; i++) assert.ok(bucket.tryTake());
    assert.equal(bucket.tryTake(), false);
    assert.equal(bucket.msUntilAvailable(), 100);
    now += 99;
    assert.equal(bucket.tryTake(), false);
    now += 1;
    assert.ok(bucket.tryTake());
    now += 10_000;
    assert.equal(bucket.available(), 5);
  });

  it('takes nothing when a request is larger than what is left', () => {
    const bucket = new TokenBucket({ capacity: 3, refillPerMs: 0.001, clock: { now: () => 0 } });
    assert.equal(bucket.tryTake(4), false);
    assert.equal(bucket.available(), 3);
    assert.equal(bucket.msUntilAvailable(4), Number.POSITIVE_INFINITY);
  });
});

describe('throttling by the emulator', () => {
  let emulator: RunningEmulator;
  let registry: Registry;
  const now = Date.now();

  before(async () => {
    emulator = await startHubEmulator({ devices: 1, throttle: true, tier: 'S1', clock: { now: () => now } });
    registry = registryOf(emulator);
  });
  after(() => emulator.close());

  it('answers 429 ThrottlingException past the S1 query quota of 20 per minute', async () => {
    for (let i = 0; i < 20; i++) await registry.createQuery('SELECT * FROM devices').next();
    const error = await rejectionOf(registry.createQuery('SELECT * FROM devices').next());
    assert.equal(error.constructor.name, 'ThrottlingError');
    assert.equal(error.response?.statusCode, 429);
    assert.equal(errorCodeOf(error.responseBody), 'ThrottlingException');
    assert.equal(error.response?.headers['retry-after'], '3');
    const stats = emulator.hub.stats.snapshot();
    assert.equal(stats.throttled.query, 1);
    assert.equal(stats.requests.query['200'], 20);
  });

  it('throttles each class separately', async () => {
    const twin = await registry.getTwin('device-000001');
    assert.equal(twin.responseBody.deviceId, 'device-000001');
  });
});

describe('the emulator with --no-throttle', () => {
  it('never answers 429', async () => {
    const now = Date.now();
    const emulator = await startHubEmulator({ devices: 1, throttle: false, clock: { now: () => now } });
    try {
      const registry = registryOf(emulator);
      for (let i = 0; i < 30; i++) await registry.createQuery('SELECT * FROM devices').next();
      assert.equal(emulator.hub.stats.count('query', 429), 0);
    } finally {
      await emulator.close();
    }
  });
});

describe('quota overrides', () => {
  const patchTwin = (emulator: RunningEmulator, round: number) =>
    rawRequest(emulator, {
      method: 'PATCH',
      path: '/twins/device-000001?api-version=2021-04-12',
      body: { tags: { round } },
    });
  const readTwin = (emulator: RunningEmulator) =>
    rawRequest(emulator, { method: 'GET', path: '/twins/device-000001?api-version=2021-04-12' });
  const query = (emulator: RunningEmulator) =>
    rawRequest(emulator, {
      method: 'POST',
      path: '/devices/query?api-version=2021-04-12',
      body: { query: 'SELECT * FROM devices' },
    });

  it('answers 429 ThrottlingException past N requests of the overridden class in a window, and only there', async () => {
    let now = Date.now();
    const emulator = await startHubEmulator({
      devices: 1,
      throttle: true,
      tier: 'S1',
      quotas: { twinUpdate: { limit: 3, windowMs: 1000 } },
      clock: { now: () => now },
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await patchTwin(emulator, i)).status, 200);
      const throttled = await patchTwin(emulator, 3);
      assert.equal(throttled.status, 429);
      assert.match((throttled.json as { Message: string }).Message, /^ErrorCode:ThrottlingException;/);
      assert.equal(throttled.headers['retry-after'], '1');
      // The other classes keep the tier's quotas: 60 twin reads of S1's 100/s, and 20 queries a minute.
      for (let i = 0; i < 60; i++) assert.equal((await readTwin(emulator)).status, 200);
      for (let i = 0; i < 20; i++) assert.equal((await query(emulator)).status, 200);
      assert.equal((await query(emulator)).status, 429);
      // A third of the window gives one twin update back.
      now += 334;
      assert.equal((await patchTwin(emulator, 4)).status, 200);
      assert.equal((await patchTwin(emulator, 5)).status, 429);
      const stats = emulator.hub.stats.snapshot();
      assert.deepEqual(stats.throttled, { twinUpdate: 2, query: 1 });
      assert.equal(stats.requests.twinUpdate['200'], 4);
      assert.equal(stats.requests.twinRead['200'], 60);
    } finally {
      await emulator.close();
    }
  });

  it('raises a quota above the tier: 30 queries a minute on S1', async () => {
    const now = Date.now();
    const emulator = await startHubEmulator({
      devices: 1,
      throttle: true,
      quotas: { query: { limit: 30, windowMs: 60_000 } },
      clock: { now: () => now },
    });
    try {
      for (let i = 0; i < 30; i++) assert.equal((await query(emulator)).status, 200);
      const throttled = await query(emulator);
      assert.equal(throttled.status, 429);
      assert.equal(throttled.headers['retry-after'], '2');
      assert.deepEqual(emulator.hub.throttle.quotas.query, { limit: 30, windowMs: 60_000 });
      assert.deepEqual(emulator.hub.throttle.quotas.twinUpdate, { limit: 50, windowMs: 1000 });
    } finally {
      await emulator.close();
    }
  });

  it('applies with the tier quotas off, throttling only the overridden classes', async () => {
    const now = Date.now();
    const emulator = await startHubEmulator({
      devices: 1,
      throttle: false,
      quotas: { twinUpdate: { limit: 2, windowMs: 1000 } },
      clock: { now: () => now },
    });
    try {
      for (let i = 0; i < 30; i++) assert.equal((await query(emulator)).status, 200);
      assert.equal((await patchTwin(emulator, 1)).status, 200);
      assert.equal((await patchTwin(emulator, 2)).status, 200);
      assert.equal((await patchTwin(emulator, 3)).status, 429);
      assert.deepEqual(emulator.hub.stats.snapshot().throttled, { twinUpdate: 1 });
      const info = (await rawRequest(emulator, { method: 'GET', path: '/_emulator/info' })).json as Record<
        string,
        unknown
      >;
      assert.equal(info.throttle, false);
      assert.deepEqual(info.quotas, { twinUpdate: { limit: 2, windowMs: 1000 } });
    } finally {
      await emulator.close();
    }
  });

  it('is not kept in the state file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'quota-state-'));
    const statePath = join(dir, 'hub.state');
    try {
      const now = Date.now();
      const first = await startHubEmulator({
        devices: 1,
        statePath,
        quotas: { twinUpdate: { limit: 1, windowMs: 1000 } },
        clock: { now: () => now },
      });
      assert.equal((await patchTwin(first, 1)).status, 200);
      assert.equal((await patchTwin(first, 2)).status, 429);
      await first.close();
      assert.doesNotMatch(await readFile(statePath, 'utf8'), /quota|windowMs/);
      const second = await startHubEmulator({ statePath, clock: { now: () => now } });
      try {
        for (let i = 0; i < 5; i++) assert.equal((await patchTwin(second, i)).status, 200);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown class or an impossible quota', async () => {
    await assert.rejects(
      startHubEmulator({ quotas: { twinWrite: { limit: 1, windowMs: 1000 } } as never }),
      /unknown operation class 'twinWrite' in quotas; use one of registry, twinRead, twinUpdate, query/,
    );
    await assert.rejects(
      startHubEmulator({ quotas: { query: { limit: 0, windowMs: 1000 } } }),
      /quotas.query.limit must be a whole number of at least 1, not 0/,
    );
    await assert.rejects(
      startHubEmulator({ quotas: { query: { limit: 5, windowMs: -1 } } }),
      /quotas.query.windowMs must be a number above 0/,
    );
  });
});
