// Which writes may start before the whole hub is read: the devices complete so far, planned as the whole read's
// plan would plan them, and only the writes no rollout and no removal needs the rest of the fleet for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EarlyWrites } from '../../src/engine/early-writes.js';
import { HubSession } from '../../src/engine/index.js';
import { ReadCompletion } from '../../src/engine/read-completion.js';
import { TwinMemory } from '../../src/engine/twin-memory.js';
import type { PlannedResource, TwinWrite } from '../../src/planner/types.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeHubAccess } from '../support/fake-hub-access.js';
import { FakeHub, resource } from '../support/planner-fixtures.js';

function fleet(n: number): FakeHub {
  const hub = new FakeHub();
  for (let i = 0; i < n; i++) hub.addDevice(`d${i}`, { environment: 'production' });
  return hub;
}

/** The writes EarlyWrites starts when every device of `hub` comes complete in one page. */
function earlyWrites(hub: FakeHub, resources: PlannedResource[], unknownOwners: 'keep' | 'remove' = 'keep') {
  const writes: TwinWrite[] = [];
  const planner = new EarlyWrites(
    resources,
    { unknownOwners },
    new TwinMemory(),
    () => ({ now: 0 }),
    (write) => writes.push(write),
  );
  const snapshot = hub.snapshot();
  const completion = new ReadCompletion([SECURITY_MODULE_ID]);
  const twins = [...(snapshot.twins.get(SECURITY_MODULE_ID)?.values() ?? [])];
  const parts = [
    ...completion.take({ devices: [], slot: SECURITY_MODULE_ID, twins }),
    ...completion.take({ devices: snapshot.devices, slot: '', twins: [] }),
  ];
  for (const [slot, completed] of parts) planner.plan(slot, completed);
  return writes;
}

const baseline = resource('iot/baseline', { eventPriorityLogin: 'Low' });

describe('EarlyWrites', () => {
  it('starts the writes of a rollout to every device at once, as the whole plan would make them', () => {
    assert.equal(earlyWrites(fleet(5), [baseline]).length, 5);
  });

  it('starts nothing for a resource rolled out in batches: a batch counts devices not read yet', () => {
    const batched = { ...baseline, rollout: { batchSize: 2, failureThreshold: '10%' } };
    assert.equal(earlyWrites(fleet(5), [batched]).length, 0);
    const percent = { ...baseline, rollout: { batchSize: '50%', failureThreshold: '10%' } };
    assert.equal(earlyWrites(fleet(5), [percent]).length, 0);
  });

  it('stops for a resource once a device read shows its rollout under way (its failure threshold counts the fleet)', () => {
    const hub = fleet(5);
    hub.apply(earlyWrites(hub, [baseline]).slice(0, 2));
    hub.agentsReport();
    assert.equal(earlyWrites(hub, [baseline]).length, 0);
  });

  it('leaves removals to the plan of the whole read', () => {
    const hub = fleet(3);
    hub.apply(earlyWrites(hub, [baseline]));
    // The resource is gone and unknown owners are pruned: every write would remove its settings.
    const other = resource('iot/other', { eventPriorityLogin: 'High' }, { priority: 5 });
    assert.equal(earlyWrites(hub, [other], 'remove').length, 0);
  });
});

describe('ReadCompletion', () => {
  it('completes a device when the later of its record and its twin arrives', () => {
    const snapshot = fleet(2).snapshot();
    const completion = new ReadCompletion([SECURITY_MODULE_ID]);
    const [d0, d1] = snapshot.devices;
    const twins = snapshot.twins.get(SECURITY_MODULE_ID)!;
    assert.equal(completion.take({ devices: [d0], slot: '', twins: [] }).size, 0);
    const first = completion.take({ devices: [], slot: SECURITY_MODULE_ID, twins: [...twins.values()] });
    assert.deepEqual(
      first.get(SECURITY_MODULE_ID)?.devices.map((d) => d.deviceId),
      ['d0'],
    );
    const second = completion.take({ devices: [d1], slot: '', twins: [] });
    assert.deepEqual(
      second.get(SECURITY_MODULE_ID)?.devices.map((d) => d.deviceId),
      ['d1'],
    );
  });
});

describe('a session writing while it reads', () => {
  it('holds back a device a halted rollout targets, even when it is read before any device the rollout reached', async () => {
    const hub = fleet(4);
    const access = new FakeHubAccess(hub);
    const clock = new FakeClock();
    access.clock = clock;
    const session = new HubSession(access, { unknownOwners: 'keep', clock });
    // Agents that never answer: past the timeout every device is stalled, past the threshold the rollout halts.
    const stalling = { ...baseline, convergenceTimeoutMs: 1000 };
    const first = await session.step([stalling]);
    assert.equal(first.writesSucceeded, 4);
    await clock.advance(5000);
    const halted = await session.step([stalling], { fullRead: true });
    assert.equal(halted.finalPlan.reports.get(stalling.key)?.rollout.halted, true);

    // A device newly targeted, read first: the whole read's plan holds it back, and so must the early writes.
    hub.addDevice('a-new', { environment: 'production' });
    access.pageOrder = ['a-new'];
    const patches = access.calls.patches;
    const next = await session.step([stalling], { fullRead: true });
    assert.equal(next.finalPlan.reports.get(stalling.key)?.rollout.halted, true);
    assert.equal(next.writesSucceeded, 0);
    assert.equal(access.calls.patches, patches, 'nothing written while the rollout is halted');
    assert.equal(hub.desiredValue('a-new', 'eventPriorityLogin'), undefined);
  });

  it('holds back a device a halted rollout targets in a new session (a restarted operator) told by the status', async () => {
    const hub = fleet(4);
    const access = new FakeHubAccess(hub);
    const clock = new FakeClock();
    access.clock = clock;
    const stalling = { ...baseline, convergenceTimeoutMs: 1000 };
    const before = new HubSession(access, { unknownOwners: 'keep', clock });
    await before.step([stalling]);
    await clock.advance(5000);
    const halted = await before.step([stalling], { fullRead: true });
    assert.equal(halted.finalPlan.reports.get(stalling.key)?.rollout.halted, true);

    // The process restarts: its session has planned nothing yet; the resource's status records the halt.
    hub.addDevice('a-new', { environment: 'production' });
    access.pageOrder = ['a-new'];
    const patches = access.calls.patches;
    const restarted = new HubSession(access, { unknownOwners: 'keep', clock });
    const next = await restarted.step([stalling], { rolloutsUnderWay: new Set([stalling.key]) });
    assert.equal(next.finalPlan.reports.get(stalling.key)?.rollout.halted, true);
    assert.equal(access.calls.patches, patches, 'nothing written while the rollout is halted');
    assert.equal(hub.desiredValue('a-new', 'eventPriorityLogin'), undefined);
  });
});
