import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import {
  CURRENT_FIRMWARE,
  LEGACY_FIRMWARE,
  type PnpDeviceStatus,
  type RunningEmulator,
  TEMPERATURE_CONTROLLER_MODEL_ID,
  THERMOSTAT_MODEL_ID,
} from '../../src/emulator/index.js';
import { errorCodeOf, rawRequest, registryOf, startHubEmulator } from '../support/emulator-requests.js';
import { until } from '../support/until.js';

type AnyTwin = Record<string, any>;

const DEFAULT_ACK = { value: 20, ac: 203, av: 0, ad: 'default value, no desired value received yet' };

async function twinOf(registry: Registry, deviceId: string): Promise<AnyTwin> {
  return (await registry.getTwin(deviceId)).responseBody as unknown as AnyTwin;
}

/** Writes desired properties as a service does and returns the desired `$version` the hub gave them. */
async function setDesired(registry: Registry, deviceId: string, desired: AnyTwin): Promise<number> {
  const twin = (await registry.updateTwin(deviceId, { properties: { desired } } as never, '*'))
    .responseBody as unknown as AnyTwin;
  return twin.properties.desired.$version;
}

function withoutMetadata(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, inner) => (key === '$metadata' ? undefined : inner)));
}

describe('simulated IoT Plug and Play devices', () => {
  let emulator: RunningEmulator;
  let registry: Registry;

  before(async () => {
    emulator = await startHubEmulator({ pnpSlowRatio: 0 });
    registry = registryOf(emulator);
    emulator.addDevices([
      { deviceId: 'thermostat-a', modelId: THERMOSTAT_MODEL_ID, firmware: CURRENT_FIRMWARE.version },
      { deviceId: 'thermostat-legacy', modelId: THERMOSTAT_MODEL_ID, firmware: LEGACY_FIRMWARE.version },
      {
        deviceId: 'controller-a',
        modelId: TEMPERATURE_CONTROLLER_MODEL_ID,
        firmware: CURRENT_FIRMWARE.version,
      },
    ]);
    await emulator.pnpIdle();
  });
  after(() => emulator.close());

  it('carry their model id at the top of their twin, and no security module', async () => {
    const twin = await twinOf(registry, 'controller-a');
    assert.equal(twin.modelId, TEMPERATURE_CONTROLLER_MODEL_ID);
    assert.equal((await twinOf(registry, 'thermostat-a')).modelId, THERMOSTAT_MODEL_ID);
    assert.deepEqual((await registry.getModulesOnDevice('controller-a')).responseBody, []);
  });

  it('report their read-only properties and, with ac 203 and av 0, the default of each writable one on start', async () => {
    const thermostat = (await twinOf(registry, 'thermostat-a')).properties.reported;
    assert.equal(typeof thermostat.maxTempSinceLastReboot, 'number');
    assert.deepEqual(thermostat.targetTemperature, DEFAULT_ACK);

    const controller = withoutMetadata(
      (await twinOf(registry, 'controller-a')).properties.reported,
    ) as AnyTwin;
    assert.match(controller.serialNumber, /^TC2-[0-9a-f]{6}$/);
    for (const name of ['thermostat1', 'thermostat2']) {
      assert.equal(controller[name].__t, 'c');
      assert.equal(typeof controller[name].maxTempSinceLastReboot, 'number');
      assert.deepEqual(controller[name].targetTemperature, DEFAULT_ACK);
    }
    assert.equal(controller.deviceInformation.__t, 'c');
    assert.equal(controller.deviceInformation.swVersion, CURRENT_FIRMWARE.version);
    assert.equal(
      controller.targetTemperature,
      undefined,
      'the controller has no writable property of its own',
    );
  });

  it('acknowledge a new targetTemperature with ac 200 and the desired $version as av', async () => {
    const version = await setDesired(registry, 'thermostat-a', { targetTemperature: 23.5 });
    await emulator.pnpIdle();
    assert.deepEqual((await twinOf(registry, 'thermostat-a')).properties.reported.targetTemperature, {
      value: 23.5,
      ac: 200,
      av: version,
      ad: 'applied',
    });
  });

  it("acknowledge a component's property inside the component's object, with its __t: c marker", async () => {
    const version = await setDesired(registry, 'controller-a', {
      thermostat1: { __t: 'c', targetTemperature: 21 },
    });
    await emulator.pnpIdle();
    const reported = withoutMetadata((await twinOf(registry, 'controller-a')).properties.reported) as AnyTwin;
    assert.equal(reported.thermostat1.__t, 'c');
    assert.deepEqual(reported.thermostat1.targetTemperature, {
      value: 21,
      ac: 200,
      av: version,
      ad: 'applied',
    });
    assert.deepEqual(
      reported.thermostat2.targetTemperature,
      DEFAULT_ACK,
      'the other thermostat was not asked',
    );
  });

  it('refuse a value outside what their firmware accepts with ac 400 and why, reporting the value they keep', async () => {
    await setDesired(registry, 'thermostat-legacy', { targetTemperature: 25 });
    await emulator.pnpIdle();
    // 33 °C is within the current firmware's 5..35, outside the legacy firmware's 10..30.
    const version = await setDesired(registry, 'thermostat-legacy', { targetTemperature: 33 });
    await emulator.pnpIdle();
    assert.deepEqual((await twinOf(registry, 'thermostat-legacy')).properties.reported.targetTemperature, {
      value: 25,
      ac: 400,
      av: version,
      ad: 'targetTemperature 33 is outside 10..30 °C, the range firmware 1.9.3 accepts',
    });
    const accepted = await setDesired(registry, 'thermostat-a', { targetTemperature: 33 });
    await emulator.pnpIdle();
    assert.deepEqual(
      (await twinOf(registry, 'thermostat-a')).properties.reported.targetTemperature,
      { value: 33, ac: 200, av: accepted, ad: 'applied' },
      'the current firmware takes it',
    );
  });

  it('refuse a value that is not a number, keeping their default when nothing was accepted before', async () => {
    emulator.addDevices([{ deviceId: 'thermostat-typed', modelId: THERMOSTAT_MODEL_ID }]);
    await emulator.pnpIdle();
    const version = await setDesired(registry, 'thermostat-typed', { targetTemperature: 'warm' });
    await emulator.pnpIdle();
    assert.deepEqual((await twinOf(registry, 'thermostat-typed')).properties.reported.targetTemperature, {
      value: 20,
      ac: 400,
      av: version,
      ad: 'targetTemperature must be a number (double), not "warm"',
    });
  });

  it('acknowledge again when the same value is written anew, and not for changes of other properties', async () => {
    const rewritten = await setDesired(registry, 'thermostat-a', { targetTemperature: 33 });
    await emulator.pnpIdle();
    const reported = (await twinOf(registry, 'thermostat-a')).properties.reported;
    assert.deepEqual(reported.targetTemperature, { value: 33, ac: 200, av: rewritten, ad: 'applied' });
    await setDesired(registry, 'thermostat-a', { note: 'not in the model' });
    await emulator.pnpIdle();
    assert.equal((await twinOf(registry, 'thermostat-a')).properties.reported.$version, reported.$version);
  });

  it('acknowledge what was desired while they were offline when they come back, with the latest version', async () => {
    const put = await rawRequest(emulator, {
      method: 'PUT',
      path: '/_emulator/devices/controller-a/connection',
      body: { online: false },
    });
    assert.equal(put.status, 200);
    const before = (await twinOf(registry, 'controller-a')).properties.reported.$version;
    await setDesired(registry, 'controller-a', { thermostat2: { __t: 'c', targetTemperature: 18 } });
    const latest = await setDesired(registry, 'controller-a', { thermostat2: { targetTemperature: 19 } });
    await emulator.pnpIdle();
    const offline = await twinOf(registry, 'controller-a');
    assert.equal(offline.connectionState, 'Disconnected');
    assert.equal(offline.properties.reported.$version, before, 'an offline device reports nothing');

    emulator.setDeviceOnline('controller-a', true);
    await emulator.pnpIdle();
    const back = withoutMetadata((await twinOf(registry, 'controller-a')).properties.reported) as AnyTwin;
    assert.deepEqual(back.thermostat2.targetTemperature, { value: 19, ac: 200, av: latest, ad: 'applied' });
    assert.equal(back.thermostat1.targetTemperature.value, 21, 'thermostat1 is not acknowledged again');
  });

  it('acknowledge a value desired before they ever started instead of reporting their default', async () => {
    emulator.addDevices([{ deviceId: 'thermostat-late', modelId: THERMOSTAT_MODEL_ID, online: false }]);
    const version = await setDesired(registry, 'thermostat-late', { targetTemperature: 12 });
    await emulator.pnpIdle();
    assert.equal(
      (await twinOf(registry, 'thermostat-late')).properties.reported.$version,
      1,
      'nothing reported',
    );
    emulator.setDeviceOnline('thermostat-late', true);
    await emulator.pnpIdle();
    assert.deepEqual((await twinOf(registry, 'thermostat-late')).properties.reported.targetTemperature, {
      value: 12,
      ac: 200,
      av: version,
      ad: 'applied',
    });
  });

  it('show through the admin API what they received and acknowledged, and their firmware', async () => {
    const response = await rawRequest(emulator, { method: 'GET', path: '/_emulator/pnp/thermostat-legacy' });
    assert.equal(response.status, 200);
    const status = response.json as PnpDeviceStatus;
    assert.equal(status.modelId, THERMOSTAT_MODEL_ID);
    assert.equal(status.firmware, LEGACY_FIRMWARE.version);
    assert.deepEqual(status.accepts, { targetTemperature: { min: 10, max: 30 } });
    assert.equal(status.online, true);
    assert.equal(status.pending, false);
    assert.deepEqual(status.received.targetTemperature.value, 33);
    assert.equal((status.acknowledgements.targetTemperature as AnyTwin).ac, 400);
    assert.equal(
      status.received.targetTemperature.version,
      (status.acknowledgements.targetTemperature as AnyTwin).av,
    );

    const info = (await rawRequest(emulator, { method: 'GET', path: '/_emulator/info' })).json as AnyTwin;
    assert.equal(info.pnpDevices, emulator.hub.pnp.count);
  });

  it('count their acknowledgements by ac in the statistics', async () => {
    await rawRequest(emulator, { method: 'DELETE', path: '/_emulator/stats' });
    await setDesired(registry, 'thermostat-a', { targetTemperature: 100 });
    await setDesired(registry, 'controller-a', { thermostat1: { __t: 'c', targetTemperature: 22 } });
    await emulator.pnpIdle();
    const stats = (await rawRequest(emulator, { method: 'GET', path: '/_emulator/stats' })).json as AnyTwin;
    assert.deepEqual(stats.pnpAcknowledgements, { '200': 1, '400': 1 });
  });

  it('are refused by the admin API with a model or firmware the emulator does not simulate', async () => {
    for (const device of [
      { deviceId: 'unknown-model', modelId: 'dtmi:com:example:Fridge;1' },
      { deviceId: 'unknown-firmware', modelId: THERMOSTAT_MODEL_ID, firmware: '0.1.0' },
      { deviceId: 'firmware-alone', firmware: CURRENT_FIRMWARE.version },
    ]) {
      const response = await rawRequest(emulator, {
        method: 'POST',
        path: '/_emulator/devices',
        body: device,
      });
      assert.equal(response.status, 400, device.deviceId);
      assert.equal(errorCodeOf(response.text), 'ArgumentInvalid');
    }
    const notPnp = await rawRequest(emulator, {
      method: 'POST',
      path: '/_emulator/devices',
      body: { deviceId: 'plain' },
    });
    assert.equal(notPnp.status, 201);
    const status = await rawRequest(emulator, { method: 'GET', path: '/_emulator/pnp/plain' });
    assert.equal(status.status, 404);
  });
});

describe('slow IoT Plug and Play devices', () => {
  it('acknowledge after the slow delay, when the quick ones are done', async () => {
    const emulator = await startHubEmulator({ pnpSlowDelay: { min: 1500, max: 1500 } });
    try {
      const registry = registryOf(emulator);
      emulator.addDevices([
        { deviceId: 'quick', modelId: THERMOSTAT_MODEL_ID, slow: false },
        { deviceId: 'slow', modelId: THERMOSTAT_MODEL_ID, slow: true },
      ]);
      await emulator.pnpIdle();
      const quick = await setDesired(registry, 'quick', { targetTemperature: 24 });
      const slow = await setDesired(registry, 'slow', { targetTemperature: 24 });
      const acknowledged = async (deviceId: string, version: number) =>
        (await twinOf(registry, deviceId)).properties.reported.targetTemperature?.av === version;
      await until(() => acknowledged('quick', quick), 5000, 'the quick device to acknowledge');
      assert.equal(await acknowledged('slow', slow), false);
      assert.equal(emulator.hub.pnp.status('slow')?.pending, true);
      await until(() => acknowledged('slow', slow), 10_000, 'the slow device to acknowledge');
    } finally {
      await emulator.close();
    }
  });
});
