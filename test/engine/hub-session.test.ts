// The hub session: how much each step reads, when it says the next step is due, and a soft interrupt that stops
// starting writes (a changed resource is planned at once, on what the session already knows).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HubSession } from '../../src/engine/index.js';
import { FakeHubAccess } from '../support/fake-hub-access.js';
import { FakeHub, resource } from '../support/planner-fixtures.js';

function fleet(n = 5): FakeHub {
  const hub = new FakeHub();
  for (let i = 0; i < n; i++) hub.addDevice(`d${i}`, { environment: 'production' });
  return hub;
}

const baseline = resource('iot/baseline', { eventPriorityLogin: 'Low' });

function session(access: FakeHubAccess, now: { t: number }) {
  return new HubSession(access, {
    unknownOwners: 'keep',
    clock: () => now.t,
    pollMs: 2000,
    fullReadWhileWaitingMs: 30_000,
    resyncMs: 600_000,
  });
}

describe('HubSession', () => {
  it('reads the whole hub first, then only the twins of devices awaiting their agent, on the poll schedule', async () => {
    const access = new FakeHubAccess(fleet());
    const now = { t: 0 };
    const s = session(access, now);
    const first = await s.step([baseline]);
    assert.equal(first.read, 'full');
    assert.equal(first.writesSucceeded, 5);
    assert.equal(first.waiting, true);
    assert.equal(first.nextStepInMs, 250, 'fresh writes are checked soon');

    now.t = 100;
    const early = await s.step([baseline]);
    assert.equal(early.read, 'none', 'called before the check is due: plans on what it has');
    assert.equal(early.writesSucceeded, 0);
    assert.equal(early.nextStepInMs, 400, 'no write this time: the next check waits twice as long');

    now.t = 500;
    const silent = await s.step([baseline]);
    assert.equal(silent.read, 'partial', 'the agents have not answered yet');
    assert.equal(silent.nextStepInMs, 1000, 'and the checks back off');

    access.hub.agentsReport();
    now.t = 2000;
    const polled = await s.step([baseline]);
    assert.equal(polled.read, 'partial');
    assert.equal(access.calls.rereads, 2);
    assert.equal(access.calls.snapshots, 1);
    const report = polled.finalPlan.reports.get('iot/baseline')!;
    assert.equal(report.ready, true);
    assert.equal(polled.waiting, false);
    assert.equal(polled.nextStepInMs, 600_000 - 2000, 'settled: the next step is the resync');
  });

  it('reads the whole hub again while waiting after fullReadWhileWaitingMs, and when asked', async () => {
    const access = new FakeHubAccess(fleet());
    const now = { t: 0 };
    const s = session(access, now);
    await s.step([baseline]);
    now.t = 30_000;
    assert.equal((await s.step([baseline])).read, 'full');
    now.t = 31_000;
    assert.equal((await s.step([baseline], { fullRead: true })).read, 'full');
    assert.equal(access.calls.snapshots, 3);
  });

  it('plans an edited resource on the last snapshot at once, without reading the hub again', async () => {
    const access = new FakeHubAccess(fleet());
    const now = { t: 0 };
    const s = session(access, now);
    await s.step([baseline]);
    access.hub.agentsReport();
    now.t = 2000;
    await s.step([baseline]);
    const edited = resource('iot/baseline', { eventPriorityLogin: 'High' });
    now.t = 2500;
    const outcome = await s.step([edited]);
    assert.equal(outcome.read, 'none');
    assert.equal(outcome.writesSucceeded, 5, 'written from the twins the hub returned to our last writes');
    assert.equal(outcome.conflictsReplanned, 0);
    assert.equal(access.hub.desiredValue('d0', 'eventPriorityLogin'), 'High');
  });

  it('stops starting writes on an interrupt, and says the next step is due at once', async () => {
    const access = new FakeHubAccess(fleet(20));
    const now = { t: 0 };
    const s = new HubSession(access, { unknownOwners: 'keep', clock: () => now.t, concurrency: 1 });
    const interrupt = new AbortController();
    access.beforePatch = () => {
      if (access.calls.patches === 3) interrupt.abort();
    };
    const outcome = await s.step([baseline], { interrupt: interrupt.signal });
    assert.equal(outcome.interrupted, true);
    assert.equal(outcome.writesSucceeded, 3, 'the write in flight finished, no new one started');
    assert.equal(outcome.nextStepInMs, 0);
    const rest = await s.step([baseline]);
    assert.equal(rest.writesSucceeded, 17);
    assert.equal(access.calls.patches, 20, 'every twin written once');
  });

  it('writes a twin again when the hub lost the write (a GET shows it older than what was written)', async () => {
    const access = new FakeHubAccess(fleet(2));
    const now = { t: 0 };
    const s = session(access, now);
    const before = structuredClone(access.hub.modules.get('d0')!);
    await s.step([baseline]);
    assert.equal(access.hub.desiredValue('d0', 'eventPriorityLogin'), 'Low');
    // A failover loses the last writes: the twin is back as it was, its version lower than the one written.
    access.hub.modules.set('d0', before);
    now.t = 300;
    const again = await s.step([baseline]);
    assert.equal(again.read, 'partial');
    assert.equal(again.writesSucceeded, 1, 'the lost write is made again, and only that one');
    assert.equal(access.hub.desiredValue('d0', 'eventPriorityLogin'), 'Low');
  });
});
