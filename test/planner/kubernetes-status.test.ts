// The one status function both drivers use: transition times kept unless a condition flips, the generation it
// was computed from, counts and failures from the report, and the last known counts for a blocked resource.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatKubeTime } from '../../src/api/kube-time.js';
import { planHubReconcile } from '../../src/planner/index.js';
import {
  blockedConditions,
  blockedSecurityModuleConfigStatus,
  iotHubStatus,
  securityModuleConfigStatus,
} from '../../src/planner/kubernetes-status.js';
import { FakeHub, resource } from '../support/planner-fixtures.js';

function reportOf(hub: FakeHub) {
  const baseline = resource('iot/baseline', { highPriorityMessageFrequency: 'PT5M' });
  return planHubReconcile({
    snapshot: hub.snapshot(),
    resources: [baseline],
    now: 0,
    unknownOwners: 'keep',
  }).reports.get('iot/baseline')!;
}

function fleet(): FakeHub {
  const hub = new FakeHub();
  hub.addDevice('d-1', { environment: 'production' });
  return hub;
}

const t0 = new Date('2026-11-30T10:00:00.250Z');
const t1 = new Date('2026-11-30T10:05:00Z');

describe('securityModuleConfigStatus', () => {
  it('stamps every condition with whole-second times and the generation it observed', () => {
    const status = securityModuleConfigStatus(reportOf(fleet()), { generation: 3, now: t0 });
    assert.equal(status.observedGeneration, 3);
    for (const c of status.conditions!) {
      assert.equal(c.lastTransitionTime, '2026-11-30T10:00:00Z');
      assert.equal(c.observedGeneration, 3);
    }
    assert.equal(status.targetedDevices, 1);
    assert.equal(status.pendingDevices, 1);
    assert.equal(status.rollout?.batchSize, 1);
  });

  it('keeps lastTransitionTime while a condition keeps its status, and moves it when the status flips', () => {
    const hub = fleet();
    const first = securityModuleConfigStatus(reportOf(hub), { generation: 1, now: t0 });
    const same = securityModuleConfigStatus(reportOf(hub), { previous: first, generation: 1, now: t1 });
    assert.deepEqual(same, first, 'nothing changed: the status is identical, so no write is needed');

    // The device converges: Ready flips to True (new time), Stalled stays False (old time).
    const write = planHubReconcile({
      snapshot: hub.snapshot(),
      resources: [resource('iot/baseline', { highPriorityMessageFrequency: 'PT5M' })],
      now: 0,
      unknownOwners: 'keep',
    }).writes;
    hub.apply(write);
    hub.agentsReport();
    const converged = securityModuleConfigStatus(reportOf(hub), { previous: first, generation: 1, now: t1 });
    const ready = converged.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'True');
    assert.equal(ready.lastTransitionTime, formatKubeTime(t1));
    assert.equal(
      converged.conditions!.find((c) => c.type === 'Stalled')!.lastTransitionTime,
      formatKubeTime(t0),
    );
  });

  it('publishes Ready=False with Reconciling=True from the first reconcile (kstatus reads it as in progress)', () => {
    const status = securityModuleConfigStatus(reportOf(fleet()), { generation: 1, now: t0 });
    const byType = Object.fromEntries(status.conditions!.map((c) => [c.type, c.status]));
    assert.deepEqual(byType, { Ready: 'False', Reconciling: 'True', Stalled: 'False' });
  });
});

describe('blocked resources', () => {
  it('keeps the last known counts and failures, with conditions that say why', () => {
    const last = securityModuleConfigStatus(reportOf(fleet()), { generation: 1, now: t0 });
    const status = blockedSecurityModuleConfigStatus(
      blockedConditions('HubUnreachable', 'hub h cannot be reached'),
      last,
      { generation: 2, now: t1 },
    );
    assert.equal(status.observedGeneration, 2);
    assert.equal(status.targetedDevices, 1);
    const byType = Object.fromEntries(status.conditions!.map((c) => [c.type, `${c.status}/${c.reason}`]));
    assert.deepEqual(byType, {
      Ready: 'False/HubUnreachable',
      Reconciling: 'True/Retrying',
      Stalled: 'False/HubUnreachable',
    });
    assert.equal(status.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime, formatKubeTime(t0));
  });

  it('is Stalled when only a change can help (an invalid spec)', () => {
    const status = blockedSecurityModuleConfigStatus(
      blockedConditions('InvalidSpec', 'spec.agentConfiguration: ...'),
      undefined,
      { generation: 1, now: t0 },
    );
    const byType = Object.fromEntries(status.conditions!.map((c) => [c.type, c.status]));
    assert.deepEqual(byType, { Ready: 'False', Reconciling: 'False', Stalled: 'True' });
    assert.equal(status.targetedDevices, undefined);
  });
});

describe('iotHubStatus', () => {
  it('reports Ready with the device counts, or the reason it is not', () => {
    const ok = iotHubStatus(
      { ok: true, message: 'connected' },
      { devices: 10, securityModules: 9 },
      { generation: 1, now: t0 },
    );
    assert.deepEqual([ok.devices, ok.securityModules, ok.observedGeneration], [10, 9, 1]);
    const bad = iotHubStatus(
      { ok: false, reason: 'Unauthorized', message: 'the hub refused the key' },
      {},
      { previous: ok, generation: 1, now: t1 },
    );
    const ready = bad.conditions!.find((c) => c.type === 'Ready')!;
    assert.deepEqual(
      [ready.status, ready.reason, ready.lastTransitionTime],
      ['False', 'Unauthorized', formatKubeTime(t1)],
    );
    assert.equal(bad.conditions!.find((c) => c.type === 'Stalled')!.status, 'True');
  });
});
