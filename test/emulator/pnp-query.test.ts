import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import {
  type RunningEmulator,
  TEMPERATURE_CONTROLLER_MODEL_ID,
  THERMOSTAT_MODEL_ID,
} from '../../src/emulator/index.js';
import { planPnpFleet } from '../../src/emulator/pnp-fleet.js';
import { jobClientFromConnectionString } from '../../src/hub/sdk-transport.js';
import { errorCodeOf, registryOf, rejectionOf, startHubEmulator } from '../support/emulator-requests.js';
import { until } from '../support/until.js';

const SEED = 7;
const PNP = 40;
const PNP_OPTIONS = {
  seed: SEED,
  count: PNP,
  controllerRatio: 0.5,
  pnp: { legacyRatio: 0.25, slowRatio: 0 },
};

async function deviceIdsOf(registry: Registry, sql: string): Promise<string[]> {
  const query = registry.createQuery(sql, 7);
  const ids: string[] = [];
  while (query.hasMoreResults) {
    const page = await query.nextAsTwin();
    for (const twin of page.result) ids.push(twin.deviceId);
  }
  return ids;
}

const modelOf = (modelId: string) =>
  [...planPnpFleet(PNP_OPTIONS)].filter((d) => d.modelId === modelId).map((d) => d.deviceId);

describe('queries by IoT Plug and Play model id', () => {
  let emulator: RunningEmulator;
  let registry: Registry;

  before(async () => {
    emulator = await startHubEmulator({ seed: SEED, devices: 25, pnpDevices: PNP, pnpSlowRatio: 0 });
    registry = registryOf(emulator);
  });
  after(() => emulator.close());

  it('return exactly the devices of that model, through createQuery and nextAsTwin', async () => {
    const thermostats = modelOf(THERMOSTAT_MODEL_ID);
    const controllers = modelOf(TEMPERATURE_CONTROLLER_MODEL_ID);
    assert.ok(thermostats.length > 5 && controllers.length > 5, 'the seed gives both models');
    assert.deepEqual(
      await deviceIdsOf(registry, `SELECT * FROM devices WHERE modelId = '${THERMOSTAT_MODEL_ID}'`),
      thermostats,
    );
    assert.deepEqual(
      await deviceIdsOf(
        registry,
        `SELECT * FROM devices WHERE modelId = '${TEMPERATURE_CONTROLLER_MODEL_ID}'`,
      ),
      controllers,
    );
  });

  it('give each twin its modelId, in whole twins and in projections', async () => {
    const page = await registry
      .createQuery(`SELECT * FROM devices WHERE modelId = '${THERMOSTAT_MODEL_ID}'`)
      .nextAsTwin();
    assert.ok(page.result.every((twin) => twin.modelId === THERMOSTAT_MODEL_ID));
    const projected = await registry
      .createQuery(
        "SELECT deviceId, modelId FROM devices WHERE deviceId = 'device-000001' OR deviceId = 'pnp-000001'",
      )
      .next();
    assert.deepEqual(projected.result, [
      { deviceId: 'device-000001', modelId: '' },
      { deviceId: 'pnp-000001', modelId: [...planPnpFleet(PNP_OPTIONS)][0].modelId },
    ]);
  });

  it('count, combine with other conditions and name the field in any case, as the hub does', async () => {
    const counted = await registry
      .createQuery(`SELECT COUNT() AS thermostats FROM devices WHERE modelId = '${THERMOSTAT_MODEL_ID}'`)
      .next();
    assert.deepEqual(counted.result, [{ thermostats: modelOf(THERMOSTAT_MODEL_ID).length }]);
    const legacyControllers = [...planPnpFleet(PNP_OPTIONS)]
      .filter((d) => d.modelId === TEMPERATURE_CONTROLLER_MODEL_ID && d.tags.firmware === '1.9.3')
      .map((d) => d.deviceId);
    assert.deepEqual(
      await deviceIdsOf(
        registry,
        `SELECT * FROM devices WHERE ModelId = '${TEMPERATURE_CONTROLLER_MODEL_ID}' AND tags.firmware = '1.9.3'`,
      ),
      legacyControllers,
    );
    assert.deepEqual(
      await deviceIdsOf(registry, "SELECT * FROM devices WHERE STARTSWITH(modelId, 'dtmi:com:example:')"),
      [...planPnpFleet(PNP_OPTIONS)].map((d) => d.deviceId),
    );
  });

  it('refuse $modelId, which is no field of the twin', async () => {
    const error = await rejectionOf(
      registry.createQuery(`SELECT * FROM devices WHERE $modelId = '${THERMOSTAT_MODEL_ID}'`).next(),
    );
    assert.equal(error.response?.statusCode, 400);
    assert.equal(errorCodeOf(error.responseBody), 'ArgumentInvalid');
  });

  it('select the devices of a job by model id', async () => {
    const jobs = jobClientFromConnectionString(emulator.connectionString, { ca: emulator.caCert });
    await jobs.scheduleTwinUpdate('comfort', `modelId = '${THERMOSTAT_MODEL_ID}'`, {
      etag: '*',
      properties: { desired: { targetTemperature: 21 } },
    });
    await until(
      async () =>
        ((await jobs.getJob('comfort')).jobStatus as unknown as { status: string }).status === 'completed',
      10_000,
      'the job to complete',
    );
    assert.deepEqual(
      await deviceIdsOf(registry, 'SELECT * FROM devices WHERE properties.desired.targetTemperature = 21'),
      modelOf(THERMOSTAT_MODEL_ID),
    );
  });
});

describe('a seeded IoT Plug and Play fleet', () => {
  async function fleetOf(seed: number) {
    const emulator = await startHubEmulator({ seed, pnpDevices: 12, pnpSlowRatio: 0 });
    try {
      await emulator.pnpIdle();
      const registry = registryOf(emulator);
      const twins = await registry.createQuery('SELECT * FROM devices', 100).next();
      return (twins.result as Record<string, any>[]).map((twin) => ({
        deviceId: twin.deviceId,
        modelId: twin.modelId,
        tags: twin.tags,
        connectionState: twin.connectionState,
        reported: JSON.parse(
          JSON.stringify(twin.properties.reported, (key, value) => (key === '$metadata' ? undefined : value)),
        ),
        firmware: emulator.hub.pnp.status(twin.deviceId)?.firmware,
      }));
    } finally {
      await emulator.close();
    }
  }

  it('is the same for the same seed: models, tags, firmware and what the devices report', async () => {
    const first = await fleetOf(11);
    assert.deepEqual(await fleetOf(11), first);
    assert.notDeepEqual(await fleetOf(12), first);
    assert.ok(first.every((device) => device.firmware === device.tags.firmware));
  });
});
