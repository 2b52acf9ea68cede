// A rollout with `sync --wait` (a process, over the real azure-iothub SDK) against a hub that fails: 500s and 503s,
// connections dropped and reset, 429 storms, latency spikes, a restart mid-rollout, and a restart that lost the
// hub's last acknowledged writes. Whatever the fault, every device converges, no desired property someone else set
// is removed, each twin is written exactly as often as it needed (once; twice if the hub lost the first write),
// and the calls per device stay bounded.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { EmulatorOptions, RunningEmulator } from '../../src/emulator/index.js';
import { readState } from '../../src/emulator/state-file.js';
import type { EmulatorStats } from '../../src/emulator/stats.js';
import { startHubEmulator } from '../support/emulator-support.js';
import { pace } from '../support/pace.js';
import { writeTempFiles } from '../support/resources.js';
import { until } from '../support/until.js';
import {
  AGENT_KEY,
  baselineYaml,
  DeviceFigures,
  deviceIds,
  foreignLost,
  notConverged,
  queries,
  queriesCaughtUp,
  SOAK,
  type SyncProcess,
  seedForeignProperties,
  startSync,
} from './rollout-harness.js';

const DEVICES = SOAK ? 3000 : 200;
/** How long a storm, spike or outage lasts. */
const OUTAGE_MS = SOAK ? 12_000 : 2000;
const VALUE = 'PT9H';

/** A hub that can be restarted (or killed) on the same port and state file; its stats summed over its lives. */
class HubUnderTest {
  readonly lives: EmulatorStats[] = [];
  private constructor(
    public emulator: RunningEmulator,
    readonly statePath: string,
    private readonly options: EmulatorOptions,
  ) {
    this.lives.push(emulator.hub.stats);
  }

  static async start(options: EmulatorOptions = {}): Promise<HubUnderTest> {
    const statePath = join(mkdtempSync(join(tmpdir(), 'hub-faults-')), 'hub.state');
    // Saved only when asked (saveState) and on close: a kill loses everything since the last save.
    const settings = { statePath, stateSaveIntervalMs: 0, agentDelay: { min: 5, max: 30 }, ...options };
    return new HubUnderTest(await startHubEmulator({ devices: DEVICES, ...settings }), statePath, settings);
  }

  /** Writes the hub applied so far, over its lives. */
  applied(): number {
    return this.lives.reduce((sum, s) => sum + s.count('twinUpdate', 200), 0);
  }

  /** Stops (saving, or killed: losing what changed since the last save), stays down `downMs`, starts again. */
  async restart(downMs: number, options: { kill?: boolean; whileDown?: () => Promise<void> } = {}) {
    await (options.kill ? this.emulator.kill() : this.emulator.close());
    await options.whileDown?.();
    await pace(downMs);
    this.emulator = await startHubEmulator({ ...this.options, port: this.emulator.port });
    this.lives.push(this.emulator.hub.stats);
  }
}

interface Scenario {
  /** What the hub does while the rollout runs (after the foreign properties are set). */
  during?: (hub: HubUnderTest, sync: { exited: () => boolean }) => Promise<void>;
  faults?: EmulatorOptions['faults'];
  quotas?: EmulatorOptions['quotas'];
  /** Applied writes each device is expected to get (1 unless the hub lost one). */
  expectedWrites?: (deviceId: string) => number;
  /** Bounds on PATCH requests per device: mean and max. */
  patches: { mean: number; max: number };
  /** Queries show writes this much later (a real hub's lag: the engine must tell it from lost writes). */
  queryLagMs?: number;
  /** The quota the client is told (S3 x2, 500 twin writes/s, unless a fault must land mid-rollout). */
  client?: { tier: string; units: number };
}

/** 100 twin writes/s: 200 devices take two seconds, long enough for a fault to land mid-rollout. */
const SLOWER = { tier: 'S2', units: 20 };
const SLOWER_WRITES_PER_SECOND = 100;

async function rollout(t: TestContext, label: string, scenario: Scenario) {
  const started = Date.now();
  const hub = await HubUnderTest.start({ quotas: scenario.quotas, queryLagMs: scenario.queryLagMs });
  let run: SyncProcess | undefined;
  try {
    const devices = deviceIds(DEVICES);
    const owners = await seedForeignProperties(hub.emulator);
    // Queries show the fleet and the seeded properties once the lag has passed.
    if (scenario.queryLagMs)
      await until(
        () => queriesCaughtUp(hub.emulator),
        10_000 + scenario.queryLagMs,
        'queries to show the fleet',
      );
    hub.emulator.hub.stats.reset();
    if (scenario.faults) hub.emulator.hub.faults.set(scenario.faults);
    run = startSync(
      hub.emulator,
      writeTempFiles({ 'b.yaml': baselineYaml(VALUE) }),
      ['--wait', '--timeout', SOAK ? '5m' : '50s', '--poll', '500ms'],
      scenario.client,
    );
    await scenario.during?.(hub, { exited: () => run?.child.exitCode !== null });
    const result = await run.done;
    hub.emulator.hub.faults.set({});
    await hub.emulator.agentsIdle();

    const figures = new DeviceFigures(devices);
    for (const stats of hub.lives) figures.add(stats);
    const stale = notConverged(hub.emulator, devices, VALUE);
    const lost = foreignLost(hub.emulator, owners);
    const expected = scenario.expectedWrites ?? (() => 1);
    const faults = hub.lives.reduce(
      (sum, s) =>
        sum +
        Object.values(s.snapshot().faults).reduce(
          (n, byKind) => n + Object.values(byKind).reduce((a, b) => a + b, 0),
          0,
        ),
      0,
    );
    const throttled = hub.lives.reduce(
      (sum, s) => sum + Object.values(s.snapshot().throttled).reduce((a, b) => a + b, 0),
      0,
    );
    t.diagnostic(
      `${label}: ${devices.length - stale.length}/${devices.length} converged, ${figures.describe(figures.applied, 'twin writes applied')}, ` +
        `${figures.describe(figures.patches, 'twin PATCHes')}, ${figures.describe(figures.reads, 'twin GETs')}, ` +
        `${queries(...hub.lives)} queries, ${faults} injected faults, ${throttled} 429s in all, ` +
        `${lost} of ${owners.length * 2} foreign properties lost, exit ${result.code} after ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    assert.equal(result.code, 0, `sync --wait ended with ${result.code}: ${result.stderr.slice(-2000)}`);
    assert.equal(JSON.parse(result.stdout).ready, true);
    assert.deepEqual(stale.slice(0, 5), [], `${stale.length} devices did not converge`);
    assert.equal(lost, 0, 'no foreign desired property is removed or changed');
    const wrong = DeviceFigures.off(figures.applied, expected);
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} twins written more or less often than needed`);
    assert.ok(
      DeviceFigures.total(figures.patches) <= scenario.patches.mean * devices.length,
      `PATCHes per device at most ${scenario.patches.mean} on average`,
    );
    assert.ok(
      DeviceFigures.max(figures.patches) <= scenario.patches.max,
      `PATCHes per device at most ${scenario.patches.max}`,
    );
    // Re-reads of twins: the agents' answers are read by query when many are due; GETs stay few per device.
    assert.ok(
      DeviceFigures.total(figures.reads) <= 3 * devices.length,
      'at most 3 twin GETs per device on average',
    );
    assert.ok(DeviceFigures.max(figures.reads) <= 10, 'at most 10 twin GETs of any device');
    return { hub, figures };
  } finally {
    if (run?.child.exitCode === null) run.child.kill('SIGKILL');
    await hub.emulator.close();
    await rm(dirname(hub.statePath), { recursive: true, force: true });
  }
}

/** Resolves once the hub applied `count` writes (over its lives). */
function afterWrites(hub: HubUnderTest, count: number) {
  return until(() => hub.applied() >= count, 60_000, `${count} writes applied`, 5);
}

describe('sync --wait against a failing hub', { concurrency: false }, () => {
  it('converges when 20% of all calls fail with 500 or 503, each twin written once', async (t) => {
    await rollout(t, '20% 500/503', {
      faults: { all: { errorRatio: 0.2, errorStatuses: [500, 503] } },
      // Geometric: 1 / (1 - 0.2) = 1.25 attempts per write; six failures in a row (0.2^6) are a step's retry.
      patches: { mean: 1.5, max: 8 },
    });
  });

  it('converges when 10% of connections drop before the hub handles them and 10% reset after it applied them', async (t) => {
    // A reset write was applied: its retry meets 412 and the client sees its own change, rather than write twice.
    await rollout(t, '10% dropped + 10% reset', {
      faults: { all: { dropRatio: 0.1, resetRatio: 0.1 } },
      patches: { mean: 1.5, max: 8 },
    });
  });

  it('converges when queries lag 2 s and 10% of connections drop: a dropped connection is no lost write', async (t) => {
    // Each drop leaves the writes a query has yet to show unconfirmed; only the hub going away (attempts in a row
    // unanswered) makes them suspects worth a GET each.
    const { figures } = await rollout(t, 'query lag 2 s + 10% dropped', {
      queryLagMs: 2000,
      faults: { all: { dropRatio: 0.1 } },
      patches: { mean: 1.5, max: 8 },
    });
    assert.ok(
      DeviceFigures.total(figures.reads) <= DEVICES / 2,
      `twin GETs: ${DeviceFigures.total(figures.reads)} for ${DEVICES} devices`,
    );
  });

  it('rides out a 429 storm: a hub quota a fifth of what the client was told, then every other call throttled', async (t) => {
    await rollout(t, '429 storm', {
      // The client is told S3 x2 (500 writes/s); the hub allows 100/s and, for a while, throttles half of everything.
      quotas: { twinUpdate: { limit: 100, windowMs: 1000 } },
      during: async (hub) => {
        await afterWrites(hub, DEVICES / 4);
        hub.emulator.hub.faults.set({ all: { errorRatio: 0.5, errorStatuses: [429] } });
        await pace(OUTAGE_MS);
        hub.emulator.hub.faults.set({});
      },
      patches: { mean: 2, max: 12 },
    });
  });

  it('rides out latency spikes: every call delayed 0.3 to 1.5 s for a while', async (t) => {
    await rollout(t, 'latency spike', {
      client: SLOWER,
      during: async (hub) => {
        await afterWrites(hub, DEVICES / 4);
        hub.emulator.hub.faults.set({ all: { latencyMs: { min: 300, max: 1500 } } });
        assert.ok(hub.applied() < DEVICES, 'the spike began mid-rollout');
        await pace(OUTAGE_MS);
        hub.emulator.hub.faults.set({});
      },
      patches: { mean: 1.05, max: 2 },
    });
  });

  it('rides out the hub restarting mid-rollout (its state saved), each twin written once', async (t) => {
    await rollout(t, `hub restarted (down ${OUTAGE_MS / 1000} s)`, {
      client: SLOWER,
      during: async (hub) => {
        await afterWrites(hub, DEVICES / 3);
        await hub.restart(OUTAGE_MS, {
          whileDown: async () => assert.ok(hub.applied() < DEVICES, 'the hub went down mid-rollout'),
        });
      },
      patches: { mean: 1.5, max: 8 },
    });
  });

  it('re-writes exactly the twins whose writes the hub lost (killed within its save window, versions going back)', async (t) => {
    let lostWrites = new Set<string>();
    let killedMidRollout = false;
    let rewrittenInMs = Number.POSITIVE_INFINITY;
    let appliedAtKill = 0;
    await rollout(t, 'hub lost its last writes', {
      client: SLOWER,
      during: async (hub, sync) => {
        // Saved early; killed a quarter of the fleet's writes after the save ended, which the file cannot hold.
        await afterWrites(hub, DEVICES / 6);
        await hub.emulator.saveState();
        // The save takes a while under load: the writes after it are a quarter of the fleet, or half of what is left.
        const saved = hub.applied();
        await afterWrites(hub, saved + Math.ceil(Math.min(DEVICES / 4, (DEVICES - saved) / 2)));
        appliedAtKill = hub.applied();
        killedMidRollout = !sync.exited() && appliedAtKill < DEVICES;
        await hub.restart(500, {
          kill: true,
          whileDown: async () => {
            const applied = new DeviceFigures(deviceIds(DEVICES)).add(hub.lives[0]).applied;
            lostWrites = await writesMissingFrom(hub.statePath, applied);
          },
        });
        // Measured from the hub's return to the last lost write made again (a failure is asserted below).
        const back = Date.now();
        const rewritten = () =>
          [...lostWrites].every((d) => hub.emulator.hub.stats.twinUpdates(d, 'azureiotsecurity'));
        await until(rewritten, 120_000, 'the lost writes made again').catch(() => undefined);
        if (rewritten()) rewrittenInMs = Date.now() - back;
      },
      expectedWrites: (deviceId) => (lostWrites.has(deviceId) ? 2 : 1),
      patches: { mean: 1.8, max: 10 },
    });
    t.diagnostic(
      `${lostWrites.size} acknowledged writes lost by the hub, each made again once, the last ${(rewrittenInMs / 1000).toFixed(1)} s after the hub was back`,
    );
    assert.ok(killedMidRollout, 'the hub was killed mid-rollout');
    assert.ok(lostWrites.size >= DEVICES / 10, `the hub lost writes: ${lostWrites.size}`);
    // The step under way writes the rest of the fleet; the next one (its first read after the hub came back) finds
    // the lost writes and makes them again. So: the time all those writes take at the client's pace, plus 10 s; not
    // the minute after which any lagging twin is read again, nor never (a fresh run).
    const needMs = ((DEVICES - appliedAtKill + lostWrites.size) / SLOWER_WRITES_PER_SECOND) * 1000;
    assert.ok(
      rewrittenInMs < needMs + 10_000,
      `the lost writes were made again ${rewrittenInMs} ms after the hub was back (their writes and the rest need ${Math.round(needMs)} ms)`,
    );
  });
});

/** Devices the hub applied a write to that its state file does not hold: lost when it restarts from the file. */
async function writesMissingFrom(statePath: string, applied: Map<string, number>): Promise<Set<string>> {
  const saved = new Set<string>();
  const state = await readState(statePath);
  for await (const device of state!.devices) {
    const module = device.modules.find((m) => m.moduleId === 'azureiotsecurity');
    const desired = module?.state.desired.value[AGENT_KEY] as Record<string, { value?: unknown }> | undefined;
    if (desired?.snapshotFrequency?.value === VALUE) saved.add(device.deviceId);
  }
  return new Set([...applied].filter(([d, n]) => n > 0 && !saved.has(d)).map(([d]) => d));
}
