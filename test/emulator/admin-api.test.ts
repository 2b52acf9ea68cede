import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { rawRequest, registryOf, rejectionOf, startHubEmulator } from '../support/emulator-requests.js';

describe('the admin API', () => {
  let emulator: RunningEmulator;
  let registry: Registry;

  before(async () => {
    emulator = await startHubEmulator({ devices: 1 });
    registry = registryOf(emulator);
  });
  after(() => emulator.close());

  it('adds devices with tags, with or without a security module', async () => {
    const response = await rawRequest(emulator, {
      method: 'POST',
      path: '/_emulator/devices',
      body: {
        devices: [
          { deviceId: 'admin-1', tags: { site: 'ams-dc1', environment: 'staging' } },
          { deviceId: 'admin-2', securityModule: false, online: false },
        ],
      },
    });
    assert.equal(response.status, 201);
    assert.deepEqual(response.json, { created: ['admin-1', 'admin-2'] });
    const twin = (await registry.getTwin('admin-1')).responseBody as unknown as Record<string, any>;
    assert.deepEqual(twin.tags, { site: 'ams-dc1', environment: 'staging' });
    assert.equal(twin.connectionState, 'Connected');
    assert.deepEqual(
      (await registry.getModulesOnDevice('admin-1')).responseBody.map((m) => m.moduleId),
      ['azureiotsecurity'],
    );
    assert.deepEqual((await registry.getModulesOnDevice('admin-2')).responseBody, []);
  });

  it('refuses to add a device that exists', async () => {
    const response = await rawRequest(emulator, {
      method: 'POST',
      path: '/_emulator/devices',
      body: { deviceId: 'admin-1' },
    });
    assert.equal(response.status, 409);
  });

  it('removes a device', async () => {
    const response = await rawRequest(emulator, { method: 'DELETE', path: '/_emulator/devices/admin-2' });
    assert.equal(response.status, 204);
    await rejectionOf(registry.get('admin-2'));
  });

  it('tells how a simulated agent is doing', async () => {
    await emulator.agentsIdle();
    const response = await rawRequest(emulator, { method: 'GET', path: '/_emulator/agents/admin-1' });
    assert.equal(response.status, 200);
    const status = response.json as Record<string, unknown>;
    assert.equal(status.online, true);
    assert.equal(status.outcome, 'applied');
  });

  it('counts requests by operation class and status code, and can start counting again', async () => {
    const reset = await rawRequest(emulator, { method: 'DELETE', path: '/_emulator/stats' });
    assert.equal(reset.status, 204);
    await registry.getTwin('device-000001');
    await registry.getTwin('device-000001');
    await rejectionOf(registry.getTwin('missing'));
    await registry.updateTwin('device-000001', { tags: { counted: true } }, '*');
    await registry.createQuery('SELECT * FROM devices').next();
    const stats = (await rawRequest(emulator, { method: 'GET', path: '/_emulator/stats' })).json as Record<
      string,
      any
    >;
    assert.deepEqual(stats.requests.twinRead, { '200': 2, '404': 1 });
    assert.deepEqual(stats.requests.twinUpdate, { '200': 1 });
    assert.deepEqual(stats.requests.query, { '200': 1 });
    assert.deepEqual(stats.throttled, {});
    assert.equal(stats.totalRequests, 6);
  });

  it('answers 401 without a valid token, like the hub', async () => {
    const response = await rawRequest(emulator, {
      method: 'GET',
      path: '/_emulator/stats',
      authorization: null,
    });
    assert.equal(response.status, 401);
  });

  it('describes the hub it emulates', async () => {
    const info = (await rawRequest(emulator, { method: 'GET', path: '/_emulator/info' })).json as Record<
      string,
      unknown
    >;
    assert.equal(info.tier, 'S1');
    assert.equal(info.devices, 2);
  });
});
