import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import { planFleet } from '../../src/emulator/fleet.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { hubTime } from '../../src/emulator/twin-document.js';
import {
  AGENT_KEY,
  errorCodeOf,
  rawRequest,
  registryOf,
  rejectionOf,
  startHubEmulator,
} from '../support/emulator-requests.js';

type AnyTwin = Record<string, any>;

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
    emulator = await startHubEmulator({ devices: FLEET, seed: SEED });
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

  it('returns each SELECT * module twin as GET returns it, with the desired $metadata of the agent configuration', async () => {
    const deviceId = 'device-000003';
    await registry.updateModuleTwin(
      deviceId,
      'azureiotsecurity',
      { properties: { desired: { [AGENT_KEY]: { maxMessageSizeInBytes: { value: 131072 } } } } },
      '*',
    );
    await emulator.agentsIdle();
    const query = registry.createQuery(`SELECT * FROM devices.modules WHERE deviceId = '${deviceId}'`, 10);
    const page = await query.nextAsTwin();
    assert.equal(page.result.length, 1);
    const queried = page.result[0] as unknown as AnyTwin;
    const direct = (await registry.getModuleTwin(deviceId, 'azureiotsecurity'))
      .responseBody as unknown as AnyTwin;
    const lastUpdated = queried.properties.desired.$metadata[AGENT_KEY].$lastUpdated;
    assert.match(lastUpdated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    assert.equal(lastUpdated, direct.properties.desired.$metadata[AGENT_KEY].$lastUpdated);
    assert.equal(
      queried.properties.desired.$metadata[AGENT_KEY].maxMessageSizeInBytes.value.$lastUpdatedVersion,
      direct.properties.desired.$version,
    );
    assert.deepEqual(queried.properties, direct.properties);
    assert.equal(queried.etag, direct.etag);
    assert.equal(queried.version, direct.version);
  });

  it('returns each SELECT * device twin as the same JSON as GET /twins', async () => {
    const deviceId = 'device-000004';
    await registry.updateTwin(deviceId, { properties: { desired: { rollout: { wave: 2 } } } }, '*');
    await emulator.agentsIdle();
    const page = await rawRequest(emulator, {
      method: 'POST',
      path: '/devices/query?api-version=2021-04-12',
      body: { query: `SELECT * FROM devices WHERE deviceId = '${deviceId}'` },
    });
    assert.equal(page.status, 200);
    assert.equal(page.headers['x-ms-item-type'], 'twin');
    const direct = await rawRequest(emulator, {
      method: 'GET',
      path: `/twins/${deviceId}?api-version=2021-04-12`,
    });
    assert.deepEqual(page.json, [direct.json]);
    const [twin] = page.json as AnyTwin[];
    assert.equal(typeof twin.properties.desired.$metadata.rollout.wave.$lastUpdated, 'string');
    assert.equal(typeof twin.properties.reported.$metadata.$lastUpdated, 'string');
  });

  it('projects a whole section with its $metadata and $version, a single property as its value', async () => {
    const deviceId = 'device-000005';
    await registry.updateTwin(deviceId, { properties: { desired: { rollout: { wave: 3 } } } }, '*');
    const direct = (await registry.getTwin(deviceId)).responseBody as unknown as AnyTwin;
    const section = await registry
      .createQuery(`SELECT deviceId, properties.desired FROM devices WHERE deviceId = '${deviceId}'`)
      .next();
    assert.deepEqual(section.result, [{ deviceId, desired: direct.properties.desired }]);
    const value = await registry
      .createQuery(`SELECT properties.desired.rollout FROM devices WHERE deviceId = '${deviceId}'`)
      .next();
    assert.deepEqual(value.result, [{ rollout: { wave: 3 } }]);
    const metadata = await registry
      .createQuery(`SELECT properties.desired.$metadata FROM devices WHERE deviceId = '${deviceId}'`)
      .next();
    assert.deepEqual(metadata.result, [{ $metadata: direct.properties.desired.$metadata }]);
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
    emulator = await startHubEmulator({ queryLagMs: LAG, clock: { now: () => now } });
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

describe('query results under query lag', () => {
  let emulator: RunningEmulator;
  let registry: Registry;
  let now = Date.now();
  const LAG = 30_000;
  const DEVICE = 'stalled-1';

  before(async () => {
    emulator = await startHubEmulator({ queryLagMs: LAG, clock: { now: () => now } });
    emulator.addDevices([{ deviceId: DEVICE, online: false }]);
    registry = registryOf(emulator);
    now += LAG + 1;
  });
  after(() => emulator.close());

  const setDesired = (size: number) =>
    registry.updateModuleTwin(
      DEVICE,
      'azureiotsecurity',
      { properties: { desired: { [AGENT_KEY]: { maxMessageSizeInBytes: { value: size } } } } },
      '*',
    );
  const queried = async (collection: 'devices' | 'devices.modules') => {
    const page = await registry.createQuery(`SELECT * FROM ${collection}`, 10).nextAsTwin();
    assert.equal(page.result.length, 1);
    return page.result[0] as unknown as AnyTwin;
  };
  const direct = async () =>
    (await registry.getModuleTwin(DEVICE, 'azureiotsecurity')).responseBody as unknown as AnyTwin;
  const directDevice = async () => (await registry.getTwin(DEVICE)).responseBody as unknown as AnyTwin;

  it('shows the $metadata of the version queries see: the last write only after the lag', async () => {
    const firstWrite = now;
    await setDesired(131072);
    now += LAG + 1;
    const first = await queried('devices.modules');
    assert.equal(first.properties.desired.$metadata[AGENT_KEY].$lastUpdated, hubTime(firstWrite));
    assert.deepEqual(first.properties, (await direct()).properties);

    now += 5000;
    const secondWrite = now;
    await setDesired(65536);
    const current = await direct();
    assert.equal(current.properties.desired.$metadata[AGENT_KEY].$lastUpdated, hubTime(secondWrite));
    const lagging = await queried('devices.modules');
    assert.equal(lagging.properties.desired.$metadata[AGENT_KEY].$lastUpdated, hubTime(firstWrite));
    assert.equal(lagging.properties.desired.$version, current.properties.desired.$version - 1);
    assert.equal(lagging.properties.desired[AGENT_KEY].maxMessageSizeInBytes.value, 131072);
    assert.equal(lagging.etag, first.etag);

    now += LAG + 1;
    const caughtUp = await queried('devices.modules');
    assert.equal(caughtUp.properties.desired.$metadata[AGENT_KEY].$lastUpdated, hubTime(secondWrite));
    assert.deepEqual(caughtUp.properties, current.properties);
    assert.equal(caughtUp.etag, current.etag);
  });

  it('does the same for device twins', async () => {
    const write = now;
    await registry.updateTwin(DEVICE, { properties: { desired: { rollout: { wave: 1 } } } }, '*');
    const before = await queried('devices');
    assert.equal(before.properties.desired.rollout, undefined);
    assert.equal(before.properties.desired.$metadata.rollout, undefined);
    assert.deepEqual((await directDevice()).properties.desired.rollout, { wave: 1 });
    now += LAG + 1;
    const after = await queried('devices');
    assert.equal(after.properties.desired.$metadata.rollout.$lastUpdated, hubTime(write));
    assert.equal(after.properties.desired.$metadata.$lastUpdated, hubTime(write));
    assert.deepEqual(after.properties, (await directDevice()).properties);
  });
});
