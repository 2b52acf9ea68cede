import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  errorCodeOf,
  rawRequest,
  registryOf,
  rejectionOf,
  startHubEmulator,
} from '../support/emulator-requests.js';

describe('fault injection', () => {
  let emulator: RunningEmulator;
  let registry: Registry;

  before(async () => {
    emulator = await startHubEmulator({
      devices: 2,
      faults: { twinRead: { errorRatio: 1, errorStatuses: [500] } },
    });
    registry = registryOf(emulator);
  });
  after(() => emulator.close());

  const setFaults = async (faults: unknown) => {
    const response = await rawRequest(emulator, { method: 'PUT', path: '/_emulator/faults', body: faults });
    assert.equal(response.status, 200);
  };

  it('fails a class of requests with 500 from the start, and only that class', async () => {
    const error = await rejectionOf(registry.getTwin('device-000001'));
    assert.equal(error.constructor.name, 'InternalServerError');
    assert.equal(error.response?.statusCode, 500);
    assert.equal(errorCodeOf(error.responseBody), 'ServerError');
    const updated = await registry.updateTwin('device-000001', { tags: { fine: true } }, '*');
    assert.equal(updated.responseBody.deviceId, 'device-000001');
  });

  it('changes faults at run time through the admin API: 503', async () => {
    await setFaults({ twinRead: { errorRatio: 1, errorStatuses: [503] } });
    const error = await rejectionOf(registry.getTwin('device-000001'));
    assert.equal(error.constructor.name, 'ServiceUnavailableError');
    assert.equal(errorCodeOf(error.responseBody), 'ServiceUnavailable');
  });

  it('resets the connection mid-response after making the change', async () => {
    await setFaults({ twinUpdate: { resetRatio: 1 } });
    const error = await rejectionOf(registry.updateTwin('device-000002', { tags: { applied: 'yes' } }, '*'));
    assert.equal(error.response, undefined);
    await setFaults({});
    const twin = (await registry.getTwin('device-000002')).responseBody as unknown as {
      tags: Record<string, unknown>;
    };
    assert.equal(twin.tags.applied, 'yes');
  });

  it('adds latency to every class with "all"', async () => {
    await setFaults({ all: { latencyMs: 60 } });
    const started = performance.now();
    await registry.getTwin('device-000001');
    assert.ok(performance.now() - started >= 55);
    await setFaults({});
  });

  it('refuses a fault configuration it does not understand', async () => {
    const response = await rawRequest(emulator, {
      method: 'PUT',
      path: '/_emulator/faults',
      body: { twinRead: { errorRatio: 2 } },
    });
    assert.equal(response.status, 400);
    const unknown = await rawRequest(emulator, {
      method: 'PUT',
      path: '/_emulator/faults',
      body: { teleport: {} },
    });
    assert.equal(unknown.status, 400);
  });

  it('counts injected faults in the statistics', async () => {
    const stats = (await rawRequest(emulator, { method: 'GET', path: '/_emulator/stats' })).json as Record<
      string,
      any
    >;
    assert.deepEqual(stats.faults.twinRead, { '500': 1, '503': 1 });
    assert.deepEqual(stats.faults.twinUpdate, { reset: 1 });
  });
});
