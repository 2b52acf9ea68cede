// The table of reasons is what the conditions and Events do: the planner's conditions for every report, the
// blocked conditions and the Events of every Ready transition agree with it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Condition } from '../../src/api/generated/types.js';
import { isRetriedFailure, isStalled, REASONS, type Reason, type ReasonInfo } from '../../src/api/reasons.js';
import { configEvents, hubEvents } from '../../src/controller/status-events.js';
import { blockedConditions, iotHubStatus } from '../../src/planner/kubernetes-status.js';
import { type PlannedCondition, resourceConditions } from '../../src/planner/resource-report.js';

const info = (reason: string) => (REASONS as Record<string, ReasonInfo>)[reason];
const byType = (conditions: readonly PlannedCondition[]) =>
  Object.fromEntries(conditions.map((c) => [c.type, c])) as Record<
    PlannedCondition['type'],
    PlannedCondition
  >;

/** Reconciling as the table says for Ready's reason, given whether devices are pending. */
function expectedReconciling(reason: Reason, pending: boolean): boolean {
  const effect = info(reason).reconciling;
  return effect === 'whilePending' ? pending : effect === true;
}

const counts = fc.record({
  targetedDevices: fc.nat(50),
  appliedDevices: fc.nat(50),
  convergedDevices: fc.nat(50),
  pendingDevices: fc.nat(5),
  offlineDevices: fc.nat(5),
  stalledDevices: fc.nat(3),
  failedDevices: fc.nat(3),
  rejectedDevices: fc.nat(3),
  conflictingDevices: fc.nat(3),
});

const report = fc
  .record({
    counts,
    suspended: fc.boolean(),
    halted: fc.boolean(),
    deferredDevices: fc.nat(5),
    retrying: fc.nat(6),
    busy: fc.nat(6),
    lostConflictDevices: fc.nat(3),
    managedElsewhereDevices: fc.nat(3),
    outOfScopeDevices: fc.nat(3),
  })
  .map((r) => {
    const troubled = r.counts.failedDevices + r.counts.stalledDevices + r.counts.rejectedDevices;
    const retryingDevices = Math.min(r.retrying, troubled);
    return {
      resourceKey: 'iot/baseline',
      revision: 'r1',
      counts: r.counts,
      failures: [],
      rollout: { reached: 10, inFlight: 0, failing: troubled, batchSize: 10, halted: r.halted, capacity: 0 },
      suspended: r.suspended,
      plannedWrites: 0,
      changingSettings: [],
      sampleDeviceIds: [],
      deferredDevices: r.deferredDevices,
      retryingDevices,
      busyDevices: Math.min(r.busy, retryingDevices),
      lostConflictDevices: r.lostConflictDevices,
      managedElsewhereDevices: Math.min(r.managedElsewhereDevices, r.lostConflictDevices),
      outOfScopeDevices: Math.min(r.outOfScopeDevices, r.managedElsewhereDevices, r.lostConflictDevices),
      unanswered: 'not reporting the configuration',
    };
  });

describe('the table of reasons', () => {
  it("describes every resource's conditions the planner makes: Ready, Reconciling and Stalled as the table says", () => {
    fc.assert(
      fc.property(report, (r) => {
        const c = byType(resourceConditions(r, '10%'));
        const reason = c.Ready.reason;
        assert.ok(
          info(reason)?.uses.includes('SecurityModuleConfig'),
          `${reason} is a SecurityModuleConfig reason`,
        );
        assert.equal(c.Ready.status, info(reason).ready, `Ready of ${reason}`);
        assert.equal(c.Stalled.status === 'True', isStalled(reason), `Stalled of ${reason}`);
        assert.equal(
          c.Reconciling.status === 'True',
          expectedReconciling(reason, r.counts.pendingDevices > 0),
          `Reconciling of ${reason} (${r.counts.pendingDevices} pending)`,
        );
        for (const other of [c.Reconciling.reason, c.Stalled.reason])
          assert.ok(info(other), `${other} is in the table`);
      }),
      { numRuns: 500 },
    );
  });

  it('gives a blocked resource the conditions of its reason, or of the cause it follows', () => {
    for (const [reason, entry] of Object.entries(REASONS as Record<string, ReasonInfo>)) {
      if (!entry.uses.includes('SecurityModuleConfig') && !entry.uses.includes('IoTHub')) continue;
      if (entry.ready !== 'False' || entry.reconciling === 'whilePending') continue;
      const c = byType(blockedConditions(reason as Reason, 'why'));
      assert.equal(c.Ready.status, 'False', reason);
      assert.equal(c.Stalled.status === 'True', isStalled(reason as Reason), `Stalled of ${reason}`);
      // A blocked resource is Reconciling exactly when it is not Stalled; reasons where both are False (Suspended)
      // are the planner's alone.
      if (typeof entry.reconciling === 'boolean' && entry.reconciling !== entry.stalled)
        assert.equal(c.Reconciling.status === 'True', entry.reconciling, `Reconciling of ${reason}`);
    }
    const byUnreachable = byType(blockedConditions('DeletionBlocked', 'why', 'HubUnreachable'));
    assert.deepEqual([byUnreachable.Reconciling.status, byUnreachable.Stalled.status], ['True', 'False']);
    const bySecret = byType(blockedConditions('DeletionBlocked', 'why', 'SecretNotFound'));
    assert.deepEqual([bySecret.Reconciling.status, bySecret.Stalled.status], ['False', 'True']);
  });

  it('records a transition of Ready to a reason as the Event the table names, and none where it names none', () => {
    const ready = (reason: string, status: 'True' | 'False'): { conditions: Condition[] } => ({
      conditions: [{ type: 'Ready', status, reason, message: `now ${reason}`, lastTransitionTime: 'x' }],
    });
    for (const [reason, entry] of Object.entries(REASONS as Record<string, ReasonInfo>)) {
      if (!entry.ready) continue;
      const before = ready('Progressing', 'False');
      const events = entry.uses.includes('SecurityModuleConfig')
        ? configEvents(before, ready(reason, entry.ready))
        : hubEvents(before, ready(reason, entry.ready));
      const expected = reason === 'Progressing' ? [] : entry.event ? [entry.event] : [];
      assert.deepEqual(
        events.map((e) => e.type),
        expected,
        `a transition to ${reason}`,
      );
    }
  });

  it('gives an IoTHub Stalled when only a change helps', () => {
    for (const reason of ['Unauthorized', 'HubUnreachable', 'QuotaExceeded', 'HubThrottled'] as const) {
      const status = iotHubStatus({ ok: false, reason, message: 'why' }, {}, { now: new Date(0) });
      const stalled = status.conditions!.find((c) => c.type === 'Stalled')!;
      assert.equal(stalled.status === 'True', info(reason).stalled === true, reason);
    }
  });

  it('retries at the next step exactly the device failures that pass by themselves', () => {
    const retried = Object.keys(REASONS).filter(
      (r) => info(r).uses.includes('failure') && isRetriedFailure(r),
    );
    assert.deepEqual(retried.sort(), ['HubThrottled', 'HubUnavailable', 'TwinBusy']);
    assert.equal(isRetriedFailure('QuotaExceeded'), false, 'a used-up daily quota waits for a change');
  });
});
