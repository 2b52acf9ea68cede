// TwinConfig through the controller, on the real API server and the emulator's IoT Plug and Play devices: a value
// judged by the model in a ConfigMap reaches the thermostats and converges by their acknowledgements; a value some
// firmware refuses shows the rejections in the status with the devices' own words; a ConfigMap that is missing
// holds the resource with its own reason until it appears; deletion takes off only what the resource owned.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { twinSchemaCompilations } from '../../src/twin-models/index.js';
import { DEVICE_TWIN } from '../../src/twins/types.js';
import { emulatorClient } from '../support/emulator-support.js';
import { condition, type OperatorFixture, startOperatorFixture } from '../support/operator-fixture.js';
import { configMap, twinConfig } from '../support/resources.js';
import { until } from '../support/until.js';

const THERMOSTAT = 'dtmi:com:example:Thermostat;1';
const MODEL = readFileSync(new URL('../../examples/models/thermostat-1.json', import.meta.url), 'utf8');

describe('TwinConfig through the controller', () => {
  let f: OperatorFixture;
  before(async () => {
    f = await startOperatorFixture({
      prefix: 'twinconfig',
      devices: [{ deviceId: 'agent-1', tags: { environment: 'production' }, online: true }],
      // Thermostats only, a quarter on the legacy firmware (10..30 °C), none slow.
      emulator: { pnpDevices: 12, pnpControllerRatio: 0, pnpLegacyRatio: 0.25, pnpSlowRatio: 0, seed: 5 },
    });
    await f.apply(f.hubObjects());
    await f.apply([configMap('pnp-models', { 'thermostat-1.json': MODEL })]);
  });
  after(async () => {
    await f.close();
  });

  /** The desired and reported properties of a thermostat's device twin, read fresh. */
  async function twinOf(deviceId: string) {
    const client = emulatorClient(f.emulator, { tier: 'S3' });
    try {
      return (await client.readTwins(DEVICE_TWIN, [deviceId], { consistent: true })).get(deviceId)!;
    } finally {
      client.close();
    }
  }

  /** The emulator's PnP devices (pnp-000001...): all thermostats here. */
  const thermostats = () => Array.from({ length: 12 }, (_, i) => `pnp-${String(i + 1).padStart(6, '0')}`);

  it('writes a value the model accepts to every thermostat, and is Ready once they acknowledge it', async () => {
    await f.apply([
      twinConfig('setpoint', {
        target: { condition: `modelId = '${THERMOSTAT}'` },
        properties: { targetTemperature: 21.5 },
        schema: { configMapKeyRef: { name: 'pnp-models', key: 'thermostat-1.json' }, format: 'DTDL' },
      }),
    ]);
    const ready = await f.waitFor(
      'tc',
      'setpoint',
      (o) => condition(o, 'Ready').reason === 'Converged',
      30_000,
    );
    assert.equal(ready.status.targetedDevices, 12);
    assert.equal(ready.status.convergedDevices, 12);
    assert.equal(ready.status.rejectedDevices, 0);
    const twin = await twinOf(thermostats()[0]);
    assert.equal(twin.desired.targetTemperature, 21.5);
    assert.deepEqual((twin.reported.targetTemperature as { ac: number }).ac, 200);
  });

  it('shows the values devices refuse in the status, in their own words, and records the transition', async () => {
    await f.apply([
      twinConfig('setpoint', {
        target: { condition: `modelId = '${THERMOSTAT}'` },
        properties: { targetTemperature: 33 },
        schema: { configMapKeyRef: { name: 'pnp-models', key: 'thermostat-1.json' }, format: 'DTDL' },
        rollout: { failureThreshold: '100%' },
      }),
    ]);
    const rejected = await f.waitFor(
      'tc',
      'setpoint',
      (o) => condition(o, 'Ready').reason === 'DevicesRejected' && o.status.pendingDevices === 0,
      30_000,
    );
    assert.ok(rejected.status.rejectedDevices >= 1, JSON.stringify(rejected.status));
    assert.equal(rejected.status.rejectedDevices + rejected.status.convergedDevices, 12);
    assert.equal(condition(rejected, 'Stalled').status, 'True');
    const failure = rejected.status.failures.find((x: { reason: string }) => x.reason === 'DeviceRejected');
    assert.match(
      failure.message,
      /targetTemperature refused \(400\): targetTemperature 33 is outside 10\.\.30/,
    );
    const events = JSON.parse(
      (await f.kubectl(['get', 'events', '-n', f.namespace, '-o', 'json'])).stdout,
    ).items.filter((e: { involvedObject: { name: string } }) => e.involvedObject.name === 'setpoint');
    assert.ok(
      events.some(
        (e: { reason: string; type: string }) => e.reason === 'DevicesRejected' && e.type === 'Warning',
      ),
    );
  });

  it('waits for a ConfigMap it names with a reason of its own, and picks it up when it appears', async () => {
    await f.apply([
      twinConfig('later', {
        target: { deviceIds: [thermostats()[0]] },
        priority: 5,
        properties: { targetTemperature: 20 },
        schema: { configMapKeyRef: { name: 'models-to-come', key: 'thermostat-1.json' }, format: 'DTDL' },
      }),
    ]);
    const waiting = await f.waitFor(
      'tc',
      'later',
      (o) => condition(o, 'Ready').reason === 'ConfigMapNotFound',
      20_000,
    );
    assert.equal(condition(waiting, 'Reconciling').status, 'True', 'it is looked for again');
    assert.match(condition(waiting, 'Ready').message ?? '', /models-to-come/);
    await f.apply([configMap('models-to-come', { 'thermostat-1.json': MODEL })]);
    const converged = await f.waitFor(
      'tc',
      'later',
      (o) => condition(o, 'Ready').reason === 'Converged',
      30_000,
    );
    assert.equal(converged.status.convergedDevices, 1);
    // It outranks setpoint (priority 0, 33 °C) on its thermostat, which acknowledged its value.
    const twin = await twinOf(thermostats()[0]);
    assert.equal(twin.desired.targetTemperature, 20);
    assert.deepEqual(
      [
        (twin.reported.targetTemperature as { value: number }).value,
        (twin.reported.targetTemperature as { ac: number }).ac,
      ],
      [20, 200],
    );
  });

  it("deletes only what it owned: another writer's property stays, the devices keep what they acknowledged", async () => {
    const deviceId = thermostats()[1];
    const client = emulatorClient(f.emulator, { tier: 'S3' });
    try {
      const twin = (await client.readTwins(DEVICE_TWIN, [deviceId], { consistent: true })).get(deviceId)!;
      await client.patchTwin(
        { slot: DEVICE_TWIN, deviceId },
        { properties: { desired: { maintenanceWindow: '02:00-04:00' } } },
        twin.etag,
      );
    } finally {
      client.close();
    }
    const deleted = await f.kubectl(['delete', 'tc', 'setpoint', '-n', f.namespace, '--timeout=40s']);
    assert.equal(deleted.code, 0, deleted.stderr);
    await until(
      async () => (await twinOf(deviceId)).desired.targetTemperature === undefined,
      20_000,
      'removed',
    );
    const after = await twinOf(deviceId);
    assert.equal(after.desired.maintenanceWindow, '02:00-04:00');
    assert.equal((after.reported.targetTemperature as { value: number }).value, 33);
  });

  it('refuses a model that does not parse with InvalidSpec, located in the ConfigMap, and writes nothing', async () => {
    const deviceId = thermostats()[2];
    const before = await twinOf(deviceId);
    await f.apply([
      configMap('broken-models', {
        'thermostat-1.json': MODEL.replace('"writable": true', '"writable": tru'),
      }),
      twinConfig('broken', {
        target: { deviceIds: [deviceId] },
        priority: 50,
        properties: { targetTemperature: 25 },
        schema: { configMapKeyRef: { name: 'broken-models', key: 'thermostat-1.json' }, format: 'DTDL' },
      }),
    ]);
    const refused = await f.waitFor(
      'tc',
      'broken',
      (o) => condition(o, 'Ready').reason === 'InvalidSpec',
      20_000,
    );
    const message = condition(refused, 'Ready').message ?? '';
    assert.match(message, /broken-models/);
    assert.match(message, /key thermostat-1\.json, line 23, column \d+: the model is not valid JSON/);
    assert.equal(condition(refused, 'Stalled').status, 'True');
    const twin = await twinOf(deviceId);
    assert.equal(twin.desired.targetTemperature, before.desired.targetTemperature);
  });

  it('compiles no schema again while nothing changes, with more distinct schemas than the compile cache keeps', async () => {
    // 40 inline schemas near the limit took 10.9 s a pass when every reconcile judged every TwinConfig again.
    const names = Array.from({ length: 40 }, (_, i) => `schema-${i}`);
    await f.apply(
      names.map((name, i) =>
        twinConfig(name, {
          target: { condition: "tags.environment = 'nowhere'" },
          properties: { targetTemperature: 20 },
          schema: {
            jsonSchema: {
              type: 'object',
              properties: { targetTemperature: { type: 'number', minimum: 5, maximum: 100 + i } },
            },
          },
        }),
      ),
    );
    const settled = async () => {
      const list = JSON.parse((await f.kubectl(['get', 'tc', '-n', f.namespace, '-o', 'json'])).stdout);
      return names.every((name) =>
        list.items.some(
          (o: { metadata: { name: string } }) =>
            o.metadata.name === name && condition(o, 'Ready').reason === 'NoTargets',
        ),
      );
    };
    await until(settled, 30_000, 'the 40 TwinConfigs Ready (NoTargets)');
    await f.reconcileNow();
    const before = twinSchemaCompilations();
    await f.reconcileNow('hub', { times: 3 });
    assert.equal(twinSchemaCompilations(), before, 'three reconciles of the hub compiled nothing');
    // An edit is judged again: one compilation for the one new schema.
    await f.apply([
      twinConfig('schema-0', {
        target: { condition: "tags.environment = 'nowhere'" },
        properties: { targetTemperature: 20.5 },
        schema: { jsonSchema: { type: 'object', properties: { targetTemperature: { type: 'integer' } } } },
      }),
    ]);
    await f.waitFor('tc', 'schema-0', (o) => condition(o, 'Ready').reason === 'InvalidSpec');
    assert.equal(twinSchemaCompilations(), before + 1);
    const deleted = await f.kubectl(['delete', 'tc', ...names, '-n', f.namespace, '--timeout=40s']);
    assert.equal(deleted.code, 0, deleted.stderr);
  });
});
