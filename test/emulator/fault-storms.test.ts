// Faults added for the reliability suite: a 429 storm the quotas alone do not cause, connections dropped before
// the hub handles a request (nothing changes, unlike a reset after it), and requests counted per twin.
import assert from 'node:assert/strict';
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

type AnyTwin = Record<string, any>;

describe('throttling storms, dropped connections and per-twin counts', () => {
  let emulator: RunningEmulator;
  let registry: Registry;

  before(async () => {
    emulator = await startHubEmulator({ devices: 2 });
    registry = registryOf(emulator);
  });
  after(() => emulator.close());

  it('answers 429 ThrottlingException with Retry-After to injected throttling, quotas off', async () => {
    emulator.hub.faults.set({ twinRead: { errorRatio: 1, errorStatuses: [429] } });
    const error = await rejectionOf(registry.getTwin('device-000001'));
    assert.equal(error.response?.statusCode, 429);
    assert.equal(error.response?.headers['retry-after'], '1');
    assert.equal(errorCodeOf(error.responseBody), 'ThrottlingException');
    assert.equal(emulator.hub.stats.snapshot().faults.twinRead['429'], 1);
    assert.equal(emulator.hub.stats.snapshot().throttled.twinRead, 1);
    emulator.hub.faults.set({});
  });

  it('drops a connection before handling the request: the client gets no answer and nothing changes', async () => {
    const before = (await registry.getTwin('device-000002')).responseBody as unknown as AnyTwin;
    emulator.hub.faults.set({ twinUpdate: { dropRatio: 1 } });
    const error = await rejectionOf(registry.updateTwin('device-000002', { tags: { dropped: true } }, '*'));
    assert.equal(error.response, undefined, 'no HTTP answer');
    emulator.hub.faults.set({});
    const twin = (await registry.getTwin('device-000002')).responseBody as unknown as AnyTwin;
    assert.equal(twin.tags.dropped, undefined);
    assert.equal(twin.version, before.version);
    assert.equal(emulator.hub.stats.snapshot().faults.twinUpdate.drop, 1);
    assert.equal(emulator.hub.stats.twinUpdates('device-000002'), 0);
  });

  it('counts reads and updates asked for per twin, whatever their answer', async () => {
    emulator.hub.stats.reset();
    await registry.getModuleTwin('device-000001', 'azureiotsecurity');
    emulator.hub.faults.set({ twinUpdate: { errorRatio: 1, errorStatuses: [503] } });
    await rejectionOf(
      registry.updateModuleTwin('device-000001', 'azureiotsecurity', { tags: { a: 1 } }, '*'),
    );
    emulator.hub.faults.set({});
    await registry.updateModuleTwin('device-000001', 'azureiotsecurity', { tags: { a: 1 } }, '*');
    const { stats } = emulator.hub;
    assert.equal(stats.twinRequests('twinRead', 'device-000001', 'azureiotsecurity'), 1);
    assert.equal(stats.twinRequests('twinUpdate', 'device-000001', 'azureiotsecurity'), 2);
    assert.equal(stats.twinUpdates('device-000001', 'azureiotsecurity'), 1, 'one of them applied');
    assert.equal(stats.twinRequests('twinUpdate', 'device-000001'), 0, 'the device twin is another twin');
    const snapshot = (await rawRequest(emulator, { method: 'GET', path: '/_emulator/stats' }))
      .json as AnyTwin;
    assert.deepEqual(snapshot.twinRequests.twinUpdate, { 'device-000001/azureiotsecurity': 2 });
  });

  it('refuses an error status it cannot inject and a drop ratio above 1', async () => {
    for (const faults of [{ all: { errorStatuses: [404] } }, { twinUpdate: { dropRatio: 1.5 } }]) {
      const response = await rawRequest(emulator, { method: 'PUT', path: '/_emulator/faults', body: faults });
      assert.equal(response.status, 400, JSON.stringify(faults));
    }
  });
});
