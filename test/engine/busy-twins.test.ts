// A twin another writer keeps changing answers every write of ours with 412. That is no refusal: the device is
// reported not written for a cause that passes (TwinBusy: retried, like a throttled write, so it neither ends
// `sync --wait` with exit 1 nor counts against a rollout's failure threshold, while a one-shot `sync` says the twin
// is not written), and a later step writes it once the twin holds still long enough.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reconcileHub, TwinMemory } from '../../src/engine/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { FakeHubAccess } from '../support/fake-hub-access.js';
import { FakeHub, resource } from '../support/planner-fixtures.js';

const baseline = resource('iot/baseline', { eventPriorityLogin: 'Low' });

describe('a twin another writer keeps changing', () => {
  it('is reported retrying (TwinBusy) after every re-plan met a changed etag, and written at the next step', async () => {
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
          slot: SECURITY_MODULE_ID,
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
    const report = first.finalPlan.reports.get('iot/baseline')!;
    assert.deepEqual(
      report.failures.map((f) => `${f.deviceId}: ${f.reason}`),
      ['d1: TwinBusy'],
      'd1 is reported not written, for a cause that passes',
    );
    assert.equal(report.retryingDevices, 1, 'd1 is retried, not failed for good');
    const ready = report.conditions.find((c) => c.type === 'Ready')!;
    assert.equal(ready.reason, 'TwinsBusy', 'no hub error: another writer is at work');
    assert.match(ready.message, /another writer kept changing their twins/);
    assert.equal(report.stuck, false);
    assert.equal(first.writesFailed, 1);
    busy = false;
    const second = await reconcileHub(access, [baseline], { unknownOwners: 'keep', memory });
    assert.equal(second.writesSucceeded, 1);
    assert.equal(hub.desiredValue('d1', 'eventPriorityLogin'), 'Low');
    assert.equal(hub.modules.get('d1')!.tags.other, revision, "the other writer's tag kept");
  });
});
