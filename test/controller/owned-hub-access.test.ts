// A sharded hub's writes, over the real SDK and HTTPS against the emulator: each twin patch and module create asks
// whether this replica still holds the hub, at the call and again just before its request is sent; refused, the
// call rejects as 'Cancelled' (read by the engine as a stop) and the hub receives nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HubOwnership } from '../../src/controller/hub-ownership.js';
import { ownedHubAccess } from '../../src/controller/owned-hub-access.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { isHubError } from '../../src/hub/errors.js';
import type { HubClient } from '../../src/hub/hub-client.js';
import { DEVICE_TWIN } from '../../src/twins/types.js';
import { emulatorClient, startHubEmulator } from '../support/emulator-support.js';

const KEY = 'shards/hub-a';

/** Answers `owns` from a script (then false), and counts the questions. */
function scripted(answers: boolean[]): HubOwnership & { asked: number } {
  return {
    asked: 0,
    owns(key) {
      assert.equal(key, KEY);
      this.asked++;
      return answers.shift() ?? false;
    },
    guard: (_key, stop, reconcile) => reconcile(stop),
  };
}

describe('a sharded hub written only while held', () => {
  let emulator: RunningEmulator;
  let client: HubClient;
  const requests = () => emulator.hub.stats.snapshot().totalRequests;

  before(async () => {
    emulator = await startHubEmulator();
    emulator.addDevices([{ deviceId: 'd1', tags: {}, online: true }]);
    client = emulatorClient(emulator);
  });
  after(async () => {
    client.close();
    await emulator.close();
  });

  const etagOf = async () =>
    (await client.readTwins(DEVICE_TWIN, ['d1'], { consistent: true })).get('d1')!.etag;

  it('writes while the hub is held', async () => {
    const access = ownedHubAccess(KEY, client, scripted([true, true, true, true]));
    assert.equal(await access.ensureModule({ deviceId: 'd1', slot: 'held' }), 'created');
    const twin = await access.patchTwin(
      { deviceId: 'd1', slot: DEVICE_TWIN },
      { tags: { a: 1 } },
      await etagOf(),
    );
    assert.deepEqual(twin.tags, { a: 1 });
  });

  it('refuses a write asked for after the hold ended, sending nothing', async () => {
    const etag = await etagOf();
    const before = requests();
    const access = ownedHubAccess(KEY, client, scripted([]));
    await assert.rejects(
      access.patchTwin({ deviceId: 'd1', slot: DEVICE_TWIN }, { tags: { a: 2 } }, etag),
      (error) => isHubError(error, 'Cancelled'),
    );
    await assert.rejects(access.ensureModule({ deviceId: 'd1', slot: 'late' }), (error) =>
      isHubError(error, 'Cancelled'),
    );
    assert.equal(requests(), before, 'no request reached the hub');
  });

  it('refuses a write whose hold ended while it waited to be sent', async () => {
    const etag = await etagOf();
    const before = requests();
    // Held when asked, no longer when the request is about to go (after the wait for quota).
    const ownership = scripted([true]);
    const access = ownedHubAccess(KEY, client, ownership);
    await assert.rejects(
      access.patchTwin({ deviceId: 'd1', slot: DEVICE_TWIN }, { tags: { a: 3 } }, etag),
      (error) => isHubError(error, 'Cancelled'),
    );
    assert.equal(ownership.asked, 2, 'asked at the call and before sending');
    assert.equal(requests(), before, 'no request reached the hub');
    assert.deepEqual((await client.readTwins(DEVICE_TWIN, ['d1'], { consistent: true })).get('d1')!.tags, {
      a: 1,
    });
  });
});
