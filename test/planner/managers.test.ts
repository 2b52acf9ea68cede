// Two managers on one hub (a controller and a sync pipeline, say): each removes only what it manages, and a
// setting both want is a reported conflict, never a write war. Resources held back (an invalid spec) keep their
// settings as they are.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OWNERSHIP_TAG } from '../../src/planner/index.js';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/index.js';
import { converge, FakeHub, plan, resource } from '../support/planner-fixtures.js';

function fleet(): FakeHub {
  const hub = new FakeHub();
  hub.addDevice('a-1', { environment: 'production' });
  hub.addDevice('a-2', { environment: 'production' });
  return hub;
}

const operatorBaseline = resource('iot/baseline', {
  highPriorityMessageFrequency: 'PT5M',
  eventPriorityLogin: 'High',
});
const pipelineLayer = resource('gitops/layer', {
  highPriorityMessageFrequency: 'PT1M',
  snapshotFrequency: 'PT1H',
});

describe('two managers on one hub', () => {
  it('never writes a setting another manager owns, and reports the conflict on the resource that wanted it', () => {
    const hub = fleet();
    converge(hub, [operatorBaseline], { manager: 'operator' });
    const writesBefore = hub.writes;
    const result = converge(hub, [pipelineLayer], { manager: 'pipeline' });

    assert.equal(
      hub.desiredValue('a-1', 'highPriorityMessageFrequency'),
      'PT5M',
      "the operator's value stays",
    );
    assert.equal(hub.desiredValue('a-1', 'snapshotFrequency'), 'PT1H', 'the uncontested setting is written');
    const report = result.reports.get('gitops/layer')!;
    assert.equal(report.ready, false);
    assert.equal(report.conditions.find((c) => c.type === 'Ready')?.reason, 'ConflictingSettings');
    assert.equal(report.managedElsewhereDevices, 2);
    assert.match(
      report.failures[0].message,
      /highPriorityMessageFrequency: managed on this twin by iot\/baseline of manager 'operator'/,
    );
    assert.equal(hub.writes - writesBefore, 2, 'one write per device, then nothing: no write war');

    // The operator plans again: its settings are as it wants them, it does not touch the pipeline's.
    const again = plan(hub, [operatorBaseline], { manager: 'operator' });
    assert.equal(again.writes.length, 0);
    assert.equal(again.reports.get('iot/baseline')!.ready, true);
  });

  it('keeps each manager to its own record in the tags', () => {
    const hub = fleet();
    converge(hub, [operatorBaseline], { manager: 'operator' });
    converge(hub, [pipelineLayer], { manager: 'pipeline' });
    const record = hub.modules.get('a-1')!.tags[OWNERSHIP_TAG] as Record<
      string,
      { owners: Record<string, string> }
    >;
    assert.deepEqual(record.operator.owners, {
      highPriorityMessageFrequency: 'iot/baseline',
      eventPriorityLogin: 'iot/baseline',
    });
    assert.deepEqual(record.pipeline.owners, { snapshotFrequency: 'gitops/layer' });
  });

  it("removes only its own settings when pruning, and another manager's resource takes over what is freed", () => {
    const hub = fleet();
    converge(hub, [operatorBaseline], { manager: 'operator' });
    converge(hub, [pipelineLayer], { manager: 'pipeline' });
    // The pipeline prunes everything it manages: the operator's settings stay.
    converge(hub, [], { manager: 'pipeline', unknownOwners: 'remove' });
    assert.equal(hub.desiredValue('a-1', 'snapshotFrequency'), undefined);
    assert.equal(hub.desiredValue('a-1', 'highPriorityMessageFrequency'), 'PT5M');
    assert.equal(hub.desiredValue('a-1', 'eventPriorityLogin'), 'High');

    // The operator's resource goes (deletionPolicy Remove): the setting is freed and the pipeline's layer gets it.
    converge(hub, [], { manager: 'operator', departing: new Map([['iot/baseline', 'Remove']]) });
    const result = converge(hub, [pipelineLayer], { manager: 'pipeline' });
    assert.equal(hub.desiredValue('a-1', 'highPriorityMessageFrequency'), 'PT1M');
    assert.equal(result.reports.get('gitops/layer')!.ready, true);
    assert.deepEqual(Object.keys(hub.modules.get('a-1')!.tags[OWNERSHIP_TAG] as object), ['pipeline']);
  });
});

describe('held resources (a spec the agent would reject)', () => {
  it('keeps their settings as they are, at their priority, and writes nothing for them', () => {
    const hub = fleet();
    const site = resource('iot/site', { highPriorityMessageFrequency: 'PT1M' }, { priority: 50 });
    const base = resource(
      'iot/base',
      { highPriorityMessageFrequency: 'PT9M', eventPriorityLogin: 'Low' },
      { priority: 10 },
    );
    converge(hub, [site, base]);
    assert.equal(hub.desiredValue('a-1', 'highPriorityMessageFrequency'), 'PT1M');

    // The site layer becomes invalid: its value stays, above the baseline, and nothing is removed.
    const result = plan(hub, [base], { held: new Map([['iot/site', 50]]) });
    assert.equal(result.writes.length, 0);
    assert.equal(result.reports.has('iot/site'), false, 'the planner reports on resources it plans only');
    assert.equal(result.reports.get('iot/base')!.ready, true);
  });
});

describe('readiness in the report', () => {
  it('says Ready when converged, and stuck when only a change of spec can help', () => {
    const hub = fleet();
    const good = converge(hub, [operatorBaseline]).reports.get('iot/baseline')!;
    assert.deepEqual([good.ready, good.stuck], [true, false]);

    const rejected = resource(
      'iot/listed',
      { highPriorityMessageFrequency: 'PT5M' },
      {
        target: { deviceIds: ['a-1', 'missing-device'] },
      },
    );
    const report = converge(hub, [rejected]).reports.get('iot/listed')!;
    assert.deepEqual(
      [report.ready, report.stuck],
      [false, true],
      'a listed device the hub lacks fails for good',
    );
  });

  it('is neither Ready nor stuck while devices are pending', () => {
    const hub = fleet();
    const report = plan(hub, [operatorBaseline]).reports.get('iot/baseline')!;
    assert.deepEqual([report.ready, report.stuck], [false, false]);
  });
});

describe('ownership records written before managers', () => {
  it("reads the old top-level record as sync's, and rewrites it under sync's key on the next change", () => {
    const hub = fleet();
    const twin = hub.modules.get('a-1')!;
    twin.desired = { [AGENT_CONFIGURATION_KEY]: { snapshotFrequency: { value: 'PT6H' } } };
    twin.tags = {
      [OWNERSHIP_TAG]: { owners: { snapshotFrequency: 'gitops/old' }, revisions: { 'gitops/old': 'r1' } },
    };
    // The operator sees sync's setting as another manager's: it leaves it alone.
    const operator = plan(hub, [resource('iot/x', { snapshotFrequency: 'PT1H' })], { manager: 'operator' });
    assert.equal(
      operator.writes.find((w) => w.deviceId === 'a-1'),
      undefined,
    );
    // sync, pruning what is no longer in its files, removes it and migrates the record.
    const sync = plan(hub, [], { unknownOwners: 'remove' });
    const write = sync.writes.find((w) => w.deviceId === 'a-1')!;
    assert.deepEqual(write.patch.tags, { [OWNERSHIP_TAG]: null });
    assert.equal(
      (write.patch.properties!.desired as any)['ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration']
        .snapshotFrequency,
      null,
    );
  });
});

describe('scoped records (an IoTHub answers for its namespace)', () => {
  it('leaves the entries of resources out of scope alone, key by key, even when its own go', () => {
    const hub = fleet();
    const inA = (key: string) => key.startsWith('a/');
    const inB = (key: string) => key.startsWith('b/');
    converge(hub, [resource('a/one', { snapshotFrequency: 'PT6H' })], { manager: 'op', scope: inA });
    converge(hub, [resource('b/two', { eventPriorityLogin: 'Low' })], { manager: 'op', scope: inB });
    // a/one goes (pruned): b/two's entries in the same manager record stay.
    converge(hub, [], { manager: 'op', scope: inA, unknownOwners: 'remove' });
    const record = (hub.modules.get('a-1')!.tags[OWNERSHIP_TAG] as any).op;
    assert.deepEqual(record.owners, { eventPriorityLogin: 'b/two' });
    assert.equal(hub.desiredValue('a-1', 'eventPriorityLogin'), 'Low');
    assert.equal(hub.desiredValue('a-1', 'snapshotFrequency'), undefined);
  });

  it("reports a setting held by the same manager for another scope as that, not as another manager's", () => {
    const hub = fleet();
    const inA = (key: string) => key.startsWith('a/');
    const inB = (key: string) => key.startsWith('b/');
    converge(hub, [resource('b/two', { eventPriorityLogin: 'Low' })], { manager: 'op', scope: inB });
    const result = converge(hub, [resource('a/one', { eventPriorityLogin: 'High' })], {
      manager: 'op',
      scope: inA,
    });
    assert.equal(hub.desiredValue('a-1', 'eventPriorityLogin'), 'Low', 'the other scope keeps its setting');
    const report = result.reports.get('a/one')!;
    assert.deepEqual([report.managedElsewhereDevices, report.outOfScopeDevices], [2, 2]);
    const ready = report.conditions.find((c) => c.type === 'Ready')!;
    assert.equal(ready.reason, 'ConflictingSettings');
    assert.match(
      ready.message,
      /^on 2 devices settings this resource sets are owned by resources the same manager keeps for another IoTHub \(out of this one's scope\)/,
    );
    assert.doesNotMatch(ready.message, /another manager/);
    assert.equal(
      report.failures[0].message,
      `eventPriorityLogin: managed on this twin by b/two, which the same manager 'op' keeps for another IoTHub (out of this one's scope; value "Low"); this resource's "High" is not written`,
    );
  });
});
