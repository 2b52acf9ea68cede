import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CURRENT_FIRMWARE, LEGACY_FIRMWARE, THERMOSTAT_MODEL_ID } from '../../src/emulator/index.js';
import { registryOf, startHubEmulator } from '../support/emulator-requests.js';

type AnyTwin = Record<string, any>;

describe('IoT Plug and Play devices across a restart with --state', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emulator-pnp-state-test-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('come back with their model ids, firmware and acknowledgements, and acknowledge what they missed', async () => {
    const statePath = join(dir, 'hub.state');
    const options = { statePath, seed: 9, pnpDevices: 6, pnpSlowRatio: 0 };
    const first = await startHubEmulator({ ...options, pnpLegacyRatio: 0 });
    const registry = registryOf(first);
    first.addDevices([
      { deviceId: 'kept-legacy', modelId: THERMOSTAT_MODEL_ID, firmware: LEGACY_FIRMWARE.version },
      { deviceId: 'kept-offline', modelId: THERMOSTAT_MODEL_ID, firmware: CURRENT_FIRMWARE.version },
    ]);
    await first.pnpIdle();
    await registry.updateTwin(
      'kept-legacy',
      { properties: { desired: { targetTemperature: 29 } } } as never,
      '*',
    );
    await first.pnpIdle();
    first.setDeviceOnline('kept-offline', false);
    const missed = (
      await registry.updateTwin(
        'kept-offline',
        { properties: { desired: { targetTemperature: 26 } } } as never,
        '*',
      )
    ).responseBody as unknown as AnyTwin;
    const seededFirmware = first.hub.pnp.status('pnp-000001')?.firmware;
    const before = (await registry.getTwin('kept-legacy')).responseBody as unknown as AnyTwin;
    const modelIds = new Map<string, string>();
    for (const twin of (await registry.createQuery('SELECT deviceId, modelId FROM devices').next())
      .result as AnyTwin[])
      modelIds.set(twin.deviceId, twin.modelId);
    await first.close();

    // Another legacy ratio: the firmware each device ran comes from the file, not from the options.
    const second = await startHubEmulator({ ...options, pnpLegacyRatio: 1 });
    try {
      const again = registryOf(second);
      assert.equal(second.hub.pnp.count, 8);
      assert.equal(second.hub.store.deviceCount, 8);
      for (const twin of (await again.createQuery('SELECT deviceId, modelId FROM devices').next())
        .result as AnyTwin[])
        assert.equal(twin.modelId, modelIds.get(twin.deviceId), twin.deviceId);
      assert.equal(second.hub.pnp.status('kept-legacy')?.firmware, LEGACY_FIRMWARE.version);
      assert.equal(second.hub.pnp.status('pnp-000001')?.firmware, seededFirmware);

      await second.pnpIdle();
      const after = (await again.getTwin('kept-legacy')).responseBody as unknown as AnyTwin;
      assert.deepEqual(
        after.properties.reported,
        before.properties.reported,
        'nothing is acknowledged twice',
      );

      second.setDeviceOnline('kept-offline', true);
      await second.pnpIdle();
      const caughtUp = (await again.getTwin('kept-offline')).responseBody as unknown as AnyTwin;
      assert.deepEqual(caughtUp.properties.reported.targetTemperature, {
        value: 26,
        ac: 200,
        av: missed.properties.desired.$version,
        ad: 'applied',
      });
    } finally {
      await second.close();
    }
  });
});
