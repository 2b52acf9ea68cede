// kill(): the emulator stopped as a killed process is, without its last save. Started again from its state file,
// the hub has lost what changed since the last save, acknowledged writes included, and twin versions go back: what
// a real hub's failover can do to its most recent updates.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AGENT_KEY, registryOf, startHubEmulator } from '../support/emulator-requests.js';

type AnyTwin = Record<string, any>;

describe('an emulator killed within its save window', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emulator-state-loss-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('comes back without the writes it acknowledged after its last save, versions going back', async () => {
    const statePath = join(dir, 'hub.state');
    const first = await startHubEmulator({ devices: 2, statePath, stateSaveIntervalMs: 0 });
    const registry = registryOf(first);
    const patch = (value: string) => ({
      properties: { desired: { [AGENT_KEY]: { snapshotFrequency: { value } } } },
    });
    const saved = (await registry.updateModuleTwin('device-000001', 'azureiotsecurity', patch('PT2H'), '*'))
      .responseBody as unknown as AnyTwin;
    await first.saveState();
    const lost = (await registry.updateModuleTwin('device-000001', 'azureiotsecurity', patch('PT3H'), '*'))
      .responseBody as unknown as AnyTwin;
    assert.ok(lost.version > saved.version);
    await first.kill();

    const second = await startHubEmulator({ statePath, port: first.port });
    try {
      const twin = (await registryOf(second).getModuleTwin('device-000001', 'azureiotsecurity'))
        .responseBody as unknown as AnyTwin;
      assert.equal(twin.properties.desired[AGENT_KEY].snapshotFrequency.value, 'PT2H');
      assert.ok(twin.version < lost.version, `version ${twin.version} went back from ${lost.version}`);
    } finally {
      await second.close();
    }
  });

  it('keeps everything on close, as before', async () => {
    const statePath = join(dir, 'closed.state');
    const first = await startHubEmulator({ devices: 1, statePath, stateSaveIntervalMs: 0 });
    await registryOf(first).updateTwin('device-000001', { tags: { kept: true } }, '*');
    await first.close();
    const second = await startHubEmulator({ statePath });
    try {
      const twin = (await registryOf(second).getTwin('device-000001')).responseBody as unknown as AnyTwin;
      assert.equal(twin.tags.kept, true);
    } finally {
      await second.close();
    }
  });
});

describe('stopping the emulator', () => {
  for (const how of ['close', 'kill'] as const) {
    it(`ends every connection at once on ${how}(), one still in its TLS handshake too`, async () => {
      const emulator = await startHubEmulator({ devices: 1 });
      // A client that connected and has not finished (or begun) its handshake: the server would serve it later.
      const socket = connect(emulator.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const closed = new Promise((resolve) => socket.once('close', resolve));
      const started = Date.now();
      await emulator[how]();
      await closed;
      assert.ok(Date.now() - started < 2000, `${how}() took ${Date.now() - started} ms`);
    });
  }
});
