import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWaiting, reconcileHub, TwinMemory } from '../../src/engine/index.js';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeHubAccess } from '../support/fake-hub-access.js';
import { FakeHub, resource } from '../support/planner-fixtures.js';

function fleet(n = 5): FakeHub {
  const hub = new FakeHub();
  for (let i = 0; i < n; i++) hub.addDevice(`d${i}`, { environment: 'production' });
  return hub;
}

const baseline = resource('iot/baseline', { eventPriorityLogin: 'Low' });

describe('reconcileHub', () => {
  it('writes the planned twins and reports them applied', async () => {
    const access = new FakeHubAccess(fleet());
    const outcome = await reconcileHub(access, [baseline], { unknownOwners: 'keep' });
    assert.equal(outcome.writesSucceeded, 5);
    const report = outcome.finalPlan.reports.get('iot/baseline')!;
    assert.equal(report.counts.appliedDevices, 5);
    assert.equal(report.counts.pendingDevices, 5);
    assert.equal(access.hub.desiredValue('d3', 'eventPriorityLogin'), 'Low');
  });

  it('writes nothing in a dry run', async () => {
    const access = new FakeHubAccess(fleet());
    const outcome = await reconcileHub(access, [baseline], { unknownOwners: 'keep', dryRun: true });
    assert.equal(outcome.initialPlan.writes.length, 5);
    assert.equal(access.calls.patches, 0);
    assert.equal(access.hub.desiredValue('d0', 'eventPriorityLogin'), undefined);
  });

  it('does not write a twin again when a lagging query still shows it as before', async () => {
    const access = new FakeHubAccess(fleet());
    access.laggingSnapshot = access.hub.snapshot();
    const memory = new TwinMemory();
    await reconcileHub(access, [baseline], { unknownOwners: 'keep', memory });
    access.hub.agentsReport();
    const second = await reconcileHub(access, [baseline], { unknownOwners: 'keep', memory });
    assert.equal(second.writesSucceeded, 0);
    assert.equal(access.calls.patches, 5);
    const report = second.finalPlan.reports.get('iot/baseline')!;
    assert.equal(report.counts.convergedDevices, 0, 'a report from before the write is not convergence');
    // Once the queries catch up, the devices count as converged.
    access.laggingSnapshot = undefined;
    const third = await reconcileHub(access, [baseline], { unknownOwners: 'keep', memory });
    assert.equal(third.finalPlan.reports.get('iot/baseline')!.counts.convergedDevices, 5);
    assert.equal(memory.size, 0);
  });

  it('re-reads and re-plans a device another writer changed since the snapshot (412)', async () => {
    const access = new FakeHubAccess(fleet(2));
    let raced = false;
    access.beforePatch = (deviceId) => {
      if (deviceId !== 'd1' || raced) return;
      raced = true;
      // Someone sets an unrelated setting: the etag changes, our write must not overwrite it.
      access.hub.apply([
        {
          slot: SECURITY_MODULE_ID,
          deviceId,
          etag: access.hub.modules.get(deviceId)!.etag,
          patch: {
            properties: { desired: { [AGENT_CONFIGURATION_KEY]: { snapshotFrequency: { value: 'PT2H' } } } },
          },
          changedSettings: [],
        },
      ]);
    };
    const outcome = await reconcileHub(access, [baseline], { unknownOwners: 'keep' });
    assert.equal(outcome.conflictsReplanned, 1);
    assert.equal(outcome.writesSucceeded, 2);
    assert.equal(access.hub.desiredValue('d1', 'eventPriorityLogin'), 'Low');
    assert.equal(access.hub.desiredValue('d1', 'snapshotFrequency'), 'PT2H');
  });

  it('creates missing modules when the resource asks, then configures them', async () => {
    const hub = fleet(1);
    hub.addDevice('bare', { environment: 'production' }, { module: false });
    const access = new FakeHubAccess(hub);
    const outcome = await reconcileHub(access, [{ ...baseline, createModule: true }], {
      unknownOwners: 'keep',
    });
    assert.equal(outcome.modulesCreated, 1);
    assert.equal(access.hub.desiredValue('bare', 'eventPriorityLogin'), 'Low');
  });

  it('reports a write the hub refuses as a failure of that device', async () => {
    const access = new FakeHubAccess(fleet(2));
    access.beforePatch = (deviceId) => {
      if (deviceId === 'd0')
        throw Object.assign(new Error('hub said 400: ArgumentInvalid'), { kind: 'InvalidArgument' });
    };
    const outcome = await reconcileHub(access, [baseline], { unknownOwners: 'keep' });
    assert.equal(outcome.writesFailed, 1);
    const failures = outcome.finalPlan.reports.get('iot/baseline')!.failures;
    assert.deepEqual(
      failures.map((f) => [f.deviceId, f.reason]),
      [['d0', 'TwinWriteFailed']],
    );
  });

  it('retries devices whose write the hub throttled or could not take, without halting a rollout or sticking', async () => {
    const access = new FakeHubAccess(fleet(4));
    const refusals: Record<string, object> = {
      d0: { kind: 'Transient', statusCode: 503 },
      d1: { kind: 'Throttled', statusCode: 429 },
    };
    access.beforePatch = (deviceId) => {
      const refusal = refusals[deviceId];
      if (refusal) throw Object.assign(new Error(`hub said ${JSON.stringify(refusal)}`), refusal);
    };
    // A threshold of 0: one refused write would halt this rollout if it counted as a failed device.
    const strict = { ...baseline, rollout: { batchSize: 4, failureThreshold: 0 } };
    const first = await reconcileHub(access, [strict], { unknownOwners: 'keep' });
    const report = first.finalPlan.reports.get('iot/baseline')!;
    assert.deepEqual(
      report.failures.map((f) => [f.deviceId, f.reason]),
      [
        ['d0', 'HubUnavailable'],
        ['d1', 'HubThrottled'],
      ],
    );
    assert.equal(report.retryingDevices, 2);
    assert.equal(report.rollout.halted, false);
    assert.equal(report.stuck, false);
    assert.ok(isWaiting(first.finalPlan), 'the session keeps stepping');
    const conditions = Object.fromEntries(report.conditions.map((c) => [c.type, [c.status, c.reason]]));
    assert.deepEqual(conditions, {
      Ready: ['False', 'HubErrors'],
      Reconciling: ['True', 'RetryingWrites'],
      Stalled: ['False', 'RetryingWrites'],
    });
    // The hub recovers: the next reconcile writes them.
    access.beforePatch = undefined;
    const second = await reconcileHub(access, [strict], { unknownOwners: 'keep' });
    assert.equal(second.writesSucceeded, 2);
    assert.equal(second.finalPlan.reports.get('iot/baseline')!.retryingDevices, 0);
  });

  it('does not retry a write refused for a used-up daily quota (403): it needs a day or a bigger hub', async () => {
    const access = new FakeHubAccess(fleet(1));
    access.beforePatch = () => {
      throw Object.assign(new Error('daily quota'), { kind: 'Throttled', statusCode: 403 });
    };
    const outcome = await reconcileHub(access, [baseline], { unknownOwners: 'keep' });
    const report = outcome.finalPlan.reports.get('iot/baseline')!;
    assert.deepEqual(
      report.failures.map((f) => f.reason),
      ['QuotaExceeded'],
    );
    assert.equal(report.stuck, true);
  });

  it('does not write an ownership-only change again while queries lag', async () => {
    const access = new FakeHubAccess(fleet(3));
    const memory = new TwinMemory();
    await reconcileHub(access, [baseline], { unknownOwners: 'keep', memory });
    access.hub.agentsReport();
    // Renamed: the same settings under a new owner is a write of tags alone.
    const renamed = { ...baseline, key: 'iot/baseline-v2' };
    access.laggingSnapshot = access.hub.snapshot();
    const first = await reconcileHub(access, [renamed], { unknownOwners: 'remove', memory });
    assert.equal(first.writesSucceeded, 3);
    const second = await reconcileHub(access, [renamed], { unknownOwners: 'remove', memory });
    assert.equal(
      second.writesSucceeded + second.conflictsReplanned,
      0,
      'the lagging query shows the old tags',
    );
    assert.equal(access.calls.patches, 6);
  });

  it('starts the convergence timeout of a device when it comes back online', async () => {
    const hub = fleet(1);
    hub.devices[0].connectionState = 'Disconnected';
    const access = new FakeHubAccess(hub);
    const memory = new TwinMemory();
    const clock = new FakeClock();
    access.clock = clock;
    const slow = { ...baseline, convergenceTimeoutMs: 60_000 };
    await reconcileHub(access, [slow], { unknownOwners: 'keep', memory, clock });
    await clock.advanceTo(3_600_000); // an hour offline, then it reconnects
    hub.devices[0].connectionState = 'Connected';
    const back = await reconcileHub(access, [slow], { unknownOwners: 'keep', memory, clock });
    assert.equal(back.finalPlan.reports.get('iot/baseline')!.counts.pendingDevices, 1);
    await clock.advance(61_000);
    const late = await reconcileHub(access, [slow], { unknownOwners: 'keep', memory, clock });
    assert.equal(late.finalPlan.reports.get('iot/baseline')!.counts.stalledDevices, 1);
  });
});
