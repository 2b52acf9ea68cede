// The hub session: how much each step reads, when it says the next step is due, and a drain that stops starting
// writes (a changed resource is planned at once, on what the session already knows).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HubSession } from '../../src/engine/index.js';
import { StopController } from '../../src/runtime/stop-controller.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeHubAccess } from '../support/fake-hub-access.js';
import { FakeHub, resource } from '../support/planner-fixtures.js';

function fleet(n = 5): FakeHub {
  const hub = new FakeHub();
  for (let i = 0; i < n; i++) hub.addDevice(`d${i}`, { environment: 'production' });
  return hub;
}

const baseline = resource('iot/baseline', { eventPriorityLogin: 'Low' });

function session(access: FakeHubAccess, clock: FakeClock) {
  return new HubSession(access, {
    unknownOwners: 'keep',
    clock,
    pollMs: 2000,
    fullReadWhileWaitingMs: 30_000,
    resyncMs: 600_000,
  });
}

describe('HubSession', () => {
  it('reads the whole hub first, then only the twins of devices awaiting their agent, on the poll schedule', async () => {
    const access = new FakeHubAccess(fleet());
    const clock = new FakeClock();
    const s = session(access, clock);
    const first = await s.step([baseline]);
    assert.equal(first.read, 'full');
    assert.equal(first.writesSucceeded, 5);
    assert.equal(first.waiting, true);
    assert.equal(first.nextStepInMs, 250, 'fresh writes are checked soon');

    await clock.advanceTo(100);
    const early = await s.step([baseline]);
    assert.equal(early.read, 'none', 'called before the check is due: plans on what it has');
    assert.equal(early.writesSucceeded, 0);
    assert.equal(early.nextStepInMs, 150, 'the check of the twins written stays due at 250 ms');

    await clock.advanceTo(500);
    const silent = await s.step([baseline]);
    assert.equal(silent.read, 'partial', 'the agents have not answered yet');
    assert.equal(silent.nextStepInMs, 500, 'and the next check of those twins comes twice as late');

    access.hub.agentsReport();
    await clock.advanceTo(2000);
    const polled = await s.step([baseline]);
    assert.equal(polled.read, 'partial');
    assert.equal(access.calls.rereads, 2);
    assert.equal(access.calls.snapshots, 1);
    const report = polled.finalPlan.reports.get('iot/baseline')!;
    assert.equal(report.ready, true);
    assert.equal(polled.waiting, false);
    assert.equal(polled.nextStepInMs, 600_000 - 2000, 'settled: the next step is the resync');
  });

  it('re-reads a silent twin twice as late each time, whatever the twins written after it do', async () => {
    const hub = fleet(4);
    for (let i = 4; i < 8; i++) hub.addDevice(`d${i}`, { environment: 'staging' });
    const access = new FakeHubAccess(hub);
    const clock = new FakeClock();
    const s = session(access, clock);
    await s.step([baseline]);
    // d0's agent never answers; the others do, and a second resource is written to the staging devices later.
    const silent = structuredClone(hub.modules.get('d0')!);
    const answer = (quiet: string[] = []) => {
      const kept = quiet.map((id) => [id, structuredClone(hub.modules.get(id)!)] as const);
      hub.agentsReport();
      hub.modules.set('d0', structuredClone(silent));
      for (const [id, twin] of kept) hub.modules.set(id, twin);
    };
    // (The staging twins untouched: their agents have nothing to answer yet.)
    answer(['d4', 'd5', 'd6', 'd7']);
    await clock.advanceTo(250);
    assert.equal((await s.step([baseline])).nextStepInMs, 500);
    const staging = resource(
      'iot/staging',
      { eventPriorityLogin: 'Off' },
      { target: { condition: "tags.environment = 'staging'" } },
    );
    const reads: string[][] = [];
    const step = async (at: number) => {
      await clock.advanceTo(at);
      const before = access.reads.length;
      const outcome = await s.step([baseline, staging]);
      reads.push(...access.reads.slice(before));
      return outcome;
    };
    const written = await step(750);
    assert.equal(written.writesSucceeded, 4);
    assert.equal(written.nextStepInMs, 250, 'the twins just written are checked soon');
    answer();
    for (const at of [1000, 1750, 3750]) assert.equal((await step(at)).read, 'partial', `at ${at} ms`);
    assert.deepEqual(
      reads,
      [['d0'], ['d4', 'd5', 'd6', 'd7'], ['d0'], ['d0']],
      'd0 at 750 ms, 1,750 ms, then every 2 s; the staging twins 250 ms after their write',
    );
    assert.equal((await step(4000)).read, 'none', 'nothing is due');
    assert.equal((await step(5750)).nextStepInMs, 2000);
  });

  it('reads the whole hub again while waiting after fullReadWhileWaitingMs, and when asked', async () => {
    const access = new FakeHubAccess(fleet());
    const clock = new FakeClock();
    const s = session(access, clock);
    await s.step([baseline]);
    await clock.advanceTo(30_000);
    assert.equal((await s.step([baseline])).read, 'full');
    await clock.advanceTo(31_000);
    assert.equal((await s.step([baseline], { fullRead: true })).read, 'full');
    assert.equal(access.calls.snapshots, 3);
  });

  it('plans an edited resource on the last snapshot at once, without reading the hub again', async () => {
    const access = new FakeHubAccess(fleet());
    const clock = new FakeClock();
    const s = session(access, clock);
    await s.step([baseline]);
    access.hub.agentsReport();
    await clock.advanceTo(2000);
    await s.step([baseline]);
    const edited = resource('iot/baseline', { eventPriorityLogin: 'High' });
    await clock.advanceTo(2500);
    const outcome = await s.step([edited]);
    assert.equal(outcome.read, 'none');
    assert.equal(outcome.writesSucceeded, 5, 'written from the twins the hub returned to our last writes');
    assert.equal(outcome.conflictsReplanned, 0);
    assert.equal(access.hub.desiredValue('d0', 'eventPriorityLogin'), 'High');
  });

  it('stops starting writes on a drain, and says the next step is due at once', async () => {
    const access = new FakeHubAccess(fleet(20));
    const clock = new FakeClock();
    const s = new HubSession(access, { unknownOwners: 'keep', clock, concurrency: 1 });
    const stopping = new StopController();
    access.beforePatch = () => {
      if (access.calls.patches === 3) stopping.drain();
    };
    const outcome = await s.step([baseline], { stop: stopping.stop });
    assert.equal(outcome.interrupted, true);
    assert.equal(outcome.writesSucceeded, 3, 'the write in flight finished, no new one started');
    assert.equal(outcome.nextStepInMs, 0);
    const rest = await s.step([baseline]);
    assert.equal(rest.writesSucceeded, 17);
    assert.equal(access.calls.patches, 20, 'every twin written once');
  });

  it('writes a twin again when the hub lost the write (a GET shows it older than what was written)', async () => {
    const access = new FakeHubAccess(fleet(2));
    const clock = new FakeClock();
    const s = session(access, clock);
    const before = structuredClone(access.hub.modules.get('d0')!);
    await s.step([baseline]);
    assert.equal(access.hub.desiredValue('d0', 'eventPriorityLogin'), 'Low');
    // A failover loses the last writes: the twin is back as it was, its version lower than the one written.
    access.hub.modules.set('d0', before);
    await clock.advanceTo(300);
    const again = await s.step([baseline]);
    assert.equal(again.read, 'partial');
    assert.equal(again.writesSucceeded, 1, 'the lost write is made again, and only that one');
    assert.equal(access.hub.desiredValue('d0', 'eventPriorityLogin'), 'Low');
  });
});
