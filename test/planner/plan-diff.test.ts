// The plan as a person reviews it: per resource and setting, current -> new with device counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HubReconcileInput, PlannedResource } from '../../src/planner/index.js';
import { hasChanges, MAX_TRANSITIONS, type PlanDiff, planDiff } from '../../src/planner/plan-diff.js';
import { converge, FakeHub, plan, resource } from '../support/planner-fixtures.js';

function diff(hub: FakeHub, resources: PlannedResource[], extra: Partial<HubReconcileInput> = {}): PlanDiff {
  const snapshot = hub.snapshot();
  return planDiff({ plan: plan(hub, resources, extra), snapshot, resources });
}

function change(result: PlanDiff, key: string) {
  const found = result.resources.find((r) => r.resource === key);
  assert.ok(found, `${key} in the diff`);
  return found;
}

/** Each setting of a resource as "field: N from -> to, ..." (null as '-'). */
function transitions(result: PlanDiff, key: string): string[] {
  return change(result, key).settings.map(
    (s) =>
      `${s.field}: ${s.transitions.map((t) => `${t.devices} ${t.from ?? '-'} -> ${t.to ?? '-'}${t.takenOverFrom ? ` from ${t.takenOverFrom}` : ''}${t.takenOverBy ? ` by ${t.takenOverBy}` : ''}`).join(', ')}`,
  );
}

describe('the diff of a plan', () => {
  it('groups the devices of each setting by the value they hold now and the one they get', () => {
    const hub = new FakeHub();
    hub.addDevice(
      'd1',
      { environment: 'production' },
      { desired: { highPriorityMessageFrequency: { value: 'PT5M' } } },
    );
    hub.addDevice(
      'd2',
      { environment: 'production' },
      { desired: { highPriorityMessageFrequency: { value: 'PT5M' } } },
    );
    hub.addDevice('d3', { environment: 'production' });
    hub.addDevice(
      'd4',
      { environment: 'production' },
      { desired: { highPriorityMessageFrequency: { value: 'PT60S' } } },
    );
    const strict = resource(
      'iot/strict',
      { highPriorityMessageFrequency: 'PT1M', eventPriorityLogin: 'High' },
      { priority: 50 },
    );
    const result = diff(hub, [strict]);
    assert.deepEqual(transitions(result, 'iot/strict'), [
      'eventPriorities.Login: 4 - -> High',
      'highPriorityMessageFrequency: 2 PT5M -> PT1M, 1 - -> PT1M',
    ]);
    const site = change(result, 'iot/strict');
    assert.equal(site.priority, 50);
    assert.equal(site.targetedDevices, 4);
    assert.equal(site.devicesToWrite, 4, 'd4 gets Login; PT60S is PT1M already');
    assert.deepEqual(site.settings[1].transitions[0].sampleDeviceIds, ['d1', 'd2']);
    assert.deepEqual(result.summary, {
      devicesToWrite: 4,
      settingChanges: 7,
      resourcesChanging: 1,
      modulesToCreate: 0,
      deferredDevices: 0,
    });
    assert.equal(result.changes, true);
  });

  it('shows what a pruned resource leaves: the next layer where one sets it, else the agent default', () => {
    const hub = new FakeHub();
    for (const id of ['d1', 'd2', 'd3'])
      hub.addDevice(id, { environment: 'production', site: id === 'd3' ? 'lab' : 'ams' });
    const baseline = resource(
      'iot/baseline',
      { highPriorityMessageFrequency: 'PT5M' },
      { priority: 10, target: { condition: "tags.site = 'ams'" } },
    );
    const site = resource('iot/site', { highPriorityMessageFrequency: 'PT1M' }, { priority: 50 });
    converge(hub, [baseline, site]);
    const result = diff(hub, [baseline], { unknownOwners: 'remove' });
    const gone = change(result, 'iot/site');
    assert.equal(gone.source, 'notInFiles');
    assert.equal(gone.fate, 'removed');
    assert.deepEqual(transitions(result, 'iot/site'), [
      'highPriorityMessageFrequency: 2 PT1M -> PT5M by iot/baseline, 1 PT1M -> -',
    ]);
    assert.deepEqual(transitions(result, 'iot/baseline'), [], 'the baseline only fills in: listed once');
    assert.equal(change(result, 'iot/baseline').devicesToWrite, 0);
    assert.equal(result.summary.devicesToWrite, 3);
    assert.equal(result.summary.resourcesChanging, 1);
  });

  it('lists a change once, under the layer that takes a setting over or the one that lets it go', () => {
    const hub = new FakeHub();
    for (const id of ['d1', 'd2']) hub.addDevice(id, { environment: 'production', site: 'ams' });
    const baseline = resource('iot/baseline', { highPriorityMessageFrequency: 'PT5M' }, { priority: 10 });
    converge(hub, [baseline]);
    const site = resource('iot/site', { highPriorityMessageFrequency: 'PT1M' }, { priority: 50 });
    const added = diff(hub, [baseline, site]);
    assert.deepEqual(transitions(added, 'iot/site'), [
      'highPriorityMessageFrequency: 2 PT5M -> PT1M from iot/baseline',
    ]);
    assert.deepEqual(transitions(added, 'iot/baseline'), []);
    converge(hub, [baseline, site]);
    // The site layer retargeted away from d2: it lets the setting go there, the baseline fills in.
    const narrowed = diff(hub, [baseline, { ...site, target: { deviceIds: ['d1'] } }]);
    assert.deepEqual(transitions(narrowed, 'iot/site'), [
      'highPriorityMessageFrequency: 1 PT1M -> PT5M by iot/baseline',
    ]);
    assert.deepEqual(transitions(narrowed, 'iot/baseline'), []);
  });

  it('says nothing changes on a converged hub, and lists the resources with what they target', () => {
    const hub = new FakeHub();
    hub.addDevice('d1', { environment: 'production' });
    const r = resource('iot/r', { snapshotFrequency: 'PT2H' });
    converge(hub, [r]);
    const result = diff(hub, [r]);
    assert.equal(result.changes, false);
    assert.deepEqual(change(result, 'iot/r').settings, []);
    assert.equal(change(result, 'iot/r').devicesToWrite, 0);
    assert.equal(change(result, 'iot/r').targetedDevices, 1);
  });

  it('counts devices left for later rollout batches as changes to come', () => {
    const hub = new FakeHub();
    for (let i = 0; i < 5; i++) hub.addDevice(`d${i}`, { environment: 'production' });
    const r = resource(
      'iot/r',
      { snapshotFrequency: 'PT2H' },
      { rollout: { batchSize: 2, failureThreshold: '50%' } },
    );
    const first = plan(hub, [r]);
    hub.apply(first.writes);
    // The first batch is in flight: nothing is written now, three devices wait.
    const waiting = plan(hub, [r]);
    assert.equal(waiting.writes.length, 0);
    assert.equal(hasChanges(waiting), true);
    const result = planDiff({ plan: waiting, snapshot: hub.snapshot(), resources: [r] });
    assert.equal(change(result, 'iot/r').deferredDevices, 3);
    assert.equal(change(result, 'iot/r').rolloutBatchSize, 2);
    assert.equal(result.summary.deferredDevices, 3);
  });

  it('counts writes of the ownership record alone apart from setting changes', () => {
    const hub = new FakeHub();
    hub.addDevice('d1', { environment: 'production' });
    const low = resource('iot/low', { snapshotFrequency: 'PT2H' }, { priority: 10 });
    converge(hub, [low, resource('iot/high', { snapshotFrequency: 'PT2H' }, { priority: 20 })]);
    // iot/high leaves the files: iot/low takes the setting over, with the value it already has.
    const result = diff(hub, [low]);
    for (const key of ['iot/low', 'iot/high']) {
      assert.equal(change(result, key).ownershipOnlyDevices, 1, key);
      assert.equal(change(result, key).devicesToWrite, 1, key);
      assert.deepEqual(change(result, key).settings, [], key);
    }
    assert.equal(result.summary.settingChanges, 0);
    assert.equal(result.changes, true);
  });

  it('stays bounded when every device holds a value of its own: the most common transitions, the rest counted', () => {
    const hub = new FakeHub();
    const count = MAX_TRANSITIONS + 30;
    for (let i = 0; i < count; i++)
      hub.addDevice(
        `d${String(i).padStart(3, '0')}`,
        { environment: 'production' },
        {
          desired: { maxMessageSizeInBytes: { value: 4096 * (i + 1) } },
        },
      );
    const result = diff(hub, [resource('iot/r', { maxMessageSizeInBytes: 204800 })]);
    const setting = change(result, 'iot/r').settings[0];
    assert.equal(setting.transitions.length, MAX_TRANSITIONS);
    // 204800 is 4096 * 50: that device is already there.
    assert.equal(setting.devices, count - 1);
    assert.deepEqual(setting.moreTransitions, {
      transitions: count - 1 - MAX_TRANSITIONS,
      devices: count - 1 - MAX_TRANSITIONS,
    });
  });
});
