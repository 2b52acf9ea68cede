// A hub that loses writes it acknowledged (a failover, a restart from an older state) shows the twins older than
// what was written, and no query ever catches up. The engine tells that from a query lagging behind: a query that
// shows a later write of ours but not an earlier one does not lag, so those twins are read by GET and, found
// older, written again (and only they); so are those a query shows older after the hub went away (attempts got no
// answer). A query merely lagging costs no write and no GET, until it lags a minute.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetSnapshot } from '../../src/engine/fleet-snapshot.js';
import { reconcileHub, TwinMemory } from '../../src/engine/index.js';
import { SUSPECT_LAG_MS } from '../../src/engine/twin-memory.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeHubAccess } from '../support/fake-hub-access.js';
import { FakeHub, resource } from '../support/planner-fixtures.js';

const baseline = resource('iot/baseline', { eventPriorityLogin: 'Low' });

function setup() {
  const hub = new FakeHub();
  for (const id of ['d0', 'd1']) hub.addDevice(id, { environment: 'production' });
  const access = new FakeHubAccess(hub);
  const clock = new FakeClock();
  const memory = new TwinMemory();
  const reconcile = () => reconcileHub(access, [baseline], { unknownOwners: 'keep', memory, clock });
  return { hub, access, clock, memory, reconcile };
}

describe('writes the hub lost', () => {
  it('are written again, and only they, once a query shows a later write of ours but not them', async () => {
    const { hub, access, clock, reconcile } = setup();
    const before = structuredClone(hub.modules.get('d0')!);
    assert.equal((await reconcile()).writesSucceeded, 2, 'd0 and d1 written at 0 s');
    // The hub comes back from a failover without d0's write: its twin as before, its version lower.
    hub.modules.set('d0', before);
    // Two devices join, written 5 s later: the queries still show d0 older, which could be lag.
    for (const id of ['d2', 'd3']) hub.addDevice(id, { environment: 'production' });
    await clock.advanceTo(5000);
    assert.equal((await reconcile()).writesSucceeded, 2, 'd2 and d3; d0 not yet');
    // A query shows d2 and d3 written but not d0, written 5 s before them: d0's write was lost.
    await clock.advanceTo(6000);
    const again = await reconcile();
    assert.equal(again.writesSucceeded, 1, 'only the lost write is made again');
    assert.equal(access.calls.patches, 5);
    assert.equal(hub.desiredValue('d0', 'eventPriorityLogin'), 'Low');
  });

  it('are written again at the next read when the hub went away since (attempts got no answer)', async () => {
    const { hub, access, clock, reconcile } = setup();
    const before = structuredClone(hub.modules.get('d0')!);
    await reconcile();
    // The hub restarts without d0's write; the client saw connections refused meanwhile.
    hub.modules.set('d0', before);
    Object.assign(access, { outages: 3 });
    await clock.advanceTo(1000);
    const again = await reconcile();
    assert.equal(again.writesSucceeded, 1, 'only the lost write is made again');
    assert.equal(access.calls.rereads, 1, 'one re-read by GET, of the twin the queries show older');
    assert.equal(hub.desiredValue('d0', 'eventPriorityLogin'), 'Low');
  });

  it('are written again when the hub went away after a step that reused the snapshot holding the write answers', async () => {
    const { hub, access, clock, memory, reconcile } = setup();
    const before = structuredClone(hub.modules.get('d0')!);
    // A session's snapshot, kept between steps: it holds the answers of the writes made in it.
    const kept = new FleetSnapshot(await access.readSnapshot([]));
    const step = () =>
      reconcileHub(access, [baseline], { unknownOwners: 'keep', memory, clock, snapshot: kept });
    assert.equal((await step()).writesSucceeded, 2);
    // The hub goes away and comes back without d0's write; a step runs on the kept snapshot meanwhile (an edit
    // between two reads): the write answers in it are what the hub held at the write, not after the outage.
    hub.modules.set('d0', before);
    Object.assign(access, { outages: 3 });
    await clock.advanceTo(1000);
    assert.equal((await step()).writesSucceeded, 0);
    await clock.advanceTo(2000);
    const again = await reconcile();
    assert.equal(
      again.writesSucceeded,
      1,
      'the lost write is made again at the next read, not a minute later',
    );
    assert.equal(hub.desiredValue('d0', 'eventPriorityLogin'), 'Low');
  });

  it('lose no module: one the hub lost with our write is created again (when the resource creates modules) and written', async () => {
    const { hub, access, clock, memory } = setup();
    const creating = resource('iot/baseline', { eventPriorityLogin: 'Low' }, { createModule: true });
    const reconcile = () => reconcileHub(access, [creating], { unknownOwners: 'keep', memory, clock });
    assert.equal((await reconcile()).writesSucceeded, 2);
    // The hub comes back from an older state that lacks d0's module altogether; the client saw attempts fail.
    hub.modules.delete('d0');
    Object.assign(access, { outages: 3 });
    await clock.advanceTo(1000);
    const again = await reconcile();
    assert.equal(again.modulesCreated, 1, 'the module is created again');
    assert.equal(again.writesSucceeded, 1, 'and written');
    assert.equal(hub.desiredValue('d0', 'eventPriorityLogin'), 'Low');
  });

  it('do not stop a step when re-reading them fails: the other devices are written, the suspects read again next', async () => {
    const { hub, access, clock, reconcile } = setup();
    const before = structuredClone(hub.modules.get('d0')!);
    await reconcile();
    hub.modules.set('d0', before);
    Object.assign(access, { outages: 3 });
    hub.addDevice('d2', { environment: 'production' });
    const read = access.readTwins.bind(access);
    access.readTwins = async () => {
      throw Object.assign(new Error('503 from the hub'), { kind: 'Transient' });
    };
    await clock.advanceTo(1000);
    const failing = await reconcile();
    assert.deepEqual(
      failing.initialPlan.writes.map((w) => w.deviceId),
      ['d2'],
      'd2 is written; d0 is not re-written unread',
    );
    access.readTwins = read;
    await clock.advanceTo(2000);
    assert.equal((await reconcile()).writesSucceeded, 1, 'the lost write is made at the next step');
    assert.equal(hub.desiredValue('d0', 'eventPriorityLogin'), 'Low');
  });

  it('are not suspected while queries merely lag: no write, no GET, until they lag a minute', async () => {
    const { hub, access, clock, reconcile } = setup();
    access.laggingSnapshot = hub.snapshot();
    await reconcile();
    hub.agentsReport();
    await clock.advanceTo(10_000);
    const rereads = access.calls.rereads;
    const lagging = await reconcile();
    assert.equal(lagging.writesSucceeded, 0);
    assert.equal(access.calls.rereads, rereads, 'nothing re-read: every write of ours is behind alike');
    await clock.advanceTo(SUSPECT_LAG_MS + 1000);
    const late = await reconcile();
    assert.equal(late.writesSucceeded, 0, 'a GET shows the writes are there: nothing written again');
    assert.equal(access.calls.rereads, rereads + 1, 'one re-read by GET of the twins lagging that long');
    assert.equal(access.calls.patches, 2);
    assert.equal(late.finalPlan.reports.get('iot/baseline')!.counts.convergedDevices, 2);
  });
});
