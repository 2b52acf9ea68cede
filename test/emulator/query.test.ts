import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import { planFleet } from '../../src/emulator/fleet.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { errorCodeOf, rawRequest, registryOf, rejectionOf, startTestEmulator } from './helpers.js';

const FLEET = 2500;
const SEED = 42;

async function allPages(registry: Registry, sql: string, pageSize: number) {
  const query = registry.createQuery(sql, pageSize);
  const pages: unknown[][] = [];
  const tokens: (string | undefined)[] = [];
  while (query.hasMoreResults) {
    const page = await query.nextAsTwin();
    pages.push(page.result);
    tokens.push(query.continuationToken);
  }
  return { pages, tokens };
}

describe('queries', () => {
  let emulator: RunningEmulator;
  let registry: Registry;

  before(async () => {
    emulator = await startTestEmulator({ devices: FLEET, seed: SEED });
    registry = registryOf(emulator);
  });
  after(() => emulator.close());

  it('pages through 2,500 module twins with createQuery and nextAsTwin', async () => {
    const { pages, tokens } = await allPages(registry, 'SELECT * FROM devices.modules', 1000);
    assert.deepEqual(
      pages.map((p) => p.length),
      [1000, 1000, 500],
    );
    assert.equal(typeof tokens[0], 'string');
    assert.equal(tokens[2], undefined);
    const twins = pages.flat() as { deviceId: string; moduleId: string; etag: string }[];
    assert.equal(new Set(twins.map((t) => t.deviceId)).size, FLEET);
    assert.ok(twins.every((t) => t.moduleId === 'azureiotsecurity' && typeof t.etag === 'string'));
  });

  it('ends without an empty page when the last page is full', async () => {
    const { pages } = await allPages(registry, 'SELECT * FROM devices', 500);
    assert.deepEqual(
      pages.map((p) => p.length),
      [500, 500, 500, 500, 500],
    );
  });

  it('uses a page size of 100 when the client gives none', async () => {
    const query = registry.createQuery('SELECT * FROM devices');
    const page = await query.next();
    assert.equal((page.result as unknown[]).length, 100);
    assert.equal(page.message.headers['x-ms-item-type'], 'twin');
  });

  it('selects by tags as the seeded fleet has them', async () => {
    const expected = [...planFleet(SEED, FLEET)]
      .filter((d) => d.tags.environment === 'staging')
      .map((d) => d.deviceId);
    const { pages } = await allPages(
      registry,
      "SELECT * FROM devices WHERE tags.environment = 'staging'",
      1000,
    );
    const ids = (pages.flat() as { deviceId: string }[]).map((t) => t.deviceId);
    assert.deepEqual(ids.sort(), expected.sort());
    assert.ok(expected.length > 100);
  });

  it('narrows module twins with deviceId IN [...]', async () => {
    const sql =
      "SELECT * FROM devices.modules WHERE moduleId = 'azureiotsecurity' AND deviceId IN ['device-000007', 'device-000011']";
    const { pages } = await allPages(registry, sql, 100);
    assert.deepEqual(
      (pages.flat() as { deviceId: string }[]).map((t) => t.deviceId),
      ['device-000007', 'device-000011'],
    );
  });

  it('counts with COUNT() AS and projects fields as raw items', async () => {
    const count = await registry
      .createQuery("SELECT COUNT() AS total FROM devices.modules WHERE moduleId = 'azureiotsecurity'")
      .next();
    assert.deepEqual(count.result, [{ total: FLEET }]);
    assert.equal(count.message.headers['x-ms-item-type'], 'raw');
    const fields = await registry
      .createQuery("SELECT deviceId, tags.site FROM devices WHERE deviceId = 'device-000001'")
      .next();
    const [row] = fields.result as Record<string, unknown>[];
    assert.deepEqual(Object.keys(row).sort(), ['deviceId', 'site']);
    assert.equal(fields.message.headers['x-ms-item-type'], 'raw');
  });

  it('answers 400 to a query it cannot parse and to a forged continuation token', async () => {
    const error = await rejectionOf(registry.createQuery('SELECT * FROM everything').next());
    assert.equal(error.response?.statusCode, 400);
    assert.equal(errorCodeOf(error.responseBody), 'ArgumentInvalid');
    const forged = await rawRequest(emulator, {
      method: 'POST',
      path: '/devices/query?api-version=2021-04-12',
      headers: { 'x-ms-continuation': 'bm90IGEgdG9rZW4=' },
      body: { query: 'SELECT * FROM devices' },
    });
    assert.equal(forged.status, 400);
  });
});

describe('query lag', () => {
  let emulator: RunningEmulator;
  let registry: Registry;
  let now = Date.now();
  const LAG = 30_000;

  before(async () => {
    emulator = await startTestEmulator({ queryLagMs: LAG, clock: () => now });
    emulator.addDevices([{ deviceId: 'lagged-1', securityModule: false }]);
    registry = registryOf(emulator);
  });
  after(() => emulator.close());

  const canaries = async () => {
    const page = await registry.createQuery("SELECT * FROM devices WHERE tags.ring = 'canary'", 100).next();
    return (page.result as { deviceId: string }[]).map((t) => t.deviceId);
  };

  it('shows a write to direct reads at once and to queries only after the lag', async () => {
    now += LAG + 1;
    await registry.updateTwin('lagged-1', { tags: { ring: 'canary' } }, '*');
    const direct = await registry.getTwin('lagged-1');
    assert.equal((direct.responseBody as unknown as { tags: { ring: string } }).tags.ring, 'canary');
    assert.deepEqual(await canaries(), []);
    now += LAG - 1;
    assert.deepEqual(await canaries(), []);
    now += 2;
    assert.deepEqual(await canaries(), ['lagged-1']);
  });

  it('keeps showing a deleted device to queries until the lag has passed', async () => {
    await registry.delete('lagged-1');
    await rejectionOf(registry.getTwin('lagged-1'));
    assert.deepEqual(await canaries(), ['lagged-1']);
    now += LAG + 1;
    assert.deepEqual(await canaries(), []);
  });

  it('hides a new device from queries until the lag has passed', async () => {
    await registry.create({ deviceId: 'lagged-2' });
    const all = async () =>
      (await registry.createQuery('SELECT * FROM devices', 100).next()).result as unknown[];
    assert.equal((await all()).length, 0);
    now += LAG + 1;
    assert.equal((await all()).length, 1);
  });
});
