import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PlannedResource, planHubReconcile } from '../../src/planner/index.js';
import { rolloutProgress } from '../../src/planner/rollout.js';
import { FakeHub, resource } from '../support/planner-fixtures.js';

function tenDevices(): FakeHub {
  const hub = new FakeHub();
  for (let i = 0; i < 10; i++) hub.addDevice(`d${i}`, { environment: 'production' });
  return hub;
}

const plan = (hub: FakeHub, resources: PlannedResource[], now = 1000) =>
  planHubReconcile({ snapshot: hub.snapshot(), resources, now, unknownOwners: 'keep' });

describe('rollout', () => {
  it('completes a batch written in part before it waits for the batch to converge', () => {
    const rollout = { batchSize: 10, failureThreshold: '10%' };
    assert.equal(rolloutProgress(rollout, 50, 3, 3, 0).capacity, 7, 'a batch interrupted after 3 writes');
    assert.equal(rolloutProgress(rollout, 50, 10, 4, 0).capacity, 0, 'a whole batch in flight');
    assert.equal(rolloutProgress(rollout, 50, 10, 0, 0).capacity, 10, 'the batch converged: the next one');
    assert.equal(rolloutProgress(rollout, 50, 10, 0, 5).capacity, 0, 'halted past the threshold');
  });

  it('writes one batch at a time and starts the next when the previous one converged', () => {
    const hub = tenDevices();
    const r = resource(
      'iot/r',
      { snapshotFrequency: 'PT1H' },
      { rollout: { batchSize: 3, failureThreshold: '50%' } },
    );
    const first = plan(hub, [r]);
    assert.deepEqual(
      first.writes.map((w) => w.deviceId),
      ['d0', 'd1', 'd2'],
    );
    assert.equal(first.reports.get('iot/r')!.deferredDevices, 7);
    hub.apply(first.writes);
    assert.deepEqual(plan(hub, [r]).writes, [], 'the batch is in flight: nothing new starts');
    hub.agentsReport();
    assert.deepEqual(
      plan(hub, [r]).writes.map((w) => w.deviceId),
      ['d3', 'd4', 'd5'],
    );
  });

  it('resumes from what the twins record after a restart, writing no device twice', () => {
    const hub = tenDevices();
    const r = resource(
      'iot/r',
      { snapshotFrequency: 'PT1H' },
      { rollout: { batchSize: '40%', failureThreshold: '50%' } },
    );
    hub.apply(plan(hub, [r]).writes);
    hub.agentsReport();
    // A new process: nothing but the twins carries over.
    const resumed = plan(hub, [r]);
    assert.deepEqual(
      resumed.writes.map((w) => w.deviceId),
      ['d4', 'd5', 'd6', 'd7'],
    );
    assert.equal(resumed.reports.get('iot/r')!.rollout.reached, 4);
  });

  it('lets the next batch start when the previous one timed out', () => {
    const hub = tenDevices();
    const r = resource(
      'iot/r',
      { snapshotFrequency: 'PT1H' },
      { rollout: { batchSize: 5, failureThreshold: '100%' }, convergenceTimeoutMs: 60_000 },
    );
    hub.apply(plan(hub, [r]).writes, 1000);
    assert.deepEqual(plan(hub, [r], 2000).writes, []);
    assert.equal(plan(hub, [r], 1000 + 61_000).writes.length, 5);
  });

  it('halts when stalled devices pass the failure threshold, until the spec changes', () => {
    const hub = tenDevices();
    const r = resource(
      'iot/r',
      { snapshotFrequency: 'PT1H' },
      { rollout: { batchSize: 5, failureThreshold: 1 }, convergenceTimeoutMs: 60_000 },
    );
    hub.apply(plan(hub, [r]).writes, 1000);
    // Two agents of the first batch never answer; the rest report.
    hub.devices.find((d) => d.deviceId === 'd0')!.connectionState = 'Disconnected';
    hub.devices.find((d) => d.deviceId === 'd1')!.connectionState = 'Disconnected';
    hub.agentsReport();
    hub.devices.find((d) => d.deviceId === 'd0')!.connectionState = 'Connected';
    hub.devices.find((d) => d.deviceId === 'd1')!.connectionState = 'Connected';
    const halted = plan(hub, [r], 1000 + 120_000);
    const report = halted.reports.get('iot/r')!;
    assert.equal(report.counts.stalledDevices, 2);
    assert.equal(report.rollout.halted, true);
    assert.deepEqual(halted.writes, []);
    const stalled = report.conditions.find((c) => c.type === 'Stalled')!;
    assert.deepEqual([stalled.status, stalled.reason], ['True', 'RolloutHalted']);
    // A new revision starts a new rollout.
    const fixed = { ...r, settings: { snapshotFrequency: 'PT2H' } };
    assert.equal(plan(hub, [fixed], 1000 + 120_000).writes.length, 5);
  });

  it('does not hold back removals behind a rollout', () => {
    const hub = tenDevices();
    const r = resource('iot/r', { snapshotFrequency: 'PT1H' });
    hub.apply(plan(hub, [r]).writes);
    const removal = planHubReconcile({
      snapshot: hub.snapshot(),
      resources: [],
      now: 1000,
      unknownOwners: 'remove',
    });
    assert.equal(removal.writes.length, 10);
  });
});
