// The hub client's page reader: a query's pages one at a time, asked for only as the caller takes them, with the
// pipeline's pacing, retries and typed errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHubError } from '../../src/hub/errors.js';
import { createHubClient, type HubRegistry } from '../../src/hub/hub-client.js';
import { HubRateLimiter } from '../../src/hub/rate-limiter.js';
import { rateLimitsFor } from '../../src/hub/rate-limits.js';
import { FakeClock } from '../support/fake-clock.js';

const KEY = Buffer.from('fake-hub-key-0123456789abcdef012').toString('base64');
const CONNECTION_STRING = `HostName=unit.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY}`;

type Page = { result: unknown[]; message: { headers: Record<string, string> } };

function moduleTwin(deviceId: string) {
  return {
    deviceId,
    moduleId: 'azureiotsecurity',
    etag: 'e1',
    tags: {},
    properties: { desired: {}, reported: {} },
  };
}

/** A registry whose query answers `answer(sql, token)`; records the tokens asked for. */
function clientAnswering(answer: (sql: string, token: string | undefined) => Promise<Page>) {
  const asked: (string | undefined)[] = [];
  const registry = {
    createQuery: (sql: string) => ({
      next: (token?: string) => {
        asked.push(token);
        return answer(sql, token);
      },
    }),
  } as unknown as HubRegistry;
  const clock = new FakeClock();
  const client = createHubClient({
    connectionString: CONNECTION_STRING,
    tier: 'S1',
    units: 1,
    clock,
    registry,
    rateLimiter: new HubRateLimiter(
      'unit.azure-devices.net',
      rateLimitsFor('unit.azure-devices.net', 'S3', 1),
      {
        clock,
        adaptation: { headroom: 0 },
      },
    ),
    retry: { random: () => 0, baseMs: 0, maxMs: 0 },
  });
  return { client, asked };
}

const page = (rows: unknown[], next?: string): Page => ({
  result: rows,
  message: { headers: next ? { 'x-ms-continuation': next } : {} },
});

describe('HubClient pages', () => {
  it('asks for the next page only when the caller takes it, following the continuation tokens', async () => {
    const { client, asked } = clientAnswering(async (_sql, token) =>
      token === undefined ? page([{ deviceId: 'a' }, { deviceId: 'b' }], 't1') : page([{ deviceId: 'c' }]),
    );
    const pages = client.devicePages()[Symbol.asyncIterator]();
    const first = await pages.next();
    assert.deepEqual(
      (first.value as { deviceId: string }[]).map((d) => d.deviceId),
      ['a', 'b'],
    );
    assert.deepEqual(asked, [undefined], 'the second page is not read before it is wanted');
    const second = await pages.next();
    assert.deepEqual(
      (second.value as { deviceId: string }[]).map((d) => d.deviceId),
      ['c'],
    );
    assert.equal((await pages.next()).done, true);
    assert.deepEqual(asked, [undefined, 't1']);
  });

  it('reads security module twins as the planner reads them, from the module query', async () => {
    const queries: string[] = [];
    const { client } = clientAnswering(async (sql) => {
      queries.push(sql);
      return page([moduleTwin('a')]);
    });
    const twins = [];
    for await (const rows of client.twinPages('azureiotsecurity')) twins.push(...rows);
    assert.deepEqual(
      twins.map((t) => [t.deviceId, t.etag]),
      [['a', 'e1']],
    );
    assert.match(queries[0], /FROM devices\.modules WHERE moduleId = 'azureiotsecurity'/);
  });

  it('retries a failed page with the same token', async () => {
    let failures = 0;
    const { client, asked } = clientAnswering(async (_sql, token) => {
      if (token === 't1' && failures++ === 0)
        throw Object.assign(new Error('unavailable'), { response: { statusCode: 503, headers: {} } });
      return token === undefined ? page([{ deviceId: 'a' }], 't1') : page([{ deviceId: 'b' }]);
    });
    const ids: string[] = [];
    for await (const rows of client.devicePages()) ids.push(...rows.map((d) => d.deviceId));
    assert.deepEqual(ids, ['a', 'b']);
    assert.deepEqual(asked, [undefined, 't1', 't1']);
  });

  it('ends the iteration with a typed error when the hub refuses the credentials', async () => {
    const { client, asked } = clientAnswering(async () => {
      throw Object.assign(new Error('Unauthorized'), {
        response: { statusCode: 401, headers: {} },
        responseBody: JSON.stringify({ Message: 'ErrorCode:IotHubUnauthorizedAccess;Unauthorized' }),
      });
    });
    await assert.rejects(
      async () => {
        for await (const _rows of client.devicePages());
      },
      (error) => isHubError(error, 'Unauthorized'),
    );
    assert.equal(asked.length, 1, 'a refusal is not retried');
  });
});
