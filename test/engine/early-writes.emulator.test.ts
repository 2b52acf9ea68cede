// A cold step writes while the hub is still read: the devices the first pages complete are written before the last
// page is served, through the real SDK against the emulator, whatever order the query pages come in; the plan of the
// whole read still counts, and writes, every device once.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { HubSession } from '../../src/engine/index.js';
import type { HubClient, HubRegistry } from '../../src/hub/hub-client.js';
import { DEVICES_QUERY } from '../../src/hub/twin-reads.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { registryOf } from '../support/emulator-requests.js';
import { emulatorClient, emulatorCount, startHubEmulator } from '../support/emulator-support.js';
import { resource } from '../support/planner-fixtures.js';
import { until } from '../support/until.js';

const DEVICES = 2500;
const baseline = resource('iot/baseline', { eventPriorityLogin: 'Low' });

/** Query pages held back until the test lets them go: the SDK's registry, each query's `next` behind a gate. */
class PageGate {
  private opened = false;
  private readonly waiting: (() => void)[] = [];
  /** Pages asked for and held, by query ('devices' or 'modules'). */
  readonly held = { devices: 0, modules: 0 };
  /** Pages served, by query. */
  readonly served = { devices: 0, modules: 0 };

  constructor(private readonly holds: (query: 'devices' | 'modules', page: number) => boolean) {}

  /** Lets every page go, held or to come. */
  open(): void {
    this.opened = true;
    this.release();
  }

  /** Lets the pages held now go; later ones are held as before. */
  release(): void {
    for (const release of this.waiting.splice(0)) release();
  }

  registry(emulator: RunningEmulator): HubRegistry {
    const sdk = registryOf(emulator);
    return {
      createQuery: (sql, pageSize) => {
        const query = sdk.createQuery(sql, pageSize);
        const kind = sql === DEVICES_QUERY ? 'devices' : 'modules';
        let page = 0;
        const next = async (token?: string) => {
          page++;
          if (!this.opened && this.holds(kind, page)) {
            this.held[kind]++;
            await new Promise<void>((release) => this.waiting.push(release));
          }
          const result = await (token === undefined ? query.next() : query.next(token));
          this.served[kind]++;
          return result;
        };
        return { next } as unknown as ReturnType<HubRegistry['createQuery']>;
      },
      getTwin: sdk.getTwin.bind(sdk),
      getModuleTwin: sdk.getModuleTwin.bind(sdk),
      updateTwin: sdk.updateTwin.bind(sdk),
      updateModuleTwin: sdk.updateModuleTwin.bind(sdk),
      addModule: sdk.addModule.bind(sdk),
    } as HubRegistry;
  }
}

describe('a cold step writes while the hub is read', () => {
  let emulator: RunningEmulator;
  let client: HubClient | undefined;
  /** Module twins whose desired properties changed, in order. */
  const written: string[] = [];

  beforeEach(async () => {
    emulator = await startHubEmulator({ devices: DEVICES });
    written.length = 0;
    emulator.hub.store.onChange(({ record, previous, next }) => {
      if (record.moduleId === SECURITY_MODULE_ID && previous && next && previous.desired !== next.desired)
        written.push(record.deviceId);
    });
  });

  afterEach(async () => {
    client?.close();
    await emulator?.close();
  });

  /** A session's first step over `gate`; `meanwhile` runs while it reads, then every page is let go. */
  async function stepWith(gate: PageGate, meanwhile: () => Promise<void>) {
    client = emulatorClient(emulator, { tier: 'S3', units: 10, registry: gate.registry(emulator) });
    const session = new HubSession(client, { unknownOwners: 'keep' });
    const step = session.step([baseline]);
    try {
      await meanwhile();
    } finally {
      gate.open();
    }
    return step;
  }

  function assertEachWrittenOnce(outcome: Awaited<ReturnType<HubSession['step']>>) {
    const report = outcome.finalPlan.reports.get(baseline.key)!;
    assert.ok(report.counts.targetedDevices > 1000, 'devices of later pages are targeted too');
    assert.equal(outcome.writesSucceeded, report.counts.targetedDevices);
    assert.equal(outcome.initialPlan.writes.length, report.counts.targetedDevices);
    assert.equal(written.length, report.counts.targetedDevices);
    assert.equal(new Set(written).size, written.length, 'no twin written twice');
    assert.equal(emulatorCount(emulator, 'twinUpdate'), report.counts.targetedDevices);
  }

  it('writes twins before the last query page is served, and each targeted twin once', async () => {
    const gate = new PageGate((_, page) => page > 1);
    const outcome = await stepWith(gate, async () => {
      await until(() => written.length > 0, 10_000, 'a twin written while pages are held');
      assert.deepEqual(gate.served, { devices: 1, modules: 1 });
    });
    assertEachWrittenOnce(outcome);
  });

  it('plans a device when the later of its record and its twin arrives, in whatever order the pages come', async () => {
    // Every twin page first, then the devices' pages one by one.
    const gate = new PageGate((query) => query === 'devices');
    const outcome = await stepWith(gate, async () => {
      await until(() => gate.held.devices === 1 && gate.served.modules === 3, 10_000, 'every twin page read');
      assert.equal(written.length, 0, 'no device is planned before its record is read');
      gate.release();
      await until(
        () => written.length > 0 && gate.held.devices === 2,
        10_000,
        "a twin written while the devices' second page is held",
      );
      const firstPage = await emulatorClient(emulator).readSnapshot([]);
      const served = new Set(
        firstPage.devices
          .map((d) => d.deviceId)
          .sort()
          .slice(0, 1000),
      );
      const early = written.slice();
      assert.ok(
        early.every((id) => served.has(id)),
        'only devices of the page served are written',
      );
    });
    assertEachWrittenOnce(outcome);
  });
});
