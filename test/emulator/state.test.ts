import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../src/emulator/index.js';
import { AGENT_KEY, registryOf, startHubEmulator } from '../support/emulator-requests.js';

type AnyTwin = Record<string, any>;

describe('restarting with --state', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emulator-state-test-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('brings back devices, twins, keys, certificates and agents as they were', async () => {
    const statePath = join(dir, 'hub.state');
    const first = await startHubEmulator({ devices: 5, statePath, seed: 9 });
    const registry = registryOf(first);
    await registry.updateModuleTwin(
      'device-000001',
      'azureiotsecurity',
      { properties: { desired: { [AGENT_KEY]: { maxMessageSizeInBytes: { value: 131072 } } } } },
      '*',
    );
    await registry.updateTwin('device-000002', { tags: { ring: 'canary' } }, '*');
    await registry.create({ deviceId: 'extra-1' });
    await registry.addModule({ deviceId: 'extra-1', moduleId: 'custom' });
    first.setDeviceOnline('device-000003', false);
    await first.agentsIdle();
    const moduleBefore = (await registry.getModuleTwin('device-000001', 'azureiotsecurity'))
      .responseBody as unknown as AnyTwin;
    const deviceBefore = (await registry.getTwin('device-000002')).responseBody as unknown as AnyTwin;
    const keyBefore = /SharedAccessKey=([^;]+)/.exec(first.connectionString)![1];
    await first.close();
    assert.deepEqual((await readdir(dir)).sort(), ['hub.state', 'hub.state.ca.pem']);

    const second = await startHubEmulator({ devices: 5, statePath, seed: 9 });
    try {
      const again = registryOf(second);
      assert.equal(/SharedAccessKey=([^;]+)/.exec(second.connectionString)![1], keyBefore);
      assert.equal(second.hub.store.deviceCount, 6);
      const moduleAfter = (await again.getModuleTwin('device-000001', 'azureiotsecurity'))
        .responseBody as unknown as AnyTwin;
      for (const field of ['etag', 'version', 'tags'])
        assert.deepEqual(moduleAfter[field], moduleBefore[field]);
      assert.deepEqual(moduleAfter.properties.desired, moduleBefore.properties.desired);
      assert.deepEqual(moduleAfter.properties.reported, moduleBefore.properties.reported);
      const deviceAfter = (await again.getTwin('device-000002')).responseBody as unknown as AnyTwin;
      assert.equal(deviceAfter.tags.ring, 'canary');
      assert.equal(deviceAfter.etag, deviceBefore.etag);
      assert.equal(
        ((await again.getTwin('device-000003')).responseBody as unknown as AnyTwin).connectionState,
        'Disconnected',
      );
      assert.deepEqual(
        (await again.getModulesOnDevice('extra-1')).responseBody.map((m) => m.moduleId),
        ['custom'],
      );
      const agent = second.hub.agents.status('device-000001');
      assert.equal(agent?.appliedSettings?.maxMessageSizeInBytes, 131072);
    } finally {
      await second.close();
    }
  });

  it('keeps the certificate authority, so clients keep trusting the hub', async () => {
    const statePath = join(dir, 'ca.state');
    const first = await startHubEmulator({ statePath });
    const ca = first.caCert;
    await first.close();
    const second = await startHubEmulator({ statePath });
    try {
      assert.equal(second.caCert, ca);
      await registryOf(second).list();
    } finally {
      await second.close();
    }
  });

  it('keeps the state file readable by its owner only (mode 0600), also when it replaces a wider one', {
    skip: process.platform === 'win32' && 'no POSIX modes',
  }, async () => {
    const statePath = join(dir, 'private.state');
    const emulator = await startHubEmulator({ devices: 1, statePath, stateSaveIntervalMs: 0 });
    try {
      assert.equal((await stat(statePath)).mode & 0o777, 0o600);
      await chmod(statePath, 0o644);
      emulator.addDevices([{ deviceId: 'another' }]);
      await emulator.saveState();
      assert.equal((await stat(statePath)).mode & 0o777, 0o600);
    } finally {
      await emulator.close();
    }
    assert.equal((await stat(statePath)).mode & 0o777, 0o600);
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.startsWith('.private.state')),
      [],
      'no temporary file is left behind',
    );
  });

  it('refuses to start from a file that is not a state file', async () => {
    const statePath = join(dir, 'not-a-state.json');
    await writeFile(statePath, '{"hello": "world"}\n');
    await assert.rejects(startEmulator({ statePath }), /not an emulator state file/);
  });
});
