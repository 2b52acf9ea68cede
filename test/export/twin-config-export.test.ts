// Export of device and module twins into TwinConfigs, with plain values: each top-level property (or each property
// of a component) one setting, objects whole; components, the marker, the agent's configuration and other
// managers' places left out; targets by modelId; the convergence chosen; and for random fleets the property that
// matters: a dry run of sync on the export plans no change to any desired property.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { FleetIndex } from '../../src/export/fleet-index.js';
import { planExport } from '../../src/export/plan-export.js';
import { readFleet } from '../../src/export/read-fleet.js';
import { joinDocuments, renderExport } from '../../src/export/render.js';
import {
  propertySettings,
  renderingKind,
  type TwinConfigExportOptions,
  twinConfigExport,
} from '../../src/export/twin-config-export.js';
import type { HubPageReader } from '../../src/hub/hub-client-api.js';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { DEVICE_TWIN, type DeviceRecord, type ManagedTwin, type TwinSlot } from '../../src/twins/types.js';
import { dryRun, resourcesOfYaml } from '../support/export-checks.js';

const THERMOSTAT = 'dtmi:com:example:Thermostat;1';
const CONTROLLER = 'dtmi:com:example:TemperatureController;2';
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

type Desired = Record<string, unknown>;

interface DeviceOptions {
  modelId?: string;
  /** The twin `desired` is in (the device twin by default); a module twin is absent unless given. */
  slot?: TwinSlot;
  /** Tags of that twin (a device twin's are the device's). */
  twinTags?: Record<string, unknown>;
}

class TwinFleet {
  readonly snapshot = { devices: [] as DeviceRecord[], twins: new Map<TwinSlot, Map<string, ManagedTwin>>() };
  /** The devices' page comes after the twins' when both are read at once. */
  devicesLast = false;

  add(deviceId: string, tags: Record<string, unknown>, desired?: Desired, options: DeviceOptions = {}): this {
    const { modelId, slot = DEVICE_TWIN, twinTags = {} } = options;
    const deviceTags = slot === DEVICE_TWIN ? { ...tags, ...twinTags } : tags;
    const model = modelId === undefined ? {} : { modelId };
    this.snapshot.devices.push({
      deviceId,
      tags: deviceTags,
      status: 'enabled',
      connectionState: 'Connected',
      ...model,
    });
    if (slot !== DEVICE_TWIN && desired === undefined) return this;
    const twins = this.snapshot.twins.get(slot) ?? new Map();
    this.snapshot.twins.set(slot, twins);
    twins.set(deviceId, {
      deviceId,
      ...(slot === DEVICE_TWIN ? model : { moduleId: slot }),
      etag: 'e1',
      tags: slot === DEVICE_TWIN ? deviceTags : twinTags,
      desired: desired ?? {},
      desiredWritten: {},
      reported: {},
      desiredVersion: 1,
    });
    return this;
  }

  /** The fleet as the hub client pages it. */
  reader(): HubPageReader {
    const { snapshot, devicesLast } = this;
    return {
      hubName: 'unit',
      async *devicePages() {
        // A turn of the event loop: a page of twins asked for at the same time is read first.
        if (devicesLast) await new Promise((resolve) => setImmediate(resolve));
        yield snapshot.devices;
      },
      async *twinPages(slot) {
        yield [...(snapshot.twins.get(slot)?.values() ?? [])];
      },
    };
  }
}

async function exportOf(
  fleet: TwinFleet,
  options: TwinConfigExportOptions & { modelId?: string } = {},
  manager = 'sync',
) {
  const { modelId, ...exported } = options;
  const kind = twinConfigExport(exported);
  const index: FleetIndex = await readFleet(fleet.reader(), { kind, manager, modelId });
  const plan = planExport(index, kind);
  const rendering = renderingKind(exported, plan.summary);
  const text = joinDocuments(
    renderExport(plan, {
      hub: { name: 'hub', secretName: 'hub-credentials' },
      hubHost: 'unit',
      manager,
      kind: rendering.kind,
      notes: [rendering.note],
    }),
  );
  return { plan, text, resources: resourcesOfYaml(text) };
}

function targetsOf(plan: Awaited<ReturnType<typeof exportOf>>['plan']): Record<string, unknown> {
  return Object.fromEntries(
    plan.resources.map((r) => [r.name, 'condition' in r.target ? r.target.condition : r.target.deviceIds]),
  );
}

async function assertReproduces(fleet: TwinFleet, options: TwinConfigExportOptions = {}, manager = 'sync') {
  const { resources } = await exportOf(fleet, options, manager);
  const run = dryRun(fleet.snapshot, resources, manager);
  assert.deepEqual(
    run.settingWrites.map((w) => [w.deviceId, w.changedSettings]),
    [],
    'no desired property changes',
  );
  assert.equal(run.conflictingDevices, 0);
  assert.equal(run.failedDevices, 0);
}

const component = (properties: Desired) => ({ __t: 'c', ...properties });

describe('export of device twins into TwinConfigs', () => {
  it('exports each top-level property as one setting, objects whole and in one key order, components left out and counted', async () => {
    const fleet = new TwinFleet();
    for (let i = 0; i < 4; i++)
      fleet.add(
        `ams-${i}`,
        { site: 'ams' },
        {
          targetTemperature: 21,
          schedule: i % 2 ? { on: '07:00', days: [1, 2] } : { days: [1, 2], on: '07:00' },
        },
        { modelId: THERMOSTAT },
      );
    for (let i = 0; i < 2; i++)
      fleet.add(
        `fra-${i}`,
        { site: 'fra' },
        { targetTemperature: 19, schedule: { days: [1, 2], on: '07:00' } },
        {
          modelId: THERMOSTAT,
        },
      );
    fleet.add(
      'ctl-0',
      { site: 'fra' },
      { thermostat1: component({ targetTemperature: 18 }) },
      { modelId: CONTROLLER },
    );
    const { plan, text } = await exportOf(fleet);
    assert.deepEqual(targetsOf(plan), {
      baseline: `modelId = '${THERMOSTAT}'`,
      'model-dtmi-com-example-thermostat-1-and-site-fra': `modelId = '${THERMOSTAT}' AND tags.site = 'fra'`,
    });
    assert.deepEqual(plan.resources[0].settings, {
      schedule: { days: [1, 2], on: '07:00' },
      targetTemperature: 21,
    });
    assert.deepEqual(plan.resources[1].settings, { targetTemperature: 19 });
    assert.deepEqual(plan.summary.leftOut.noConfiguration, 1);
    assert.deepEqual(plan.summary.componentsLeftOut, [['thermostat1', 1]]);
    assert.match(text, /# Components left out: thermostat1 on 1 device \(export each with --component\)\./);
    assert.match(text, /kind: TwinConfig\n[\s\S]*properties:\n {4}schedule:\n {6}days:/);
    assert.doesNotMatch(text, /__t|\$metadata|\$version|twin:/);
    await assertReproduces(fleet);
  });

  it("exports one component's properties under twin.component, without its marker, named after the component", async () => {
    const fleet = new TwinFleet();
    for (let i = 0; i < 3; i++)
      fleet.add(
        `ctl-${i}`,
        { site: i === 0 ? 'ams' : 'fra' },
        {
          thermostat1: component({ targetTemperature: i === 0 ? 17 : 18 }),
          thermostat2: component({ targetTemperature: 22 }),
          note: 'x',
        },
        { modelId: CONTROLLER },
      );
    const options = { component: 'thermostat1' };
    const { plan, text } = await exportOf(fleet, options);
    assert.deepEqual(targetsOf(plan), {
      'thermostat1-baseline': 'IS_DEFINED(deviceId)',
      'thermostat1-site-ams': "tags.site = 'ams'",
    });
    assert.deepEqual(plan.resources[0].settings, { targetTemperature: 18 });
    assert.match(text, /twin:\n {4}component: thermostat1\n {2}properties:\n {4}targetTemperature: 18\n/);
    assert.doesNotMatch(text, /__t|note|thermostat2/);
    await assertReproduces(fleet, options);
  });

  it('targets the devices of a model by modelId when no tag tells them apart, and with --model-id leaves the others out', async () => {
    const fleet = new TwinFleet();
    for (let i = 0; i < 3; i++)
      fleet.add(`t-${i}`, { site: 'ams' }, { targetTemperature: 21 }, { modelId: THERMOSTAT });
    for (let i = 0; i < 3; i++)
      fleet.add(
        `c-${i}`,
        { site: 'ams' },
        { targetTemperature: 25, thermostat1: component({ targetTemperature: 18 }) },
        { modelId: CONTROLLER },
      );
    const all = await exportOf(fleet);
    assert.deepEqual(Object.values(targetsOf(all.plan)), [
      'IS_DEFINED(deviceId)',
      `modelId = '${CONTROLLER}'`,
    ]);
    assert.ok(all.plan.resources.some((r) => r.name === 'model-dtmi-com-example-temperaturecontroller-2'));
    await assertReproduces(fleet);

    const thermostats = await exportOf(fleet, { modelId: THERMOSTAT });
    assert.deepEqual(targetsOf(thermostats.plan), { baseline: `modelId = '${THERMOSTAT}'` });
    assert.equal(thermostats.plan.summary.leftOut.otherModel, 3);
    assert.deepEqual(all.plan.summary.componentsLeftOut, [['thermostat1', 3]]);
    assert.deepEqual(thermostats.plan.summary.componentsLeftOut, [], 'nothing of other models is counted');
    assert.match(thermostats.text, /# Left out: 3 devices of another model\./);
    const run = dryRun(fleet.snapshot, thermostats.resources);
    assert.deepEqual(run.settingWrites, []);
  });

  it("never targets by the operator's ownership record, which changes with the adoption", async () => {
    const fleet = new TwinFleet();
    const owned = { iotSecurityOperator: { ops: { owners: { '/mode': 'ns/TwinConfig/ops' } } } };
    for (let i = 0; i < 3; i++)
      fleet.add(`a-${i}`, { site: 'x' }, { targetTemperature: 20, mode: 'eco' }, { twinTags: owned });
    for (let i = 0; i < 3; i++) fleet.add(`b-${i}`, { site: 'x' }, { targetTemperature: 21 });
    const { plan, text } = await exportOf(fleet);
    assert.doesNotMatch(text, /iotSecurityOperator|mode:/);
    assert.deepEqual(plan.summary.otherManagers, [['ops', 3]]);
    assert.ok(
      plan.resources.every((r) => !('condition' in r.target) || !r.target.condition.includes('tags.')),
    );
    await assertReproduces(fleet);
  });

  it('chooses PlugAndPlay when every exported twin announced a model, else Mirror, and writes what it is told', async () => {
    const pnp = new TwinFleet().add('t-0', {}, { targetTemperature: 21 }, { modelId: THERMOSTAT });
    assert.match(
      (await exportOf(pnp)).text,
      /# Convergence PlugAndPlay: every exported twin[\s\S]*convergence: PlugAndPlay\n/,
    );
    const mixed = new TwinFleet()
      .add('t-0', {}, { targetTemperature: 21 }, { modelId: THERMOSTAT })
      .add('p-0', {}, { targetTemperature: 21 });
    assert.match(
      (await exportOf(mixed)).text,
      /# Convergence Mirror: 1 of 2 exported twins announced a model[\s\S]*convergence: Mirror\n/,
    );
    assert.match(
      (await exportOf(mixed, { convergence: 'None' })).text,
      /# Convergence None, as --convergence said\.[\s\S]*convergence: None\n/,
    );
  });

  it('names the ConfigMap key of a model or schema in every TwinConfig when asked', async () => {
    const fleet = new TwinFleet().add('t-0', {}, { targetTemperature: 21 }, { modelId: THERMOSTAT });
    const { text } = await exportOf(fleet, {
      schema: { name: 'pnp-models', key: 'thermostat-1.json', format: 'DTDL' },
    });
    assert.match(
      text,
      /schema:\n {4}configMapKeyRef:\n {6}name: pnp-models\n {6}key: thermostat-1\.json\n {4}format: DTDL\n/,
    );
  });
});

describe('export of module twins into TwinConfigs', () => {
  it('exports the properties of a module, naming resources after it and counting devices without it', async () => {
    const fleet = new TwinFleet();
    for (let i = 0; i < 3; i++)
      fleet.add(`d-${i}`, { site: 'ams' }, { interval: 30, filters: ['a'] }, { slot: 'sensor' });
    fleet.add('d-3', { site: 'fra' }, { interval: 60, filters: ['a'] }, { slot: 'sensor' });
    fleet.add('bare', { site: 'fra' });
    const options = { moduleId: 'sensor', convergence: 'Mirror' as const };
    const { plan, text } = await exportOf(fleet, options);
    assert.deepEqual(targetsOf(plan), {
      'sensor-baseline': "deviceId NIN ['bare']",
      'sensor-device-d-3': ['d-3'],
    });
    assert.equal(plan.summary.leftOut.noModule, 1);
    assert.match(text, /# Left out: 1 device without the module 'sensor'\./);
    assert.match(text, /twin:\n {4}moduleId: sensor\n/);
    await assertReproduces(fleet, options);
  });

  it('passes over the module twins of devices of another model, whatever order the hub lists them in', async () => {
    const fleet = new TwinFleet();
    fleet.devicesLast = true;
    for (let i = 0; i < 2; i++)
      fleet.add(`t-${i}`, {}, { interval: 30 }, { slot: 'sensor', modelId: THERMOSTAT });
    fleet.add(
      'c-0',
      {},
      { interval: 60 },
      {
        slot: 'sensor',
        modelId: CONTROLLER,
        twinTags: {
          iotSecurityOperator: { ops: { owners: { '/interval': 'ns/TwinConfig/x' } } },
        },
      },
    );
    const { plan } = await exportOf(fleet, { moduleId: 'sensor', modelId: THERMOSTAT });
    assert.deepEqual(targetsOf(plan), { 'sensor-baseline': `modelId = '${THERMOSTAT}'` });
    assert.deepEqual(plan.summary.leftOut.otherModel, 1);
    assert.deepEqual(plan.summary.otherManagers, [], "c-0's twin is not read as one of the export's");
  });

  it("leaves the security agent's configuration to SecurityModuleConfigs when it reads the azureiotsecurity module", () => {
    const twin = {
      tags: {},
      desired: { [AGENT_CONFIGURATION_KEY]: { snapshotFrequency: { value: 'PT1H' } }, site: 'x' },
    };
    assert.deepEqual(propertySettings(twin, 'sync', { moduleId: SECURITY_MODULE_ID }), {
      kind: 'settings',
      settings: { site: 'x' },
      othersLeftOut: [],
    });
  });
});

describe('propertySettings', () => {
  const desired = {
    targetTemperature: 21,
    mode: 'eco',
    thermostat1: component({ targetTemperature: 18, limits: { min: 5 } }),
  };
  const owning = (manager: string, settingId: string) => ({
    iotSecurityOperator: { [manager]: { owners: { [settingId]: 'ns/TwinConfig/x' } } },
  });

  it("leaves out what another manager's record claims: the property, or a component around it", () => {
    assert.deepEqual(propertySettings({ tags: owning('ops', '/mode'), desired }, 'sync'), {
      kind: 'settings',
      settings: { targetTemperature: 21 },
      othersLeftOut: ['ops'],
      componentsLeftOut: ['thermostat1'],
    });
    assert.deepEqual(
      propertySettings({ tags: owning('ops', '/thermostat1'), desired }, 'sync', {
        component: 'thermostat1',
      }),
      {
        kind: 'managedElsewhere',
        managers: ['ops'],
      },
    );
    assert.deepEqual(
      propertySettings({ tags: owning('ops', '/thermostat1/limits'), desired }, 'sync', {
        component: 'thermostat1',
      }),
      { kind: 'settings', settings: { targetTemperature: 18 }, othersLeftOut: ['ops'] },
    );
  });

  it('keeps what its own manager claims, and says when a twin holds nothing to export', () => {
    assert.deepEqual(propertySettings({ tags: owning('sync', '/mode'), desired }, 'sync').kind, 'settings');
    assert.deepEqual(propertySettings({ tags: {}, desired: {} }, 'sync'), { kind: 'noConfiguration' });
    assert.deepEqual(propertySettings({ tags: {}, desired }, 'sync', { component: 'thermostat2' }), {
      kind: 'noConfiguration',
    });
    assert.deepEqual(propertySettings({ tags: {}, desired: { thermostat1: component({}) } }, 'sync'), {
      kind: 'noConfiguration',
      componentsLeftOut: ['thermostat1'],
    });
  });
});

describe('export of device twins on random fleets', () => {
  const VALUES: unknown[] = [
    20,
    21.5,
    'eco',
    true,
    { on: '07:00', days: [1, 5] },
    { days: [1, 5], on: '07:00' },
    ['a', 'b'],
    {},
  ];
  const desiredArb = fc.dictionary(
    fc.constantFrom('targetTemperature', 'mode', 'schedule', 'Mode'),
    fc.constantFrom(...VALUES),
    {
      maxKeys: 3,
    },
  );
  const deviceArb = fc.record({
    tags: fc.record(
      { site: fc.constantFrom('a', 'b', 'c'), environment: fc.constantFrom('p', 's') },
      { requiredKeys: [] },
    ),
    desired: desiredArb,
    thermostat1: fc.option(fc.record({ targetTemperature: fc.constantFrom(18, 19) }, { requiredKeys: [] })),
    model: fc.constantFrom(THERMOSTAT, CONTROLLER, undefined),
    ops: fc.boolean(),
  });

  it('exports TwinConfigs a dry run of sync plans no change for, with valid and unique names', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(deviceArb, { minLength: 1, maxLength: 30 }),
        fc.constantFrom('sync', 'ops'),
        fc.constantFrom<TwinConfigExportOptions>({}, { component: 'thermostat1' }),
        async (devices, manager, options) => {
          const fleet = new TwinFleet();
          devices.forEach((d, i) => {
            const desired: Desired = { ...d.desired };
            if (d.thermostat1) desired.thermostat1 = component(d.thermostat1);
            const twinTags = d.ops
              ? { iotSecurityOperator: { ops: { owners: { '/mode': 'ns/TwinConfig/x' } } } }
              : {};
            fleet.add(`dev-${i}`, d.tags, desired, { modelId: d.model, twinTags });
          });
          const { plan, resources } = await exportOf(fleet, options, manager);
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
      { numRuns: 200 },
    );
  });
});
