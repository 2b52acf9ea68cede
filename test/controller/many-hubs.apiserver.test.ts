// Many hubs at once, on the real API server: twenty emulated hubs, each with a twin update quota of its own, rolled out
// by one controller at its default --max-concurrent-hubs. Hubs are separate quota domains, so each goes at its own
// pace: the writes to all of them overlap (every hub has its first twin written before any hub has its last), where
// a worker count shared by the hubs would roll them out in waves, one wave's writes after the other's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EmulatorOptions, RunningEmulator } from '../../src/emulator/index.js';
import { startHubEmulator } from '../support/emulator-support.js';
import {
  condition,
  fleet,
  hubResources,
  type OperatorFixture,
  startOperatorFixture,
} from '../support/operator-fixture.js';
import { securityModuleConfig } from '../support/resources.js';
import { until } from '../support/until.js';

const HUBS = 20;
const NAMESPACES = 2;
const DEVICES = 40;
/** Each hub's twin update quota, as the emulator enforces it and the IoTHub tells the controller. */
const UPDATES_PER_S = 8;

const hubEmulator: EmulatorOptions = {
  tier: 'S3',
  units: 1,
  quotas: { twinUpdate: { limit: UPDATES_PER_S, windowMs: 1000 } },
};

describe('many hubs at once', () => {
  let f: OperatorFixture;
  const emulators: RunningEmulator[] = [];
  const hubs: { name: string; namespace: string; emulator: RunningEmulator }[] = [];

  before(async () => {
    f = await startOperatorFixture({
      prefix: 'many-hubs',
      namespaceCount: NAMESPACES,
      devices: fleet('d', DEVICES, { environment: 'production' }),
      emulator: hubEmulator,
      // The controller as `run` makes it by default: no cap on the hubs reconciled at once.
      start: false,
    });
    emulators.push(f.emulator);
    while (emulators.length < HUBS) {
      const emulator = await startHubEmulator(hubEmulator);
      emulator.addDevices(fleet('d', DEVICES, { environment: 'production' }));
      emulators.push(emulator);
    }
    for (const [i, emulator] of emulators.entries()) {
      const namespace = f.namespaces[i % NAMESPACES];
      const name = `hub-${String(i).padStart(2, '0')}`;
      hubs.push({ name, namespace, emulator });
      await f.apply(
        [
          ...hubResources(emulator, {
            name,
            namespace,
            spec: { tier: 'S3', units: 1, rateLimits: { twinUpdatesPerSecond: UPDATES_PER_S } },
          }),
          securityModuleConfig(
            `baseline-${name}`,
            {
              hubRef: { name },
              target: { condition: "tags.environment = 'production'" },
              agentConfiguration: { snapshotFrequency: 'PT8H' },
            },
            { namespace },
          ),
        ],
        namespace,
      );
    }
    for (const emulator of emulators) emulator.hub.stats.reset();
  });
  after(async () => {
    await f.close();
    for (const emulator of emulators.slice(1)) await emulator.close();
  });

  it('rolls out every hub at its own quota, their writes overlapping, not in waves', async () => {
    // A cold operator finds the twenty hubs and their resources at once.
    await f.controller.startInformers();
    f.controller.startWorkers();
    await until(
      async () => {
        for (const namespace of f.namespaces) {
          const listed = await f.kubectl(['get', 'smc', '-n', namespace, '-o', 'json']);
          if (listed.code !== 0) return false;
          const items = JSON.parse(listed.stdout).items;
          if (items.length !== HUBS / NAMESPACES) return false;
          if (!items.every((o: any) => condition(o, 'Ready').status === 'True')) return false;
        }
        return true;
      },
      120_000,
      'every SecurityModuleConfig Ready',
      250,
    );
    const spans = hubs.map(({ name, emulator }) => {
      const span = emulator.hub.stats.twinUpdateSpan();
      assert.ok(span, `${name} received twin writes`);
      assert.equal(emulator.hub.stats.count('twinUpdate', 200), DEVICES, `${name}: each twin written once`);
      return { name, ...span };
    });
    const lastToStart = spans.reduce((a, b) => (b.firstAt > a.firstAt ? b : a));
    const firstToFinish = spans.reduce((a, b) => (b.lastAt < a.lastAt ? b : a));
    assert.ok(
      lastToStart.firstAt < firstToFinish.lastAt,
      `${lastToStart.name} received its first twin write ${lastToStart.firstAt - firstToFinish.lastAt} ms after ` +
        `${firstToFinish.name} received its last: the hubs were rolled out in waves`,
    );
  });
});
