// A twin another writer keeps changing answers every write of ours with 412. That is no refusal: the device is
// not failed (a failed device ends `sync --wait` with exit 1 and counts against a rollout's failure threshold);
// it stays planned, and a later step writes it once the twin holds still long enough.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reconcileHub, TwinMemory } from '../../src/engine/index.js';
import { FakeHubAccess } from '../support/fake-hub-access.js';
import { FakeHub, resource } from '../support/planner-fixtures.js';

const baseline = resource('iot/baseline', { eventPriorityLogin: 'Low' });

describe('a twin another writer keeps changing', () => {
  it('is retried at the next step, not failed, after every re-plan met a changed etag', async () => {
    const hub = new FakeHub();
    for (const id of ['d0', 'd1']) hub.addDevice(id, { environment: 'production' });
    const access = new FakeHubAccess(hub);
    let busy = true;
    let revision = 0;
    access.beforePatch = (deviceId) => {
      if (deviceId !== 'd1' || !busy) return;
      // The other writer's own tag, changed before each of our writes lands.
      hub.apply([
        {
          deviceId,
          etag: hub.modules.get(deviceId)!.etag,
          patch: { tags: { other: ++revision } },
          changedSettings: [],
        },
      ]);
    };
    const memory = new TwinMemory();
    const first = await reconcileHub(access, [baseline], { unknownOwners: 'keep', memory });
    assert.equal(first.writesSucceeded, 1, 'd0 written');
    assert.equal(first.writesFailed, 0, 'a 412 is not a failed write');
    const report = first.finalPlan.reports.get('iot/baseline')!;
    assert.equal(report.counts.failedDevices, 0);
    assert.deepEqual(report.failures, []);
    assert.deepEqual(
      first.finalPlan.writes.map((w) => w.deviceId),
      ['d1'],
      'd1 is still to be written',
    );
    busy = false;
    const second = await reconcileHub(access, [baseline], { unknownOwners: 'keep', memory });
    assert.equal(second.writesSucceeded, 1);
    assert.equal(hub.desiredValue('d1', 'eventPriorityLogin'), 'Low');
    assert.equal(hub.modules.get('d1')!.tags.other, revision, "the other writer's tag kept");
  });
});
