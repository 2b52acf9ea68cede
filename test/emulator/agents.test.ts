import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { agentDefaults, wrapSettings } from '../../src/profiles/security-agent/index.js';
import { AGENT_KEY, rawRequest, registryOf, startHubEmulator } from '../support/emulator-requests.js';

type AnyTwin = Record<string, any>;

async function moduleTwin(registry: Registry, deviceId: string): Promise<AnyTwin> {
  return (await registry.getModuleTwin(deviceId, 'azureiotsecurity')).responseBody as unknown as AnyTwin;
}

async function reportedConfig(
  registry: Registry,
  deviceId: string,
): Promise<Record<string, { value: unknown }> | undefined> {
  const reported = (await moduleTwin(registry, deviceId)).properties.reported[AGENT_KEY];
  if (!reported) return undefined;
  const { $metadata: _m, ...values } = reported;
  return values;
}

/** A configuration as the hub stores it: a null value deletes its key, so `{"value": null}` becomes `{}`. */
function asStored(config: Record<string, { value: unknown }>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([key, wrapped]) => [key, wrapped.value === null ? {} : wrapped]),
  );
}

async function setDesired(registry: Registry, deviceId: string, config: unknown): Promise<void> {
  await registry.updateModuleTwin(
    deviceId,
    'azureiotsecurity',
    { properties: { desired: { [AGENT_KEY]: config } } },
    '*',
  );
}

describe('simulated security agents', () => {
  let emulator: RunningEmulator;
  let registry: Registry;

  before(async () => {
    emulator = await startHubEmulator({ devices: 4 });
    registry = registryOf(emulator);
    await emulator.agentsIdle();
  });
  after(() => emulator.close());

  it('reports the full default configuration, each setting as {"value": ...}, when it starts (null values stored as {})', async () => {
    assert.deepEqual(
      await reportedConfig(registry, 'device-000001'),
      asStored(wrapSettings(agentDefaults())),
    );
  });

  it('applies a valid desired configuration and reports it with the defaults for the rest', async () => {
    await setDesired(registry, 'device-000002', {
      maxMessageSizeInBytes: { value: 131072 },
      eventPriorityLogin: { value: 'Low' },
    });
    await emulator.agentsIdle();
    const reported = await reportedConfig(registry, 'device-000002');
    assert.deepEqual(
      reported,
      asStored(
        wrapSettings({ ...agentDefaults(), maxMessageSizeInBytes: 131072, eventPriorityLogin: 'Low' }),
      ),
    );
    assert.equal(emulator.hub.agents.status('device-000002')?.outcome, 'applied');
  });

  it('keeps its previous configuration when a new one is invalid, and says why', async () => {
    await setDesired(registry, 'device-000002', { maxMessageSizeInBytes: { value: 300000 } });
    await emulator.agentsIdle();
    const reported = await reportedConfig(registry, 'device-000002');
    assert.deepEqual(reported?.maxMessageSizeInBytes, { value: 131072 });
    assert.deepEqual(reported?.eventPriorityLogin, { value: 'Low' });
    const status = emulator.hub.agents.status('device-000002')!;
    assert.equal(status.outcome, 'rejected');
    assert.deepEqual(
      status.problems.map((p) => [p.setting, p.errorType]),
      [['maxMessageSizeInBytes', 'TypeMismatch']],
    );
  });

  it('rejects bare values and conflicting frequencies as the agent does', async () => {
    await setDesired(registry, 'device-000003', { maxMessageSizeInBytes: 65536 });
    await emulator.agentsIdle();
    assert.equal(emulator.hub.agents.status('device-000003')?.outcome, 'rejected');
    await setDesired(registry, 'device-000003', {
      maxMessageSizeInBytes: null,
      highPriorityMessageFrequency: { value: 'PT6H' },
      lowPriorityMessageFrequency: { value: 'PT1H' },
    });
    await emulator.agentsIdle();
    const status = emulator.hub.agents.status('device-000003')!;
    assert.equal(status.outcome, 'rejected');
    assert.equal(status.problems[0].errorType, 'Conflict');
    assert.deepEqual(
      await reportedConfig(registry, 'device-000003'),
      asStored(wrapSettings(agentDefaults())),
    );
  });

  it('does not start on an invalid first configuration and starts once a valid one arrives', async () => {
    emulator.addDevices([{ deviceId: 'late-starter', online: false }]);
    await setDesired(registry, 'late-starter', { snapshotFrequency: { value: 'often' } });
    emulator.setDeviceOnline('late-starter', true);
    await emulator.agentsIdle();
    assert.equal(await reportedConfig(registry, 'late-starter'), undefined);
    assert.equal(emulator.hub.agents.status('late-starter')?.outcome, 'stopped');
    await setDesired(registry, 'late-starter', { snapshotFrequency: { value: 'PT6H' } });
    await emulator.agentsIdle();
    assert.deepEqual((await reportedConfig(registry, 'late-starter'))?.snapshotFrequency, { value: 'PT6H' });
  });

  it('gives a device added with a security module through the REST API an agent', async () => {
    await registry.create({ deviceId: 'rest-device' });
    await registry.addModule({ deviceId: 'rest-device', moduleId: 'azureiotsecurity' });
    emulator.setDeviceOnline('rest-device', true);
    await emulator.agentsIdle();
    assert.deepEqual(await reportedConfig(registry, 'rest-device'), asStored(wrapSettings(agentDefaults())));
  });
});

describe('agents of the C flavour', () => {
  it('write event priorities in lower case', async () => {
    const emulator = await startHubEmulator({ devices: 2, lowercaseRatio: 1 });
    try {
      const registry = registryOf(emulator);
      await setDesired(registry, 'device-000001', { eventPriorityLocalUsers: { value: 'Off' } });
      await emulator.agentsIdle();
      const reported = await reportedConfig(registry, 'device-000001');
      assert.deepEqual(reported?.eventPriorityLocalUsers, { value: 'off' });
      assert.deepEqual(reported?.eventPriorityLogin, { value: 'high' });
      assert.deepEqual(reported?.eventPriorityDiagnostic, { value: 'low' });
      assert.equal(emulator.hub.agents.status('device-000001')?.lowercase, true);
    } finally {
      await emulator.close();
    }
  });
});

describe('offline devices', () => {
  let emulator: RunningEmulator;
  let registry: Registry;

  before(async () => {
    emulator = await startHubEmulator({ devices: 2, offlineRatio: 1 });
    registry = registryOf(emulator);
  });
  after(() => emulator.close());

  it('report nothing and show as disconnected', async () => {
    await setDesired(registry, 'device-000001', { eventPriorityLogin: { value: 'Off' } });
    await emulator.agentsIdle();
    assert.equal(await reportedConfig(registry, 'device-000001'), undefined);
    const device = (await registry.getTwin('device-000001')).responseBody as unknown as AnyTwin;
    assert.equal(device.connectionState, 'Disconnected');
    assert.equal(device.lastActivityTime, '0001-01-01T00:00:00Z');
  });

  it('report their configuration once set online through the admin API', async () => {
    const response = await rawRequest(emulator, {
      method: 'PUT',
      path: '/_emulator/devices/device-000001/connection',
      body: { online: true },
    });
    assert.equal(response.status, 200);
    await emulator.agentsIdle();
    assert.deepEqual((await reportedConfig(registry, 'device-000001'))?.eventPriorityLogin, { value: 'Off' });
    const device = (await registry.getTwin('device-000001')).responseBody as unknown as AnyTwin;
    assert.equal(device.connectionState, 'Connected');
    assert.notEqual(device.lastActivityTime, '0001-01-01T00:00:00Z');
    assert.equal((await moduleTwin(registry, 'device-000001')).connectionState, 'Connected');
  });

  it('stop reporting when set offline again', async () => {
    emulator.setDeviceOnline('device-000001', false);
    await setDesired(registry, 'device-000001', { eventPriorityLogin: { value: 'High' } });
    await emulator.agentsIdle();
    assert.deepEqual((await reportedConfig(registry, 'device-000001'))?.eventPriorityLogin, { value: 'Off' });
  });
});
