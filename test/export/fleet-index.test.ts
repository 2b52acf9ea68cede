// What export keeps of a device: its id, its tags as interned pairs (rebuilt for the evaluator as the twin had
// them where a condition can tell), and its configuration or why it has none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCondition, parseCondition } from '../../src/condition/index.js';
import { twinSettings } from '../../src/export/agent-export.js';
import { FleetIndex } from '../../src/export/fleet-index.js';
import { wrapSettings } from '../../src/profiles/security-agent/index.js';

function selects(condition: string, twin: Record<string, unknown>): boolean {
  const parsed = parseCondition(condition, { dialect: 'deviceTarget' });
  assert.ok(parsed.ok);
  return compileCondition(parsed.expression)(twin);
}

describe('FleetIndex', () => {
  it('rebuilds tags so that conditions judge the device as they would judge its twin', () => {
    const tags = {
      site: 'ams',
      rack: 3,
      active: true,
      none: null,
      location: { building: { floor: { room: 'r1', deeper: { x: 1 } } } },
      list: ['a'],
      empty: {},
    };
    const index = new FleetIndex();
    index.addDevice({ deviceId: 'd1', tags });
    const rebuilt = index.twinDocument(0);
    for (const condition of [
      "tags.site = 'ams'",
      'tags.rack = 3',
      'tags.active = true',
      'IS_DEFINED(tags.none)',
      "tags.location.building.floor.room = 'r1'",
      'IS_DEFINED(tags.location.building.floor.deeper)',
      'IS_DEFINED(tags.list)',
      'IS_DEFINED(tags.empty)',
      "tags.list = 'a'",
      "NOT (tags.list = 'a')",
      "deviceId = 'd1'",
    ])
      assert.equal(selects(condition, rebuilt), selects(condition, { deviceId: 'd1', tags }), condition);
  });

  it("rebuilds the model a device announced as modelId, and leaves out the operator's ownership record", () => {
    const index = new FleetIndex();
    const tags = { site: 'ams', iotSecurityOperator: { sync: { owners: { '/mode': 'ns/TwinConfig/a' } } } };
    index.addDevice({ deviceId: 'd1', tags, modelId: 'dtmi:com:example:Thermostat;1' });
    assert.deepEqual(index.twinDocument(0), {
      deviceId: 'd1',
      tags: { site: 'ams' },
      modelId: 'dtmi:com:example:Thermostat;1',
    });
    assert.ok(selects("modelId = 'dtmi:com:example:Thermostat;1'", index.twinDocument(0)));
  });

  it('shares one configuration among devices with equal settings, and counts why others have none', () => {
    const index = new FleetIndex();
    for (const id of ['a', 'b', 'c', 'd', 'e']) index.addDevice({ deviceId: id, tags: {} });
    index.addTwin(
      'a',
      twinSettings({ tags: {}, desiredConfiguration: wrapSettings({ snapshotFrequency: 'PT1H' }) }, 'sync'),
    );
    index.addTwin(
      'b',
      twinSettings({ tags: {}, desiredConfiguration: wrapSettings({ snapshotFrequency: 'PT1H' }) }, 'sync'),
    );
    index.addTwin('c', twinSettings({ tags: {}, desiredConfiguration: undefined }, 'sync'));
    index.addTwin(
      'd',
      twinSettings({ tags: {}, desiredConfiguration: { snapshotFrequency: 'PT1H' } }, 'sync'),
    );
    assert.equal(index.configurations.length, 1);
    assert.equal(index.configurations[0].devices, 2);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((d) => index.standing(d)),
      [0, 0, 'noConfiguration', 'rejected', 'noModule'],
    );
    assert.equal(index.rejectedExample?.deviceId, 'd');
  });
});

describe('twinSettings', () => {
  const desired = wrapSettings({ snapshotFrequency: 'PT1H', eventPriorityLogin: 'high', hubResourceId: 'r' });

  it('keeps the settings no manager owns and those of the manager exporting, leaving the others', () => {
    const tags = {
      iotSecurityOperator: {
        sync: { owners: { snapshotFrequency: 'ns/a' } },
        'iot-security-operator': { owners: { hubResourceId: 'ns/b' } },
      },
    };
    assert.deepEqual(twinSettings({ tags, desiredConfiguration: desired }, 'sync'), {
      kind: 'settings',
      settings: { eventPriorityLogin: 'High', snapshotFrequency: 'PT1H' },
      othersLeftOut: ['iot-security-operator'],
    });
    assert.deepEqual(twinSettings({ tags, desiredConfiguration: desired }, 'iot-security-operator'), {
      kind: 'settings',
      settings: { eventPriorityLogin: 'High', hubResourceId: 'r' },
      othersLeftOut: ['sync'],
    });
  });

  it("reads the record from before managers (top-level owners) as sync's", () => {
    const tags = { iotSecurityOperator: { owners: { snapshotFrequency: 'ns/a' }, revisions: {} } };
    const forOps = twinSettings({ tags, desiredConfiguration: desired }, 'ops');
    assert.equal(forOps.kind, 'settings');
    assert.deepEqual(forOps.kind === 'settings' && forOps.othersLeftOut, ['sync']);
  });

  it('says when other managers own everything the twin carries', () => {
    const tags = { iotSecurityOperator: { ops: { owners: { snapshotFrequency: 'ns/a' } } } };
    const only = wrapSettings({ snapshotFrequency: 'PT1H' });
    assert.deepEqual(twinSettings({ tags, desiredConfiguration: only }, 'sync'), {
      kind: 'managedElsewhere',
      managers: ['ops'],
    });
  });
});
