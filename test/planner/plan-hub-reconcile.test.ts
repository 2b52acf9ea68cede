import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OWNERSHIP_TAG, planHubReconcile } from '../../src/planner/index.js';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { agentReported, converge, FakeHub, plan, resource } from '../support/planner-fixtures.js';

function fleet(): FakeHub {
  const hub = new FakeHub();
  hub.addDevice('ams-1', { environment: 'production', site: 'amsterdam' });
  hub.addDevice('ams-2', { environment: 'production', site: 'amsterdam' });
  hub.addDevice('chi-1', { environment: 'production', site: 'chicago' });
  hub.addDevice('dev-1', { environment: 'development', site: 'chicago' });
  return hub;
}

const baseline = resource(
  'iot/baseline',
  { highPriorityMessageFrequency: 'PT5M', eventPriorityLogin: 'High' },
  { priority: 10 },
);
const amsterdam = resource(
  'iot/amsterdam',
  { highPriorityMessageFrequency: 'PT1M' },
  { priority: 50, target: { condition: "tags.site = 'amsterdam'" } },
);

describe('planHubReconcile', () => {
  it('layers a site resource over a baseline, per setting', () => {
    const hub = fleet();
    const result = converge(hub, [baseline, amsterdam]);
    assert.equal(hub.desiredValue('ams-1', 'highPriorityMessageFrequency'), 'PT1M');
    assert.equal(
      hub.desiredValue('ams-1', 'eventPriorityLogin'),
      'High',
      'the baseline still sets what the site layer leaves out',
    );
    assert.equal(hub.desiredValue('chi-1', 'highPriorityMessageFrequency'), 'PT5M');
    assert.equal(
      hub.desiredValue('dev-1', 'highPriorityMessageFrequency'),
      undefined,
      'untargeted devices are untouched',
    );
    const report = result.reports.get('iot/baseline')!;
    assert.equal(report.counts.targetedDevices, 3);
    assert.equal(report.counts.convergedDevices, 3);
    assert.deepEqual(report.conditions.find((c) => c.type === 'Ready')?.status, 'True');
  });

  it('writes nothing when the twins already carry the plan', () => {
    const hub = fleet();
    converge(hub, [baseline, amsterdam]);
    const before = hub.writes;
    assert.deepEqual(plan(hub, [baseline, amsterdam]).writes, []);
    assert.equal(hub.writes, before);
  });

  it('sends only the changed settings, with the etag of the snapshot', () => {
    const hub = fleet();
    converge(hub, [baseline]);
    const edited = resource(
      'iot/baseline',
      { highPriorityMessageFrequency: 'PT5M', eventPriorityLogin: 'Low' },
      { priority: 10 },
    );
    const { writes } = plan(hub, [edited]);
    assert.equal(writes.length, 3);
    for (const write of writes) {
      assert.deepEqual(write.patch.properties?.desired, {
        [AGENT_CONFIGURATION_KEY]: { eventPriorityLogin: { value: 'Low' } },
      });
      assert.equal(write.etag, hub.modules.get(write.deviceId)!.etag);
    }
  });

  it('keeps desired settings and properties written by others', () => {
    const hub = new FakeHub();
    hub.addDevice('d1', { environment: 'production' }, { desired: { snapshotFrequency: { value: 'PT2H' } } });
    converge(hub, [baseline]);
    assert.equal(hub.desiredValue('d1', 'snapshotFrequency'), 'PT2H');
    converge(hub, [], { unknownOwners: 'remove' });
    assert.equal(
      hub.desiredValue('d1', 'snapshotFrequency'),
      'PT2H',
      'pruning removes only what the operator owned',
    );
    assert.equal(hub.desiredValue('d1', 'highPriorityMessageFrequency'), undefined);
  });

  it('removes the settings of a pruned resource and lets the next layer take over', () => {
    const hub = fleet();
    converge(hub, [baseline, amsterdam]);
    converge(hub, [baseline], { unknownOwners: 'remove' });
    assert.equal(hub.desiredValue('ams-1', 'highPriorityMessageFrequency'), 'PT5M');
    const tags = hub.modules.get('ams-1')!.tags[OWNERSHIP_TAG] as Record<
      string,
      { owners: Record<string, string> }
    >;
    assert.equal(
      tags.sync.owners.highPriorityMessageFrequency,
      'iot/baseline',
      "sync's record names the owner",
    );
  });

  it('keeps the settings of resources it does not know when not pruning, below every known resource', () => {
    const hub = fleet();
    const amsterdamWithOwnKey = {
      ...amsterdam,
      settings: { ...amsterdam.settings, snapshotFrequency: 'PT2H' },
    };
    converge(hub, [baseline, amsterdamWithOwnKey]);
    const result = converge(hub, [baseline], { unknownOwners: 'keep' });
    assert.equal(hub.desiredValue('ams-1', 'snapshotFrequency'), 'PT2H', 'a setting nobody else sets stays');
    assert.equal(
      hub.desiredValue('ams-1', 'highPriorityMessageFrequency'),
      'PT5M',
      'a known resource takes over',
    );
    assert.deepEqual(result.foreignOwners, [
      { owner: 'iot/amsterdam', fate: 'kept', devices: 2, settings: ['snapshotFrequency'] },
    ]);
  });

  it('lets a renamed resource take over the settings of its old name at once', () => {
    const hub = fleet();
    converge(hub, [baseline, amsterdam]);
    const renamed = {
      ...amsterdam,
      key: 'iot/amsterdam-v2',
      settings: { highPriorityMessageFrequency: 'PT2M' },
    };
    const result = converge(hub, [baseline, renamed], { unknownOwners: 'keep' });
    assert.equal(hub.desiredValue('ams-1', 'highPriorityMessageFrequency'), 'PT2M');
    assert.equal(result.reports.get('iot/amsterdam-v2')!.counts.convergedDevices, 2);
  });

  it('shows which settings pruning removes, by the owner they belonged to', () => {
    const hub = fleet();
    converge(hub, [baseline, amsterdam]);
    const { foreignOwners, writes } = plan(hub, [baseline], { unknownOwners: 'remove' });
    assert.equal(writes.length, 2);
    assert.deepEqual(foreignOwners, [
      { owner: 'iot/amsterdam', fate: 'removed', devices: 2, settings: ['highPriorityMessageFrequency'] },
    ]);
  });

  it('keeps the values but drops ownership for a departing resource with deletionPolicy Retain', () => {
    const hub = fleet();
    converge(hub, [baseline, amsterdam]);
    converge(hub, [], {
      departing: new Map([
        ['iot/amsterdam', 'Retain'],
        ['iot/baseline', 'Remove'],
      ]),
    });
    assert.equal(hub.desiredValue('ams-1', 'highPriorityMessageFrequency'), 'PT1M');
    assert.equal(hub.desiredValue('ams-1', 'eventPriorityLogin'), undefined);
    assert.equal(hub.modules.get('ams-1')!.tags[OWNERSHIP_TAG], undefined);
  });

  it('removes settings from devices a resource no longer targets', () => {
    const hub = fleet();
    converge(hub, [baseline, amsterdam]);
    const retargeted = { ...amsterdam, target: { deviceIds: ['ams-1'] } };
    converge(hub, [baseline, retargeted]);
    assert.equal(hub.desiredValue('ams-1', 'highPriorityMessageFrequency'), 'PT1M');
    assert.equal(hub.desiredValue('ams-2', 'highPriorityMessageFrequency'), 'PT5M');
  });

  it('counts an equal-priority disagreement as a conflict on both resources, won by the lowest name', () => {
    const hub = fleet();
    const a = resource('iot/a', { eventPriorityLogin: 'Low' }, { priority: 5 });
    const b = resource('iot/b', { eventPriorityLogin: 'Off' }, { priority: 5 });
    const result = converge(hub, [b, a]);
    assert.equal(hub.desiredValue('ams-1', 'eventPriorityLogin'), 'Low');
    for (const key of ['iot/a', 'iot/b']) {
      const report = result.reports.get(key)!;
      assert.equal(report.counts.conflictingDevices, 3);
      assert.equal(report.failures[0].reason, 'ConflictingSettings');
      assert.match(report.failures[0].message, key === 'iot/a' ? /iot\/b/ : /iot\/a/);
    }
  });

  it('does not count equal values (PT60M and PT1H) as a conflict', () => {
    const hub = fleet();
    const a = resource('iot/a', { lowPriorityMessageFrequency: 'PT60M' }, { priority: 5 });
    const b = resource('iot/b', { lowPriorityMessageFrequency: 'PT1H' }, { priority: 5 });
    assert.equal(converge(hub, [a, b]).reports.get('iot/a')!.counts.conflictingDevices, 0);
  });

  it('never writes a device whose merged configuration the agent would reject', () => {
    const hub = fleet();
    // Each resource alone is valid; together on Amsterdam devices high (PT6H) is longer than low (PT1H).
    const slowHigh = resource(
      'iot/slow-high',
      { highPriorityMessageFrequency: 'PT6H', lowPriorityMessageFrequency: 'PT10H' },
      { priority: 1 },
    );
    const fastLow = resource(
      'iot/fast-low',
      { lowPriorityMessageFrequency: 'PT1H' },
      { priority: 9, target: { condition: "tags.site = 'amsterdam'" } },
    );
    const result = converge(hub, [slowHigh, fastLow]);
    assert.equal(hub.desiredValue('ams-1', 'highPriorityMessageFrequency'), undefined);
    assert.equal(hub.desiredValue('chi-1', 'highPriorityMessageFrequency'), 'PT6H');
    for (const key of ['iot/slow-high', 'iot/fast-low']) {
      const failures = result.reports
        .get(key)!
        .failures.filter((f) => f.reason === 'InvalidMergedConfiguration');
      assert.deepEqual(
        failures.map((f) => f.deviceId),
        ['ams-1', 'ams-2'],
      );
    }
  });

  it('counts devices without the security module as failed unless it may create the module', () => {
    const hub = fleet();
    hub.addDevice('bare-1', { environment: 'production' }, { module: false });
    const failed = plan(hub, [baseline]);
    assert.equal(failed.reports.get('iot/baseline')!.failures[0].reason, 'SecurityModuleMissing');
    assert.deepEqual(failed.moduleCreations, []);
    const creating = plan(hub, [{ ...baseline, createModule: true }]);
    assert.deepEqual(creating.moduleCreations, [{ slot: SECURITY_MODULE_ID, deviceId: 'bare-1' }]);
    assert.equal(creating.reports.get('iot/baseline')!.counts.failedDevices, 0);
  });

  it('counts listed devices that do not exist as failed', () => {
    const hub = fleet();
    const listed = resource(
      'iot/list',
      { snapshotFrequency: 'PT1H' },
      { target: { deviceIds: ['ams-1', 'ghost'] } },
    );
    const report = converge(hub, [listed]).reports.get('iot/list')!;
    assert.equal(report.counts.targetedDevices, 2);
    assert.deepEqual(report.failures, [
      { deviceId: 'ghost', reason: 'DeviceNotFound', message: 'the hub has no device with this id' },
    ]);
  });

  it('counts offline devices apart and stays Ready when only they are missing', () => {
    const hub = fleet();
    hub.addDevice('off-1', { environment: 'production' }, { connected: false });
    const report = converge(hub, [baseline]).reports.get('iot/baseline')!;
    assert.equal(report.counts.offlineDevices, 1);
    assert.equal(report.counts.convergedDevices, 3);
    assert.equal(report.counts.appliedDevices, 4, 'the twin of an offline device is written all the same');
    assert.match(report.conditions[0].message, /1 offline device will get it when they connect/);
  });

  it('compares reported enums case-insensitively and durations by value', () => {
    const hub = fleet();
    converge(hub, [baseline]);
    for (const twin of hub.modules.values()) {
      const reported = agentReported(twin) as Record<string, { value: unknown }> | undefined;
      if (!reported) continue;
      reported.eventPriorityLogin = { value: 'high' };
      reported.highPriorityMessageFrequency = { value: 'PT300S' };
    }
    assert.equal(plan(hub, [baseline]).reports.get('iot/baseline')!.counts.convergedDevices, 3);
  });

  it('counts a device as stalled when it is online and silent past the convergence timeout', () => {
    const hub = fleet();
    hub.apply(plan(hub, [baseline]).writes, 1000);
    const late = plan(hub, [baseline], { now: 1000 + 16 * 60_000 });
    const report = late.reports.get('iot/baseline')!;
    assert.equal(report.counts.stalledDevices, 3);
    assert.equal(report.conditions.find((c) => c.type === 'Stalled')?.status, 'True');
    const tolerant = { ...baseline, rollout: { ...baseline.rollout, failureThreshold: '100%' } };
    assert.equal(
      plan(hub, [tolerant], { now: 1000 + 16 * 60_000 })
        .reports.get('iot/baseline')!
        .conditions.find((c) => c.type === 'Ready')?.message,
      '3 devices stalled (online, not reporting the configuration within convergenceTimeout); see status.failures',
      "in the agent's words",
    );
    assert.deepEqual(
      report.failures.map((f) => f.reason),
      ['ConvergenceTimeout', 'ConvergenceTimeout', 'ConvergenceTimeout'],
    );
    assert.match(
      report.failures[0].message,
      /written at 1970-01-01T00:00:01Z.*eventPriorityLogin: reported nothing, desired "High"/,
    );
    // The message holds still as time passes: no status write per resync.
    const later = plan(hub, [baseline], { now: 1000 + 30 * 60_000 }).reports.get('iot/baseline')!;
    assert.deepEqual(later.failures, report.failures);
  });

  it('does not count a device as converged from a report that may predate its desired configuration', () => {
    const hub = fleet();
    converge(hub, [baseline]);
    const snapshot = hub.snapshot();
    for (const twin of snapshot.twins.get(SECURITY_MODULE_ID)!.values()) twin.reportedMayBeStale = true;
    const report = planHubReconcile({
      snapshot,
      resources: [baseline],
      now: 1000,
      unknownOwners: 'keep',
    }).reports.get('iot/baseline')!;
    assert.equal(report.counts.convergedDevices, 0);
    assert.equal(report.counts.pendingDevices, 3);
  });

  it('converges on a null setting although the hub stores {"value": null} as {}', () => {
    const hub = fleet();
    const nullPath = resource('iot/no-custom-checks', {
      baselineCustomChecksFilePath: null,
      baselineCustomChecksEnabled: false,
    });
    const result = converge(hub, [nullPath]);
    assert.deepEqual(result.writes, []);
    assert.equal(result.reports.get('iot/no-custom-checks')!.counts.convergedDevices, 3);
  });

  it('reports a module the hub refused to create as a failure, not as pending', () => {
    const hub = fleet();
    hub.addDevice('bare-1', { environment: 'production' }, { module: false });
    const failure = { deviceId: 'bare-1', reason: 'ModuleCreationFailed' as const, message: 'hub said no' };
    const result = plan(hub, [{ ...baseline, createModule: true }], {
      writeFailures: new Map([[`${SECURITY_MODULE_ID}/bare-1`, failure]]),
    });
    const report = result.reports.get('iot/baseline')!;
    assert.equal(report.counts.failedDevices, 1);
    assert.deepEqual(report.failures, [failure]);
  });

  it('is not Ready on the losing side of a conflict, and says so on the winning side', () => {
    const hub = fleet();
    const a = resource('iot/a', { eventPriorityLogin: 'Low' }, { priority: 5 });
    const b = resource('iot/b', { eventPriorityLogin: 'Off' }, { priority: 5 });
    const result = converge(hub, [a, b]);
    const ready = (key: string) => result.reports.get(key)!.conditions.find((c) => c.type === 'Ready')!;
    assert.deepEqual([ready('iot/b').status, ready('iot/b').reason], ['False', 'ConflictingSettings']);
    assert.deepEqual([ready('iot/a').status, ready('iot/a').reason], ['True', 'Converged']);
    assert.match(ready('iot/a').message, /a resource of the same priority disagrees, and this one wins/);
  });

  it('does not count a device as converged while its agent reports an old value of a setting someone else wrote', () => {
    const hub = new FakeHub();
    hub.addDevice('d1', { environment: 'production' }, { desired: { snapshotFrequency: { value: 'PT2H' } } });
    converge(hub, [baseline]);
    const twin = hub.modules.get('d1')!;
    (agentReported(twin) as Record<string, { value: unknown }>).snapshotFrequency = { value: 'PT13H' };
    assert.equal(plan(hub, [baseline]).reports.get('iot/baseline')!.counts.convergedDevices, 0);
  });

  it('does not write a device whose desired holds a bare value the agent would reject', () => {
    const hub = new FakeHub();
    hub.addDevice('d1', { environment: 'production' }, { desired: { snapshotFrequency: 'PT2H' } });
    const result = plan(hub, [baseline]);
    assert.deepEqual(result.writes, []);
    const [failure] = result.reports.get('iot/baseline')!.failures;
    assert.equal(failure.reason, 'InvalidMergedConfiguration');
    assert.match(
      failure.message,
      /snapshotFrequency must be an object \{"value": \.\.\.\}, not a bare value/,
    );
  });

  it('re-reads only devices whose agents have yet to answer', () => {
    const hub = fleet();
    const slow = { ...baseline, rollout: { batchSize: 1, failureThreshold: '100%' } };
    const first = plan(hub, [slow]);
    assert.deepEqual(first.unsettledTwins, [], 'nothing written yet: nothing to wait for');
    hub.apply(first.writes, 1000);
    assert.deepEqual(plan(hub, [slow]).unsettledTwins, [
      { slot: SECURITY_MODULE_ID, deviceId: first.writes[0].deviceId },
    ]);
  });

  it("does not hold a removal back behind another resource's rollout", () => {
    const hub = fleet();
    const a = resource('iot/a', { snapshotFrequency: 'PT2H', eventPriorityLogin: 'Low' });
    converge(hub, [a]);
    const aDropsOne = resource('iot/a', { eventPriorityLogin: 'Low' });
    const b = resource(
      'iot/b',
      { eventPriorityProcessCreate: 'High' },
      { rollout: { batchSize: 1, failureThreshold: '100%' } },
    );
    const result = plan(hub, [aDropsOne, b]);
    assert.equal(result.writes.length, 3, 'every device loses the setting; one also gets b');
    assert.equal(
      result.writes.filter((w) => w.changedSettings.includes('eventPriorityProcessCreate')).length,
      1,
    );
    assert.ok(result.writes.every((w) => w.changedSettings.includes('snapshotFrequency')));
    assert.equal(result.reports.get('iot/b')!.deferredDevices, 2);
  });

  it('leaves the settings of a suspended resource as they are and says so', () => {
    const hub = fleet();
    converge(hub, [baseline, amsterdam]);
    const suspended = { ...amsterdam, suspend: true, settings: { highPriorityMessageFrequency: 'PT2M' } };
    const result = converge(hub, [baseline, suspended]);
    assert.equal(hub.desiredValue('ams-1', 'highPriorityMessageFrequency'), 'PT1M');
    assert.equal(result.reports.get('iot/amsterdam')!.conditions[0].reason, 'Suspended');
  });
});
