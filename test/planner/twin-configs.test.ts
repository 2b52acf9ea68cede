// TwinConfigs as the planner takes them (toPlannedResource of validated resources): their properties written to
// the twin they name, IoT Plug and Play acknowledgements read into converged and rejected devices and the
// status, and layering beside SecurityModuleConfigs on one module twin, in the same order whatever the input's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecurityModuleConfig, TwinConfig } from '../../src/api/generated/types.js';
import {
  type HubSnapshot,
  type ManagedTwin,
  OWNERSHIP_TAG,
  type PlannedResource,
  planHubReconcile,
  toPlannedResource,
} from '../../src/planner/index.js';
import { twinConfigStatus } from '../../src/planner/kubernetes-status.js';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import {
  DEVICE_TWIN,
  type DeviceRecord,
  lastWritten,
  type TwinSlot,
  type WriteStamp,
} from '../../src/twins/types.js';
import { validateResource } from '../../src/validation/validate-resource.js';
import { mergePatch } from '../support/planner-fixtures.js';
import { securityModuleConfig, twinConfig } from '../support/resources.js';

const THERMOSTAT = 'dtmi:com:example:Thermostat;1';

/** A validated resource (defaults applied) as the planner takes it. */
function planned(document: Record<string, unknown>): PlannedResource {
  const validation = validateResource(document);
  assert.deepEqual(validation.issues, [], 'the resource is valid');
  return toPlannedResource(validation.resource as SecurityModuleConfig | TwinConfig);
}

const thermostats = (spec: Record<string, unknown> = {}, name = 'thermostats') =>
  planned(
    twinConfig(
      name,
      {
        target: { condition: `modelId = '${THERMOSTAT}'` },
        properties: { targetTemperature: 21.5 },
        ...spec,
      },
      { namespace: 'iot' },
    ),
  );

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * desired's write stamps after a merge patch, as the hub keeps its `$metadata` (and src/emulator/twin-document.ts)
 * and twinFromJson reads them: each level the patch writes, inside components too, gets the write's stamp (its time
 * and the new desired `$version`); what it leaves keeps its own.
 */
function stampWritten(
  written: WriteStamp,
  current: unknown,
  patch: Record<string, unknown>,
  stamp: { at: number; version: number },
): WriteStamp {
  // A property without a stamp of its own was written with its parent: it keeps the parent's stamp of before.
  const before = (key: string): WriteStamp =>
    written.below?.[key] ?? { at: written.at, version: written.version };
  const below: Record<string, WriteStamp> = {};
  if (isObject(current))
    for (const key of Object.keys(current)) if (!(key in patch)) below[key] = before(key);
  for (const [key, value] of Object.entries(patch)) {
    const old = isObject(current) ? current[key] : undefined;
    if (value === null) continue;
    below[key] =
      isObject(value) && isObject(old) ? stampWritten(before(key), old, value, stamp) : { ...stamp };
  }
  return { ...stamp, below };
}

/** A hub of devices and the twins of some slots, taking writes as merge patches. */
class Hub {
  readonly twins = new Map<TwinSlot, Map<string, ManagedTwin>>();
  readonly devices: DeviceRecord[] = [];
  /** The hub's clock (epoch ms): writes are stamped with it. */
  now = 0;

  add(deviceId: string, slots: TwinSlot[], modelId?: string): void {
    this.devices.push({
      deviceId,
      tags: { environment: 'production' },
      status: 'enabled',
      connectionState: 'Connected',
      ...(modelId ? { modelId } : {}),
    });
    for (const slot of slots) {
      const twins = this.twins.get(slot) ?? new Map<string, ManagedTwin>();
      twins.set(deviceId, {
        deviceId,
        ...(slot === DEVICE_TWIN ? {} : { moduleId: slot }),
        etag: 'e1',
        tags: {},
        desired: {},
        desiredWritten: {},
        reported: {},
        desiredVersion: 1,
        current: true,
      });
      this.twins.set(slot, twins);
    }
  }

  twin(slot: TwinSlot, deviceId: string): ManagedTwin {
    return this.twins.get(slot)!.get(deviceId)!;
  }

  snapshot(): HubSnapshot {
    return {
      devices: this.devices.map((d) => ({ ...d })),
      twins: new Map([...this.twins].map(([slot, twins]) => [slot, new Map(twins)])),
    };
  }

  plan(resources: PlannedResource[], now = this.now) {
    return planHubReconcile({ snapshot: this.snapshot(), resources, now, unknownOwners: 'keep' });
  }

  /** Applies the writes as the hub does: merged, the new desired version stamped on each level written. */
  apply(writes: ReturnType<Hub['plan']>['writes']): void {
    for (const write of writes) {
      const twin = this.twin(write.slot, write.deviceId);
      twin.tags = mergePatch(twin.tags, write.patch.tags ?? {}) as ManagedTwin['tags'];
      const desired = write.patch.properties?.desired;
      if (desired) this.writeDesired(twin, desired);
      else twin.etag = `${twin.etag}+`;
    }
  }

  /** A patch of desired: the plan's writes, or another writer's (a person, another tool). */
  writeDesired(twin: ManagedTwin, patch: Record<string, unknown>): void {
    const version = twin.desiredVersion + 1;
    const stamp = { at: this.now, version };
    Object.assign(twin, {
      etag: `${twin.etag}+`,
      desired: mergePatch(twin.desired, patch),
      desiredWritten: stampWritten(twin.desiredWritten, twin.desired, patch, stamp),
      desiredVersion: version,
    });
  }

  /**
   * The device acknowledges the property at `path` (`targetTemperature`, `thermostat1/targetTemperature`) as IoT
   * Plug and Play says, inside its component's object with the marker; at the desired `$version` it read, unless
   * `av` says otherwise.
   */
  acknowledge(deviceId: string, path: string, ac: number, ad: unknown, av?: number): void {
    const twin = this.twin(DEVICE_TWIN, deviceId);
    const [first, second] = path.split('/');
    const ack = (value: unknown) => ({ value, ac, av: av ?? twin.desiredVersion, ad });
    if (second === undefined) {
      twin.reported = { ...twin.reported, [first]: ack(twin.desired[first]) };
      return;
    }
    const component = isObject(twin.reported[first]) ? twin.reported[first] : {};
    const value = isObject(twin.desired[first]) ? twin.desired[first][second] : undefined;
    twin.reported = { ...twin.reported, [first]: { ...component, __t: 'c', [second]: ack(value) } };
  }
}

const THERMOSTATS = 'iot/TwinConfig/thermostats';
/** Past the default convergenceTimeout (15m) after writes at 0. */
const HOUR = 3_600_000;

const ready = (
  conditions: { type: string; status: string; reason: string; message?: string }[] | undefined,
) => conditions?.find((c) => c.type === 'Ready');

describe('TwinConfigs in the planner', () => {
  it('gives a TwinConfig a key of its own beside a SecurityModuleConfig of the same name', () => {
    const tc = thermostats({}, 'baseline');
    const smc = planned(
      securityModuleConfig(
        'baseline',
        { target: { condition: 'IS_DEFINED(tags.site)' }, agentConfiguration: { snapshotFrequency: 'PT1H' } },
        { namespace: 'iot' },
      ),
    );
    assert.equal(tc.key, 'iot/TwinConfig/baseline');
    assert.equal(smc.key, 'iot/baseline');
    assert.deepEqual(
      [tc.kind, tc.slot, tc.convergence, tc.settings],
      ['TwinConfig', DEVICE_TWIN, 'PlugAndPlay', { '/targetTemperature': 21.5 }],
    );
  });

  it('writes the properties to the device twin and counts a device converged once it acknowledges the version written', () => {
    const hub = new Hub();
    hub.add('pnp-1', [DEVICE_TWIN], THERMOSTAT);
    hub.add('other', [DEVICE_TWIN]);
    const resources = [thermostats()];
    const first = hub.plan(resources);
    assert.deepEqual(
      first.writes.map((w) => [w.deviceId, w.patch.properties]),
      [['pnp-1', { desired: { targetTemperature: 21.5 } }]],
    );
    assert.deepEqual((first.writes[0].patch.tags as any)[OWNERSHIP_TAG].sync.owners, {
      '/targetTemperature': 'iot/TwinConfig/thermostats',
    });
    hub.apply(first.writes);
    assert.equal(hub.plan(resources).reports.get('iot/TwinConfig/thermostats')!.counts.pendingDevices, 1);

    hub.acknowledge('pnp-1', 'targetTemperature', 200, 'applied');
    const done = hub.plan(resources);
    assert.deepEqual(done.writes, []);
    const status = twinConfigStatus(done.reports.get('iot/TwinConfig/thermostats')!, { now: new Date(0) });
    assert.deepEqual(
      [
        status.targetedDevices,
        status.convergedDevices,
        status.rejectedDevices,
        ready(status.conditions)?.reason,
      ],
      [1, 1, 0, 'Converged'],
    );
  });

  it('counts a device that refuses the value as rejected, in its own words, and is not Ready', () => {
    const hub = new Hub();
    hub.add('pnp-1', [DEVICE_TWIN], THERMOSTAT);
    hub.add('pnp-2', [DEVICE_TWIN], THERMOSTAT);
    // Past failureThreshold the rollout would halt first: here every device may fail.
    const resources = [
      thermostats({ properties: { targetTemperature: 33 }, rollout: { failureThreshold: '100%' } }),
    ];
    hub.apply(hub.plan(resources).writes);
    hub.acknowledge('pnp-1', 'targetTemperature', 200, 'applied');
    hub.acknowledge('pnp-2', 'targetTemperature', 400, 'targetTemperature 33 is outside 10..30 °C');
    const report = hub.plan(resources).reports.get('iot/TwinConfig/thermostats')!;
    const status = twinConfigStatus(report, { now: new Date(0) });
    assert.deepEqual([status.convergedDevices, status.rejectedDevices], [1, 1]);
    assert.deepEqual(status.failures, [
      {
        deviceId: 'pnp-2',
        reason: 'DeviceRejected',
        message: 'targetTemperature refused (400): targetTemperature 33 is outside 10..30 °C',
      },
    ]);
    assert.deepEqual(
      [ready(status.conditions)?.status, ready(status.conditions)?.reason],
      ['False', 'DevicesRejected'],
    );
    // The Event of the transition carries this message: the device's words, not only a count.
    assert.equal(
      ready(status.conditions)?.message,
      '1 device rejected the values (pnp-2: targetTemperature refused (400): targetTemperature 33 is outside 10..30 °C); see status.failures',
    );
    assert.ok(report.stuck, 'sync --wait stops: only a change helps');
  });

  it('halts a rollout past failureThreshold on rejections, naming the first in its own words', () => {
    const hub = new Hub();
    for (let i = 1; i <= 8; i++) hub.add(`pnp-${i}`, [DEVICE_TWIN], THERMOSTAT);
    const resources = [
      thermostats({
        properties: { targetTemperature: 8 },
        rollout: { batchSize: 4, failureThreshold: '10%' },
      }),
    ];
    const first = hub.plan(resources);
    assert.equal(first.writes.length, 4, 'the first batch');
    hub.apply(first.writes);
    // One device of the batch on the legacy firmware: 1 of 4 is above 10%.
    const legacy = first.writes[1].deviceId;
    for (const { deviceId } of first.writes)
      if (deviceId === legacy)
        hub.acknowledge(deviceId, 'targetTemperature', 400, 'targetTemperature 8 is outside 10..30 °C');
      else hub.acknowledge(deviceId, 'targetTemperature', 200, 'applied');
    const halted = hub.plan(resources);
    assert.deepEqual(halted.writes, [], 'no new batch starts');
    const report = halted.reports.get('iot/TwinConfig/thermostats')!;
    const condition = ready(twinConfigStatus(report, { now: new Date(0) }).conditions);
    assert.equal(condition?.reason, 'RolloutHalted');
    assert.equal(
      condition?.message,
      `rollout halted: 1 of 4 devices reached are stalled, failed or rejected, above failureThreshold 10% (${legacy}: targetTemperature refused (400): targetTemperature 8 is outside 10..30 °C); fix the cause (see status.failures) and change the spec to resume`,
    );
  });

  it('is stuck once the devices a halted rollout wrote have answered, its later batches left pending', () => {
    const hub = new Hub();
    for (let i = 1; i <= 8; i++) hub.add(`pnp-${i}`, [DEVICE_TWIN], THERMOSTAT);
    const resources = [
      thermostats({
        properties: { targetTemperature: 8 },
        rollout: { batchSize: 4, failureThreshold: '10%' },
      }),
    ];
    const first = hub.plan(resources);
    hub.apply(first.writes);
    const [refusing, ...accepting] = first.writes.map((w) => w.deviceId);
    hub.acknowledge(refusing, 'targetTemperature', 400, 'targetTemperature 8 is outside 10..30 °C');
    const answering = hub.plan(resources).reports.get('iot/TwinConfig/thermostats')!;
    assert.equal(answering.rollout.halted, true);
    assert.equal(answering.stuck, false, 'the devices written are still answering');
    for (const deviceId of accepting) hub.acknowledge(deviceId, 'targetTemperature', 200, 'applied');
    const report = hub.plan(resources).reports.get('iot/TwinConfig/thermostats')!;
    assert.deepEqual(
      [report.rollout.halted, report.counts.pendingDevices, report.deferredDevices],
      [true, 4, 4],
      'the second batch never starts',
    );
    assert.ok(report.stuck, 'sync --wait stops: only a change of spec resumes the rollout');
  });

  it('lists a rejection beside many stalled devices in status.failures, and quotes it in Ready', () => {
    const hub = new Hub();
    const stalled = Array.from({ length: 22 }, (_, i) => `a-${String(i + 1).padStart(2, '0')}`);
    for (const deviceId of [...stalled, 'z-1']) hub.add(deviceId, [DEVICE_TWIN], THERMOSTAT);
    const resources = [thermostats({ rollout: { failureThreshold: '100%' } })];
    hub.apply(hub.plan(resources).writes);
    hub.acknowledge('z-1', 'targetTemperature', 400, 'targetTemperature 21.5 is not a whole degree');
    const report = hub.plan(resources, HOUR).reports.get(THERMOSTATS)!;
    const status = twinConfigStatus(report, { now: new Date(HOUR) });
    assert.deepEqual([status.stalledDevices, status.rejectedDevices], [22, 1]);
    const failures = status.failures ?? [];
    assert.equal(failures.length, 20);
    const of = (reason: string) => failures.filter((f) => f.reason === reason).map((f) => f.deviceId);
    assert.deepEqual(of('DeviceRejected'), ['z-1']);
    assert.deepEqual(of('ConvergenceTimeout'), stalled.slice(0, 19), 'the first stalled ones by id');
    assert.equal(
      failures[0].message,
      'online, but the device has not acknowledged the values written at 1970-01-01T00:00:00Z; targetTemperature: reported nothing, desired 21.5',
    );
    assert.equal(ready(status.conditions)?.reason, 'DevicesRejected');
    assert.equal(
      ready(status.conditions)?.message,
      '1 device rejected the values (z-1: targetTemperature refused (400): targetTemperature 21.5 is not a whole degree), 22 devices stalled (online, not acknowledging the values within convergenceTimeout); see status.failures',
    );
  });

  it('waits for a device that answers 202 (in progress) until its 200, and finds it stalled past convergenceTimeout', () => {
    const hub = new Hub();
    hub.add('pnp-1', [DEVICE_TWIN], THERMOSTAT);
    const resources = [thermostats()];
    hub.apply(hub.plan(resources).writes);
    hub.acknowledge('pnp-1', 'targetTemperature', 202, 'heating');
    const waiting = hub.plan(resources).reports.get(THERMOSTATS)!;
    assert.deepEqual([waiting.counts.pendingDevices, waiting.counts.convergedDevices], [1, 0]);
    assert.equal(ready(waiting.conditions)?.reason, 'Progressing');

    const late = hub.plan(resources, HOUR).reports.get(THERMOSTATS)!;
    assert.equal(late.counts.stalledDevices, 1);
    assert.deepEqual(late.failures, [
      {
        deviceId: 'pnp-1',
        reason: 'ConvergenceTimeout',
        message:
          'online, but the device has not acknowledged the values written at 1970-01-01T00:00:00Z; targetTemperature: reported {"value":21.5,"ac":202,"av":2,"ad":"heating"}, desired 21.5',
      },
    ]);

    hub.acknowledge('pnp-1', 'targetTemperature', 200, 'reached');
    assert.equal(hub.plan(resources, HOUR).reports.get(THERMOSTATS)!.counts.convergedDevices, 1);
  });

  it('says a stalled Mirror device is not reporting the values, showing what it reports instead', () => {
    const hub = new Hub();
    hub.add('pnp-1', [DEVICE_TWIN], THERMOSTAT);
    const resources = [thermostats({ convergence: 'Mirror', rollout: { failureThreshold: '100%' } })];
    hub.apply(hub.plan(resources).writes);
    // An acknowledgement where the value itself was expected.
    hub.acknowledge('pnp-1', 'targetTemperature', 200, 'applied');
    const report = hub.plan(resources, HOUR).reports.get(THERMOSTATS)!;
    assert.deepEqual(
      report.failures.map((f) => f.message),
      [
        'online, but the device has not reported the values written at 1970-01-01T00:00:00Z; targetTemperature: reported {"value":21.5,"ac":200,"av":2,"ad":"applied"}, desired 21.5',
      ],
    );
    assert.equal(
      ready(report.conditions)?.message,
      '1 device stalled (online, not reporting the values within convergenceTimeout); see status.failures',
    );
  });

  it("counts a component's property converged at the version of its own write, whatever others write after", () => {
    const hub = new Hub();
    hub.add('controller-1', [DEVICE_TWIN], 'dtmi:com:example:TemperatureController;2');
    const controllers = (targetTemperature: number) =>
      planned(
        twinConfig(
          'controllers',
          {
            target: { deviceIds: ['controller-1'] },
            twin: { component: 'thermostat1' },
            properties: { targetTemperature },
          },
          { namespace: 'iot' },
        ),
      );
    const key = 'iot/TwinConfig/controllers';
    const twin = hub.twin(DEVICE_TWIN, 'controller-1');
    hub.apply(hub.plan([controllers(19)]).writes);
    assert.equal(
      lastWritten(twin, ['thermostat1', 'targetTemperature']).version,
      2,
      'the hub stamps the property inside the component',
    );
    hub.acknowledge('controller-1', 'thermostat1/targetTemperature', 200, 'applied');
    assert.equal(hub.plan([controllers(19)]).reports.get(key)!.counts.convergedDevices, 1);

    // Someone else writes another component and another property of this one: desired $version goes to 4.
    hub.writeDesired(twin, { thermostat2: { __t: 'c', targetTemperature: 22 } });
    hub.writeDesired(twin, { thermostat1: { targetHumidity: 40 } });
    const after = hub.plan([controllers(19)]);
    assert.deepEqual(after.writes, []);
    assert.deepEqual(
      [after.reports.get(key)!.counts.convergedDevices, after.reports.get(key)!.counts.pendingDevices],
      [1, 0],
      'not pending forever for a version it has no reason to answer',
    );

    // A change of ours is answered again: an acknowledgement of the version before it does not count.
    const changed = [controllers(20)];
    hub.apply(hub.plan(changed).writes);
    hub.acknowledge('controller-1', 'thermostat1/targetTemperature', 200, 'applied', 4);
    assert.equal(hub.plan(changed).reports.get(key)!.counts.pendingDevices, 1);
    hub.acknowledge('controller-1', 'thermostat1/targetTemperature', 200, 'applied');
    assert.equal(hub.plan(changed).reports.get(key)!.counts.convergedDevices, 1);
  });

  it("writes a component's properties under its name with the component marker", () => {
    const hub = new Hub();
    hub.add('controller-1', [DEVICE_TWIN], 'dtmi:com:example:TemperatureController;2');
    const resources = [
      planned(
        twinConfig(
          'controllers',
          {
            target: { deviceIds: ['controller-1'] },
            twin: { component: 'thermostat1' },
            properties: { targetTemperature: 19 },
          },
          { namespace: 'iot' },
        ),
      ),
    ];
    assert.deepEqual(hub.plan(resources).writes[0].patch.properties, {
      desired: { thermostat1: { __t: 'c', targetTemperature: 19 } },
    });
  });

  it('writes an object whole: what the new value leaves out is removed, and then nothing is written', () => {
    const hub = new Hub();
    hub.add('pnp-1', [DEVICE_TWIN], THERMOSTAT);
    const schedule = (value: unknown) =>
      thermostats({ properties: { schedule: value }, convergence: 'Mirror' }, 'schedule');
    hub.apply(hub.plan([schedule({ weekdays: { from: 7, to: 22 }, holidays: { from: 9, to: 20 } })]).writes);
    const shrunk = schedule({ weekdays: { from: 8 } });
    const [write] = hub.plan([shrunk]).writes;
    assert.deepEqual(write.patch.properties, {
      desired: { schedule: { holidays: null, weekdays: { to: null, from: 8 } } },
    });
    hub.apply([write]);
    assert.deepEqual(hub.twin(DEVICE_TWIN, 'pnp-1').desired.schedule, { weekdays: { from: 8 } });
    assert.deepEqual(hub.plan([shrunk]).writes, []);
  });

  describe('two TwinConfigs whose properties overlap in desired (a whole component and one of its properties)', () => {
    const whole = (priority: number, name = 'whole') =>
      thermostats(
        { priority, properties: { thermostat1: { targetTemperature: 18 } }, convergence: 'Mirror' },
        name,
      );
    const part = (priority: number, name = 'part') =>
      thermostats(
        {
          priority,
          twin: { component: 'thermostat1' },
          properties: { targetTemperature: 25 },
          convergence: 'None',
        },
        name,
      );
    const converge = (hub: Hub, resources: PlannedResource[]) => {
      for (let round = 0; round < 5; round++) {
        const { writes } = hub.plan(resources);
        if (writes.length === 0) return round;
        hub.apply(writes);
      }
      throw new Error('still writing after 5 rounds');
    };

    it('lets the higher priority take the place, once and for all', () => {
      const hub = new Hub();
      hub.add('pnp-1', [DEVICE_TWIN], THERMOSTAT);
      assert.equal(converge(hub, [part(10)]), 1);
      assert.equal(converge(hub, [part(10), whole(50)]), 1, 'one write, then nothing: no write war');
      assert.deepEqual(hub.twin(DEVICE_TWIN, 'pnp-1').desired.thermostat1, { targetTemperature: 18 });
      const reports = hub.plan([part(10), whole(50)]).reports;
      assert.equal(
        reports.get('iot/TwinConfig/part')!.counts.conflictingDevices,
        0,
        'a lower layer, as for one setting',
      );
    });

    it('makes equal priorities a conflict on both, won by the lowest key', () => {
      const hub = new Hub();
      hub.add('pnp-1', [DEVICE_TWIN], THERMOSTAT);
      const resources = [whole(10, 'b-whole'), part(10, 'a-part')];
      assert.equal(converge(hub, resources), 1);
      assert.deepEqual(hub.twin(DEVICE_TWIN, 'pnp-1').desired.thermostat1, {
        __t: 'c',
        targetTemperature: 25,
      });
      const { reports } = hub.plan(resources);
      const loser = reports.get('iot/TwinConfig/b-whole')!;
      assert.equal(ready(loser.conditions)?.reason, 'ConflictingSettings');
      assert.deepEqual(
        loser.failures.map((f) => f.message),
        [
          '/thermostat1: overlaps /thermostat1/targetTemperature in desired, which iot/TwinConfig/a-part sets to 25 at the same priority 10; iot/TwinConfig/a-part wins (lowest key)',
        ],
      );
      assert.equal(reports.get('iot/TwinConfig/a-part')!.counts.conflictingDevices, 1);
    });
  });

  describe('two managers whose properties overlap in desired', () => {
    const whole = thermostats(
      { properties: { thermostat1: { targetTemperature: 18 } }, convergence: 'Mirror' },
      'whole',
    );
    const part = thermostats(
      { twin: { component: 'thermostat1' }, properties: { targetTemperature: 25 }, convergence: 'None' },
      'part',
    );
    const planAs = (hub: Hub, manager: string, resources: PlannedResource[]) =>
      planHubReconcile({ snapshot: hub.snapshot(), resources, now: 0, unknownOwners: 'keep', manager });

    for (const [first, second, theirs, ours] of [
      [whole, part, '/thermostat1', '/thermostat1/targetTemperature'],
      [part, whole, '/thermostat1/targetTemperature', '/thermostat1'],
    ] as const)
      it(`leaves ${theirs}, another manager's, alone when a resource of ours sets ${ours}, and says so`, () => {
        const hub = new Hub();
        hub.add('pnp-1', [DEVICE_TWIN], THERMOSTAT);
        hub.apply(planAs(hub, 'pipeline', [first]).writes);
        const before = structuredClone(hub.twin(DEVICE_TWIN, 'pnp-1').desired.thermostat1);
        const { writes, reports } = planAs(hub, 'operator', [second]);
        assert.deepEqual(
          writes.map((w) => w.patch.properties?.desired ?? {}),
          [],
          'nothing of the place is written',
        );
        assert.deepEqual(hub.twin(DEVICE_TWIN, 'pnp-1').desired.thermostat1, before);
        const report = reports.get(`iot/TwinConfig/${second === whole ? 'whole' : 'part'}`)!;
        assert.equal(ready(report.conditions)?.reason, 'ConflictingSettings');
        assert.match(
          report.failures[0].message,
          new RegExp(
            `^${ours}: managed on this twin by iot/TwinConfig/${first === whole ? 'whole' : 'part'} of manager 'pipeline' \\(its ${theirs} overlaps it in desired\\)`,
          ),
        );
      });
  });

  describe('beside a SecurityModuleConfig on the security module twin', () => {
    const agentSettings = planned(
      securityModuleConfig(
        'baseline',
        {
          target: { condition: "tags.environment = 'production'" },
          priority: 10,
          agentConfiguration: { highPriorityMessageFrequency: 'PT5M' },
        },
        { namespace: 'iot' },
      ),
    );
    const ring = (priority: number, name: string, value: string) =>
      planned(
        twinConfig(
          name,
          {
            target: { condition: "tags.environment = 'production'" },
            twin: { moduleId: SECURITY_MODULE_ID },
            priority,
            properties: { deploymentRing: value },
            convergence: 'None',
          },
          { namespace: 'iot' },
        ),
      );

    it('layers both kinds by priority, then key, in one write whatever the order they come in', () => {
      const resources = [ring(50, 'ring-b', 'canary'), agentSettings, ring(50, 'ring-a', 'stable')];
      const plans = [resources, [...resources].reverse()].map((order) => {
        const hub = new Hub();
        hub.add('d-1', [SECURITY_MODULE_ID]);
        return hub.plan(order);
      });
      assert.deepEqual(plans[0].writes, plans[1].writes);
      const [write] = plans[0].writes;
      assert.deepEqual(write.patch.properties, {
        desired: {
          [AGENT_CONFIGURATION_KEY]: { highPriorityMessageFrequency: { value: 'PT5M' } },
          deploymentRing: 'stable',
        },
      });
      assert.deepEqual((write.patch.tags as any)[OWNERSHIP_TAG].sync.owners, {
        highPriorityMessageFrequency: 'iot/baseline',
        '/deploymentRing': 'iot/TwinConfig/ring-a',
      });
      // Equal priorities that disagree: a conflict on both, won by the lowest key.
      const loser = plans[0].reports.get('iot/TwinConfig/ring-b')!;
      assert.equal(loser.counts.conflictingDevices, 1);
      assert.equal(ready(loser.conditions)?.reason, 'ConflictingSettings');
      assert.equal(plans[0].reports.get('iot/TwinConfig/ring-a')!.counts.conflictingDevices, 1);
      assert.equal(plans[0].reports.get('iot/baseline')!.counts.conflictingDevices, 0);
    });

    it("takes the agent's configuration and the settings in it for one place, were such a TwinConfig to get past validation", () => {
      const wholeAgent = (priority: number): PlannedResource => ({
        ...ring(priority, 'whole-agent', 'x'),
        settings: { [`/${AGENT_CONFIGURATION_KEY}`]: { snapshotFrequency: { value: 'PT1H' } } },
      });
      const hub = new Hub();
      hub.add('d-1', [SECURITY_MODULE_ID]);
      const tie = hub.plan([wholeAgent(10), agentSettings]);
      assert.equal(tie.reports.get('iot/TwinConfig/whole-agent')!.counts.conflictingDevices, 1);
      assert.equal(tie.reports.get('iot/baseline')!.counts.conflictingDevices, 1);
      // The lowest key wins the tie: `iot/TwinConfig/...` sorts before `iot/baseline`.
      assert.deepEqual(tie.writes[0].patch.properties, {
        desired: { [AGENT_CONFIGURATION_KEY]: { snapshotFrequency: { value: 'PT1H' } } },
      });
      const over = [wholeAgent(50), agentSettings];
      hub.apply(hub.plan(over).writes);
      assert.deepEqual(hub.plan(over).writes, [], 'the higher priority holds the place: no write war');
    });

    it("refuses a TwinConfig that would manage the agent's configuration, naming the SecurityModuleConfig way", () => {
      const validation = validateResource(
        twinConfig(
          'whole-agent',
          {
            target: { deviceIds: ['d-1'] },
            twin: { moduleId: SECURITY_MODULE_ID },
            properties: { [AGENT_CONFIGURATION_KEY]: { snapshotFrequency: { value: 'PT1H' } } },
          },
          { namespace: 'iot' },
        ),
      );
      assert.equal(validation.resource, undefined);
      assert.deepEqual(
        validation.issues.map((i) => i.path),
        [['spec', 'properties', AGENT_CONFIGURATION_KEY]],
      );
      assert.match(
        validation.issues[0].message,
        /is managed by a SecurityModuleConfig \(spec\.agentConfiguration\), which judges it as the device does/,
      );
      // The same property of any other twin is anyone's.
      assert.deepEqual(
        validateResource(
          twinConfig(
            'device-twin',
            { target: { deviceIds: ['d-1'] }, properties: { [AGENT_CONFIGURATION_KEY]: { any: 1 } } },
            { namespace: 'iot' },
          ),
        ).issues,
        [],
      );
    });
  });
});
