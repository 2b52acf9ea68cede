// From a fleet to the resources that reproduce it, with plain values: the targets found (a tag value, two, a tag
// IN a list, all but a few devices, a device list), what is left out and why, and for random fleets the property
// that matters: a dry run of sync on the export plans no change to any desired setting.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { agentExport, agentTwinView, twinSettings } from '../../src/export/agent-export.js';
import { FleetIndex } from '../../src/export/fleet-index.js';
import { type ExportPlan, planExport } from '../../src/export/plan-export.js';
import { joinDocuments, renderExport } from '../../src/export/render.js';
import { MAX_LISTED_DEVICES } from '../../src/export/targets.js';
import { type AgentSettings, wrapSettings } from '../../src/profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { dryRun, resourcesOfYaml } from '../support/export-checks.js';
import { agentSnapshot, type EditableSnapshot, moduleTwin } from '../support/planner-fixtures.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

class TestFleet {
  readonly snapshot: EditableSnapshot = agentSnapshot([], []);
  private readonly modules = this.snapshot.twins.get(SECURITY_MODULE_ID)!;

  /** `desired` undefined: no security module; raw: the twin's configuration object as it is. */
  add(
    deviceId: string,
    tags: Record<string, unknown>,
    desired?: AgentSettings | { raw: unknown },
    moduleTags: Record<string, unknown> = {},
  ): this {
    this.snapshot.devices.push({ deviceId, tags, status: 'enabled', connectionState: 'Connected' });
    if (desired !== undefined) {
      this.modules.set(
        deviceId,
        moduleTwin(deviceId, {
          tags: moduleTags,
          desired: 'raw' in desired ? desired.raw : wrapSettings(desired as AgentSettings),
        }),
      );
    }
    return this;
  }

  index(manager = 'sync', order: (ids: string[]) => string[] = (ids) => ids): FleetIndex {
    const index = new FleetIndex();
    const devices = new Map(this.snapshot.devices.map((d) => [d.deviceId, d]));
    for (const id of order([...devices.keys()])) index.addDevice(devices.get(id)!);
    for (const id of order([...this.modules.keys()])) {
      const twin = this.modules.get(id)!;
      index.addTwin(id, twinSettings(agentTwinView(twin), manager));
    }
    return index;
  }
}

function exportOf(fleet: TestFleet, manager = 'sync', order?: (ids: string[]) => string[]) {
  const plan = planExport(fleet.index(manager, order), agentExport);
  const text = joinDocuments(
    renderExport(plan, {
      hub: { name: 'hub', secretName: 'hub-credentials' },
      hubHost: 'unit',
      manager,
      kind: agentExport,
    }),
  );
  return { plan, text, resources: resourcesOfYaml(text) };
}

function targetsOf(plan: ExportPlan): Record<string, unknown> {
  return Object.fromEntries(
    plan.resources.map((r) => [r.name, 'condition' in r.target ? r.target.condition : r.target.deviceIds]),
  );
}

const A = { eventPriorityLogin: 'High', snapshotFrequency: 'PT1H' };
const B = { eventPriorityLogin: 'High', snapshotFrequency: 'PT6H' };
const C = { eventPriorityLogin: 'High', snapshotFrequency: 'PT6H', hubResourceId: 'c' };

function assertReproduces(fleet: TestFleet, manager = 'sync') {
  const { resources } = exportOf(fleet, manager);
  const run = dryRun(fleet.snapshot, resources, manager);
  assert.deepEqual(
    run.settingWrites.map((w) => [w.deviceId, w.changedSettings]),
    [],
    'no desired setting changes',
  );
  assert.equal(run.conflictingDevices, 0);
  assert.equal(run.failedDevices, 0);
}

describe('planExport', () => {
  it('targets the fleet as a whole and each site that differs by its tag value', () => {
    const fleet = new TestFleet();
    for (let i = 0; i < 6; i++) fleet.add(`ams-${i}`, { site: 'ams' }, A);
    for (let i = 0; i < 3; i++) fleet.add(`fra-${i}`, { site: 'fra' }, B);
    const { plan } = exportOf(fleet);
    assert.deepEqual(targetsOf(plan), { baseline: 'IS_DEFINED(deviceId)', 'site-fra': "tags.site = 'fra'" });
    assert.deepEqual(plan.resources[0].settings, A);
    assert.deepEqual(plan.resources[1].settings, { snapshotFrequency: 'PT6H' });
    assert.deepEqual([plan.resources[0].priority, plan.resources[1].priority], [10, 20]);
    assertReproduces(fleet);
  });

  it('uses two tag values, a tag IN a list, and a tag value AND a list, in that order of preference', () => {
    const fleet = new TestFleet();
    for (const site of ['ams', 'fra', 'lyon'])
      for (const environment of ['production', 'lab'])
        for (let i = 0; i < 2; i++) {
          const settings =
            environment === 'production' && site === 'ams'
              ? B
              : environment === 'lab' && site !== 'ams'
                ? C
                : A;
          fleet.add(`${site}-${environment}-${i}`, { site, environment, rack: `r${i}` }, settings);
        }
    const { plan } = exportOf(fleet);
    assert.deepEqual(targetsOf(plan), {
      baseline: 'IS_DEFINED(deviceId)',
      'environment-lab-and-site-fra-or-lyon': "tags.environment = 'lab' AND tags.site IN ['fra', 'lyon']",
      'environment-production-and-site-ams': "tags.environment = 'production' AND tags.site = 'ams'",
    });
    assertReproduces(fleet);

    const spread = new TestFleet();
    for (const site of ['ams', 'fra', 'lyon'])
      for (let i = 0; i < 3; i++) spread.add(`${site}-${i}`, { site }, site === 'ams' ? A : B);
    assert.deepEqual(targetsOf(exportOf(spread).plan), {
      baseline: 'IS_DEFINED(deviceId)',
      'site-ams': "tags.site = 'ams'",
    });
    const two = new TestFleet();
    for (const site of ['ams', 'fra', 'lyon'])
      for (let i = 0; i < 3; i++) two.add(`${site}-${i}`, { site }, site === 'ams' ? C : B);
    two.add('osl-0', { site: 'osl' }, C);
    assert.deepEqual(targetsOf(exportOf(two).plan), {
      baseline: 'IS_DEFINED(deviceId)',
      'site-ams-or-osl': "tags.site IN ['ams', 'osl']",
    });
  });

  it('leaves out devices without the module or a configuration, and excepts them from a condition they would spoil', () => {
    const fleet = new TestFleet();
    for (let i = 0; i < 4; i++) fleet.add(`ams-${i}`, { site: 'ams' }, A);
    for (let i = 0; i < 4; i++) fleet.add(`fra-${i}`, { site: 'fra' }, B);
    fleet.add('fra-bare', { site: 'fra' });
    fleet.add('fra-empty', { site: 'fra' }, {});
    const { plan } = exportOf(fleet);
    assert.deepEqual(targetsOf(plan), {
      baseline: "deviceId NIN ['fra-bare', 'fra-empty']",
      'site-fra-except-2': "tags.site = 'fra' AND deviceId NIN ['fra-bare', 'fra-empty']",
    });
    assert.deepEqual(plan.summary.leftOut, {
      noModule: 1,
      noConfiguration: 1,
      managedElsewhere: 0,
      rejected: 0,
      otherModel: 0,
    });
    assertReproduces(fleet);
  });

  it('keeps a baseline for the fleet when a few devices were configured apart, and gives those a layer of their own', () => {
    const fleet = new TestFleet();
    for (let i = 0; i < 8; i++)
      fleet.add(`prod-${i}`, { environment: 'production' }, i < 2 ? { ...A, hubResourceId: 'x' } : A);
    for (let i = 0; i < 2; i++) fleet.add(`dev-${i}`, { environment: 'development' }, { hubResourceId: 'x' });
    const { plan } = exportOf(fleet);
    assert.deepEqual(targetsOf(plan), {
      baseline: "tags.environment = 'production'",
      'devices-prod-0-and-1-more': ['prod-0', 'prod-1'],
      'environment-development': "tags.environment = 'development'",
    });
    assert.deepEqual(plan.resources[0].settings, A);
    assertReproduces(fleet);
  });

  it('lists the devices of a group no tag selection gives, in lists of at most 10,000', () => {
    const fleet = new TestFleet();
    for (let i = 0; i < 10_001; i++)
      fleet.add(`a-${String(i).padStart(5, '0')}`, {}, { snapshotFrequency: 'PT1H' });
    for (let i = 0; i < 60; i++) fleet.add(`b-${i}`, {}, { eventPriorityLogin: 'Off' });
    for (let i = 0; i < 60; i++) fleet.add(`c-${i}`, {});
    const { plan } = exportOf(fleet);
    assert.deepEqual(
      plan.resources[0].settings,
      { snapshotFrequency: 'PT1H' },
      'the baseline covers group a only',
    );
    const lists = plan.resources.map((r) => [
      r.name,
      (r.target as { deviceIds: string[] }).deviceIds.length,
      r.part,
    ]);
    assert.deepEqual(lists, [
      ['baseline-device-a-10000', 1, { index: 2, of: 2 }],
      ['baseline-devices-a-00000-and-9999-more', 10_000, { index: 1, of: 2 }],
      ['devices-b-0-and-59-more', 60, undefined],
    ]);
  });

  it("splits lists at the schema's own limit", () => {
    const schema = JSON.parse(
      readFileSync(new URL('../../schemas/common.schema.json', import.meta.url), 'utf8'),
    );
    assert.equal(MAX_LISTED_DEVICES, schema.definitions.Target.properties.deviceIds.maxItems);
  });

  it('is not fooled by a tag whose name differs only in case: the evaluator has the last word', () => {
    const fleet = new TestFleet();
    for (let i = 0; i < 3; i++) fleet.add(`ams-${i}`, { site: 'ams', room: 'r1' }, A);
    // The hub matches property names in any case: tags.site = 'ams' selects this device too.
    fleet.add('odd', { Site: 'ams', room: 'r2' }, B);
    for (let i = 0; i < 3; i++) fleet.add(`fra-${i}`, { site: 'fra', room: 'r2' }, B);
    const { plan } = exportOf(fleet);
    assert.equal(targetsOf(plan)['room-r1'], "tags.room = 'r1'");
    assertReproduces(fleet);
  });

  it('leaves out settings other managers own, and exports them for that manager', () => {
    const fleet = new TestFleet();
    const ops = { iotSecurityOperator: { ops: { owners: { snapshotFrequency: 'ns/ops-layer' } } } };
    for (let i = 0; i < 3; i++) fleet.add(`ams-${i}`, { site: 'ams' }, A);
    for (let i = 0; i < 3; i++) fleet.add(`fra-${i}`, { site: 'fra' }, B, ops);
    fleet.add('fra-ops-only', { site: 'fra' }, { snapshotFrequency: 'PT6H' }, ops);
    const mine = exportOf(fleet);
    assert.equal(mine.plan.summary.leftOut.managedElsewhere, 1);
    assert.deepEqual(mine.plan.summary.otherManagers, [['ops', 4]]);
    assert.ok(
      mine.resources.every((r) => !('snapshotFrequency' in r.settings) || r.key !== 'default/site-fra'),
    );
    assertReproduces(fleet);

    const theirs = exportOf(fleet, 'ops');
    assert.equal(theirs.plan.summary.exportedDevices, 7);
    assertReproduces(fleet, 'ops');
  });

  it('leaves out a twin the agent would refuse, and writes priorities as the API spells them', () => {
    const fleet = new TestFleet();
    fleet.add('bare', { site: 'x' }, { raw: { snapshotFrequency: 'PT1H' } });
    fleet.add('conflict', { site: 'x' }, { highPriorityMessageFrequency: 'PT6H' });
    fleet.add('lower', { site: 'x' }, { eventPriorityLogin: 'off' });
    const { plan, text } = exportOf(fleet);
    assert.equal(plan.summary.leftOut.rejected, 2);
    assert.match(plan.summary.rejectedExample!.reason, /bare value|longer than/);
    assert.match(text, /Login: "Off"/);
    assertReproduces(fleet);
  });

  it('gives the same bytes for the same fleet, whatever order the hub lists it in', () => {
    const fleet = new TestFleet();
    for (let i = 0; i < 20; i++)
      fleet.add(`d-${i}`, { site: `s${i % 3}` }, i % 3 === 0 ? A : i % 3 === 1 ? B : C);
    fleet.add('odd-1', { site: 's0' }, C).add('odd-2', { site: 's1' }, A);
    const forward = exportOf(fleet).text;
    assert.equal(exportOf(fleet, 'sync', (ids) => [...ids].reverse()).text, forward);
  });
});

describe('planExport on random fleets', () => {
  const POOL: AgentSettings[] = [
    A,
    B,
    C,
    { eventPriorityLogin: 'Low' },
    { highPriorityMessageFrequency: 'PT2H', lowPriorityMessageFrequency: 'PT3H' },
    {
      highPriorityMessageFrequency: 'PT10M',
      lowPriorityMessageFrequency: 'PT1H',
      eventPriorityLogin: 'High',
    },
    { maxMessageSizeInBytes: 8192, maxLocalCacheSizeInBytes: 16384, snapshotFrequency: 'PT1H' },
  ];
  const deviceArb = fc.record({
    tags: fc.record(
      {
        site: fc.constantFrom('a', 'b', 'c'),
        environment: fc.constantFrom('p', 's'),
        Rack: fc.constantFrom(1, 2),
      },
      { requiredKeys: [] },
    ),
    desired: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...POOL) },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constant({}) },
    ),
    ops: fc.boolean(),
  });

  it('exports resources a dry run of sync plans no change for, with valid and unique names', () => {
    fc.assert(
      fc.property(
        fc.array(deviceArb, { minLength: 1, maxLength: 40 }),
        fc.constantFrom('sync', 'ops'),
        (devices, manager) => {
          const fleet = new TestFleet();
          devices.forEach((d, i) => {
            const moduleTags = d.ops
              ? { iotSecurityOperator: { ops: { owners: { snapshotFrequency: 'ns/x' } } } }
              : {};
            fleet.add(`dev-${i}`, d.tags, d.desired, moduleTags);
          });
          const { plan, resources } = exportOf(fleet, manager);
          const names = plan.resources.map((r) => r.name);
          assert.equal(new Set(names).size, names.length);
          for (const name of names) assert.match(name, DNS_SUBDOMAIN);
          const run = dryRun(fleet.snapshot, resources, manager);
          assert.deepEqual(
            run.settingWrites.map((w) => [w.deviceId, w.changedSettings]),
            [],
          );
          assert.equal(run.conflictingDevices, 0);
          assert.equal(run.failedDevices, 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
