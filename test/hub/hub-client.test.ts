// The client's own logic over a scripted Registry and a fake clock: attempts and tokens, 412 after a dropped
// connection, 409, read strategies, paging, cancellation, telemetry and logs.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { isHubError } from '../../src/hub/errors.js';
import { createHubClient, type HubClientOptions, type HubRegistry } from '../../src/hub/hub-client.js';
import { HubRateLimiter } from '../../src/hub/rate-limiter.js';
import { type HubRateLimits, rateLimitsFor } from '../../src/hub/rate-limits.js';
import { createLogger } from '../../src/observability/logger.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/settings.js';
import type { HubSnapshot } from '../../src/twins/types.js';
import { FakeClock, settle, track } from '../support/fake-clock.js';

const KEY = Buffer.from('fake-hub-key-0123456789abcdef012').toString('base64');
const CONNECTION_STRING = `HostName=unit.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY}`;

function sdkError(statusCode: number, code: string, headers: Record<string, string> = {}) {
  return Object.assign(new Error(code), {
    response: { statusCode, headers },
    responseBody: JSON.stringify({
      Message: `ErrorCode:${code};${code} text`,
      ExceptionMessage: 'Tracking ID:x',
    }),
  });
}
const reset = () => Object.assign(new Error('aborted'), { code: 'ECONNRESET' });

function twinJson(deviceId: string, desired: Record<string, unknown> = {}, etag = 'etag-1') {
  return {
    deviceId,
    moduleId: 'azureiotsecurity',
    etag,
    tags: {},
    properties: { desired: { ...desired, $version: 2, $metadata: {} }, reported: { $version: 1 } },
  };
}

type Script = Partial<Record<keyof HubRegistry, (...args: any[]) => Promise<unknown>>>;

/** A Registry whose answers the test scripts; records what it was asked. */
function scriptedRegistry(script: Script) {
  const calls: { method: string; args: unknown[] }[] = [];
  const queries: string[] = [];
  const record =
    (method: keyof HubRegistry) =>
    (...args: unknown[]) => {
      calls.push({ method, args });
      return script[method]!(...args);
    };
  const registry = {
    createQuery: (sql: string, pageSize?: number) => {
      queries.push(sql);
      return {
        next: (token?: string) => {
          calls.push({ method: 'query', args: [sql, pageSize, token] });
          return script.createQuery!(sql, token);
        },
      };
    },
    getTwin: record('getTwin'),
    getModuleTwin: record('getModuleTwin'),
    updateModuleTwin: record('updateModuleTwin'),
    addModule: record('addModule'),
  } as unknown as HubRegistry;
  return {
    registry,
    calls,
    queries,
    count: (method: string) => calls.filter((c) => c.method === method).length,
  };
}

function clientWith(
  script: Script,
  options: Partial<HubClientOptions> & { limits?: Partial<HubRateLimits>; clock?: FakeClock } = {},
) {
  const clock = options.clock ?? new FakeClock();
  const limits = { ...rateLimitsFor('unit.azure-devices.net', 'S1', 1), ...options.limits };
  const rateLimiter = new HubRateLimiter('unit.azure-devices.net', limits, {
    clock,
    adaptation: { headroom: 0 },
  });
  const scripted = scriptedRegistry(script);
  const client = createHubClient({
    connectionString: CONNECTION_STRING,
    tier: 'S1',
    units: 1,
    clock,
    rateLimiter,
    registry: scripted.registry,
    retry: { random: () => 0 },
    ...options,
  });
  return { client, clock, rateLimiter, ...scripted };
}

/** Devices of the snapshot without the security module. */
function withoutModule(snapshot: HubSnapshot): string[] {
  const modules = snapshot.twins.get(SECURITY_MODULE_ID)!;
  return snapshot.devices.filter((d) => !modules.has(d.deviceId)).map((d) => d.deviceId);
}

describe('HubClient over a scripted registry', () => {
  it('takes a token for every attempt, so that retries count against the quota', async () => {
    let attempts = 0;
    const { client, clock } = clientWith(
      {
        updateModuleTwin: async (deviceId: string) => {
          attempts++;
          if (attempts === 1) throw sdkError(503, 'ServiceUnavailable');
          return { responseBody: twinJson(deviceId) };
        },
      },
      { limits: { twinUpdate: { limit: 2, windowMs: 1000 } } },
    );
    const patch = track(
      client.patchTwin({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }, { tags: { a: 1 } }, 'etag-1'),
    );
    await clock.advance(499);
    assert.ok(!patch.settled(), 'the retry waits for the next token');
    await clock.advance(1);
    assert.equal((patch.value as { deviceId: string }).deviceId, 'd1');
    const { rateLimiterWaitSeconds, ...counters } = client.telemetry.snapshot().twinUpdate;
    assert.deepEqual(counters, {
      calls: { ok: 1 },
      attempts: 2,
      retries: 1,
      throttled: 0,
      answers: { '200': 1, '503': 1 },
    });
    assert.ok(rateLimiterWaitSeconds >= 0.4, `the retry waited ${rateLimiterWaitSeconds}s for its token`);
  });

  it('slows the class down when the hub answers 429, and counts the 429', async () => {
    let attempts = 0;
    const { client, clock, rateLimiter } = clientWith({
      updateModuleTwin: async (deviceId: string) => {
        if (++attempts === 1) throw sdkError(429, 'ThrottlingException', { 'retry-after': '1' });
        return { responseBody: twinJson(deviceId) };
      },
    });
    const patch = track(
      client.patchTwin({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }, { tags: { a: 1 } }, 'etag-1'),
    );
    await clock.advance(1000);
    assert.ok(patch.settled() && patch.error === undefined);
    assert.equal(rateLimiter.snapshot().twinUpdate.currentPerSecond, 25);
    assert.equal(client.telemetry.snapshot().twinUpdate.throttled, 1);
  });

  it("refuses '*' and empty etags without calling the hub", async () => {
    const { client, count } = clientWith({});
    for (const etag of ['*', '"*"', '']) {
      await assert.rejects(client.patchTwin({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }, {}, etag), (e) =>
        isHubError(e, 'InvalidArgument'),
      );
    }
    assert.equal(count('updateModuleTwin'), 0);
  });

  it('reports a 412 as PreconditionFailed at once, without a retry or a re-read', async () => {
    const { client, count } = clientWith({
      updateModuleTwin: async () => {
        throw sdkError(412, 'PreconditionFailed');
      },
    });
    await assert.rejects(
      client.patchTwin({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }, { tags: { a: 1 } }, 'stale'),
      (e) => isHubError(e, 'PreconditionFailed') && e.hubErrorCode === 412001,
    );
    assert.deepEqual([count('updateModuleTwin'), count('getModuleTwin')], [1, 0]);
  });

  it('takes a 412 after a dropped connection as success when the twin holds the patch', async () => {
    const patch = {
      properties: { desired: { [AGENT_CONFIGURATION_KEY]: { snapshotFrequency: { value: 'PT1H' } } } },
    };
    let attempts = 0;
    const { client, clock } = clientWith({
      updateModuleTwin: async () => {
        if (++attempts === 1) throw reset();
        throw sdkError(412, 'PreconditionFailed');
      },
      getModuleTwin: async (deviceId: string) => ({
        responseBody: twinJson(deviceId, patch.properties.desired, 'etag-2'),
      }),
    });
    const result = track(client.patchTwin({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }, patch, 'etag-1'));
    await clock.advance(100);
    assert.equal((result.value as { etag: string }).etag, 'etag-2');
  });

  it('reports a 412 after a dropped connection as PreconditionFailed when another writer got there first', async () => {
    let attempts = 0;
    const { client, clock } = clientWith({
      updateModuleTwin: async () => {
        if (++attempts === 1) throw reset();
        throw sdkError(412, 'PreconditionFailed');
      },
      getModuleTwin: async (deviceId: string) => ({
        responseBody: twinJson(deviceId, { someoneElse: 1 }, 'etag-9'),
      }),
    });
    const result = track(
      client.patchTwin(
        { slot: SECURITY_MODULE_ID, deviceId: 'd1' },
        { properties: { desired: { mine: 1 } } },
        'etag-1',
      ),
    );
    await clock.advance(100);
    assert.ok(isHubError(result.error, 'PreconditionFailed'));
  });

  it('answers existed when the module is already there, and created when it was not', async () => {
    const existing = new Set(['d1']);
    const { client, calls } = clientWith({
      addModule: async (module: { deviceId: string }) => {
        if (existing.has(module.deviceId)) throw sdkError(409, 'ModuleAlreadyExistsOnDevice');
        return { responseBody: module };
      },
    });
    assert.equal(await client.ensureModule({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }), 'existed');
    assert.equal(await client.ensureModule({ slot: SECURITY_MODULE_ID, deviceId: 'd2' }), 'created');
    assert.deepEqual(calls[1].args[0], { deviceId: 'd2', moduleId: 'azureiotsecurity' });
  });

  it('answers created when a retry after a dropped connection meets 409: the first attempt made the module', async () => {
    let attempts = 0;
    const { client, clock, count } = clientWith({
      addModule: async () => {
        // The hub created the module, then the connection dropped before its answer came back.
        if (++attempts === 1) throw reset();
        throw sdkError(409, 'ModuleAlreadyExistsOnDevice');
      },
    });
    const result = track(client.ensureModule({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }));
    await clock.advance(100);
    assert.equal(result.error, undefined);
    assert.equal(result.value, 'created');
    assert.equal(count('addModule'), 2);
  });

  it('answers existed when a 409 follows answers that made nothing: a 503, or a connection never made', async () => {
    for (const failure of [
      () => sdkError(503, 'ServiceUnavailable'),
      () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    ]) {
      let attempts = 0;
      const { client, clock } = clientWith({
        addModule: async () => {
          if (++attempts === 1) throw failure();
          throw sdkError(409, 'ModuleAlreadyExistsOnDevice');
        },
      });
      const result = track(client.ensureModule({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }));
      await clock.advance(100);
      assert.equal(result.value, 'existed', String(result.error));
      assert.equal(attempts, 2);
    }
  });

  it('reports a device that already has 50 modules as a final InvalidArgument, tried once', async () => {
    const { client, clock, count } = clientWith({
      addModule: async () => {
        throw sdkError(413, 'TooManyModulesOnDevice');
      },
    });
    const result = track(client.ensureModule({ slot: SECURITY_MODULE_ID, deviceId: 'full' }));
    await clock.advance(60_000);
    assert.ok(isHubError(result.error, 'InvalidArgument'), String(result.error));
    assert.match(result.error.message, /device full .*already has the most modules.*retrying will not help/);
    assert.equal(count('addModule'), 1);
    assert.deepEqual(clock.sleeps, []);
  });

  it('reports the daily quota (403002) as Throttled without retrying it', async () => {
    const { client, clock, count } = clientWith({
      updateModuleTwin: async () => {
        throw sdkError(403, 'IotHubQuotaExceeded');
      },
    });
    const result = track(
      client.patchTwin({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }, { tags: { a: 1 } }, 'etag-1'),
    );
    await clock.advance(60_000);
    assert.ok(isHubError(result.error, 'Throttled'), String(result.error));
    assert.equal(result.error.statusCode, 403);
    assert.match(result.error.message, /daily message quota/);
    assert.equal(count('updateModuleTwin'), 1);
    assert.deepEqual(client.telemetry.snapshot().twinUpdate.calls, { Throttled: 1 });
  });

  it("waits out an HTTP-date Retry-After measured by the client's clock", async () => {
    const clock = new FakeClock(Date.parse('2000-01-01T00:00:00Z'));
    let attempts = 0;
    const { client } = clientWith(
      {
        updateModuleTwin: async (deviceId: string) => {
          if (++attempts === 1) {
            throw sdkError(429, 'ThrottlingException', { 'retry-after': 'Sat, 01 Jan 2000 00:00:05 GMT' });
          }
          return { responseBody: twinJson(deviceId) };
        },
      },
      { clock },
    );
    const patch = track(
      client.patchTwin({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }, { tags: { a: 1 } }, 'etag-1'),
    );
    await clock.advance(4999);
    assert.ok(!patch.settled(), 'still waiting for the date the hub named');
    await clock.advance(1);
    assert.equal(patch.error, undefined);
    assert.ok(clock.sleeps.includes(5000), `sleeps: ${clock.sleeps.join(', ')}`);
  });

  it('re-reads a few devices by GET and leaves out those without the module', async () => {
    const { client, count } = clientWith({
      getModuleTwin: async (deviceId: string) => {
        if (deviceId === 'bare') throw sdkError(404, 'ModuleNotFound');
        return { responseBody: twinJson(deviceId) };
      },
    });
    const twins = await client.readTwins(SECURITY_MODULE_ID, ['a', 'b', 'bare', 'a']);
    assert.deepEqual([...twins.keys()].sort(), ['a', 'b']);
    assert.equal(count('getModuleTwin'), 3);
  });

  it('stops re-reading at the first error instead of sending the remaining GETs', async () => {
    const { client, count } = clientWith(
      {
        getModuleTwin: async () => {
          throw sdkError(401, 'IotHubUnauthorizedAccess');
        },
      },
      { maxConcurrentReads: 4 },
    );
    const ids = Array.from({ length: 100 }, (_, i) => `d${i}`);
    await assert.rejects(client.readTwins(SECURITY_MODULE_ID, ids), (e) => isHubError(e, 'Unauthorized'));
    await settle();
    assert.equal(count('getModuleTwin'), 4);
  });

  it('re-reads many devices by deviceId IN queries where queries are cheaper', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `dev-${i}`);
    const { client, queries, count } = clientWith({
      createQuery: async (sql: string) => {
        const listed = [...sql.matchAll(/'(dev-\d+)'/g)].map((m) => m[1]);
        return { result: listed.map((id) => twinJson(id)), message: { headers: {} } };
      },
    });
    const twins = await client.readTwins(SECURITY_MODULE_ID, ids);
    assert.equal(twins.size, 1000);
    assert.equal(count('getModuleTwin'), 0);
    assert.ok(
      queries.length >= 2 &&
        queries.every((q) => q.includes("moduleId = 'azureiotsecurity' AND deviceId IN [")),
    );
  });

  it('reads a snapshot page by page, following continuation tokens, and lists devices without the module', async () => {
    const pages: Record<string, { rows: unknown[]; next?: string }[]> = {
      devices: [{ rows: [{ deviceId: 'a' }, { deviceId: 'b' }], next: 't1' }, { rows: [{ deviceId: 'c' }] }],
      modules: [{ rows: [twinJson('a')], next: 'm1' }, { rows: [twinJson('c')] }],
    };
    const { client, calls } = clientWith({
      createQuery: async (sql: string, token?: string) => {
        const list = sql.includes('devices.modules') ? pages.modules : pages.devices;
        const page = token === undefined ? list[0] : list[1];
        return {
          result: page.rows,
          message: { headers: page.next ? { 'x-ms-continuation': page.next } : {} },
        };
      },
    });
    const snapshot = await client.readSnapshot([SECURITY_MODULE_ID]);
    assert.deepEqual(
      snapshot.devices.map((d) => d.deviceId),
      ['a', 'b', 'c'],
    );
    assert.deepEqual([...snapshot.twins.get(SECURITY_MODULE_ID)!.keys()], ['a', 'c']);
    const a = snapshot.twins.get(SECURITY_MODULE_ID)!.get('a')!;
    assert.deepEqual([a.desiredVersion, a.reportedVersion], [2, 1], 'the $versions of both sides');
    assert.deepEqual(withoutModule(snapshot), ['b']);
    assert.deepEqual(snapshot.queryCalls, { devices: 2, modules: 2 });
    assert.ok(
      calls.every((c) => c.args[1] === 1000),
      'every page asks for 1,000 items',
    );
  });

  it('stops a snapshot waiting for query quota as soon as the caller cancels', async () => {
    const { client } = clientWith(
      { createQuery: async () => ({ result: [], message: { headers: { 'x-ms-continuation': 'more' } } }) },
      { limits: { query: { limit: 2, windowMs: 60_000 } } },
    );
    const controller = new AbortController();
    const snapshot = track(client.readSnapshot([SECURITY_MODULE_ID], { abort: controller.signal }));
    await settle();
    assert.ok(!snapshot.settled(), 'waiting for a query token');
    controller.abort();
    await settle();
    assert.ok(isHubError(snapshot.error, 'Cancelled'));
    assert.match((snapshot.error as Error).message, /on hub unit\.azure-devices\.net was cancelled/);
  });

  it('stops waiting for a request in flight as soon as the caller cancels', async () => {
    const { client } = clientWith({ updateModuleTwin: () => new Promise(() => {}) });
    const controller = new AbortController();
    const patch = track(
      client.patchTwin({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }, { tags: { a: 1 } }, 'etag-1', {
        abort: controller.signal,
      }),
    );
    await settle();
    controller.abort();
    await settle();
    assert.ok(isHubError(patch.error, 'Cancelled'));
    assert.equal(client.telemetry.snapshot().twinUpdate.calls.Cancelled, 1);
  });

  it('writes one debug line per call, with the device, the result and the retries, and never the key', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    const logger = createLogger({ level: 'debug', format: 'json', stream });
    let patches = 0;
    const { client } = clientWith(
      {
        updateModuleTwin: async (deviceId: string) => {
          if (++patches === 1) throw reset();
          return { responseBody: twinJson(deviceId) };
        },
        getModuleTwin: async () => {
          throw sdkError(401, 'IotHubUnauthorizedAccess');
        },
      },
      { logger },
    );
    await client.patchTwin({ slot: SECURITY_MODULE_ID, deviceId: 'd1' }, { tags: { a: 1 } }, 'etag-1');
    await assert.rejects(client.readTwins(SECURITY_MODULE_ID, ['d2']), (e) => isHubError(e, 'Unauthorized'));
    await settle();
    const entries = lines.map((line) => JSON.parse(line));
    assert.deepEqual(
      entries.map((c) => [c.message, c.operation, c.deviceId, c.result, c.attempts, c.retriedAfter]),
      [
        ['hub call', 'patchModuleTwin', 'd1', 'ok', 2, ['ECONNRESET']],
        ['hub call', 'getModuleTwin', 'd2', 'Unauthorized', 1, undefined],
      ],
    );
    assert.ok(!lines.join('\n').includes(KEY));
  });
});
