// Another writer patches the same module twins while `sync` rolls out (a process, over the real SDK): its own keys
// survive every write of ours (our PATCHes are etag-guarded, so its changes make them 412 and get re-planned, never
// overwritten), and when it overwrites our keys, sync puts ours back at its next read of the twin.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { registryFromConnectionString } from '../../src/hub/sdk-transport.js';
import { startHubEmulator } from '../support/emulator-support.js';
import { pace } from '../support/pace.js';
import { writeTempFiles } from '../support/resources.js';
import { until } from '../support/until.js';
import {
  AGENT_KEY,
  baselineYaml,
  DeviceFigures,
  deviceIds,
  FOREIGN_SETTING,
  moduleTwin,
  notConverged,
  SOAK,
  startSync,
} from './rollout-harness.js';

const DEVICES = SOAK ? 3000 : 300;
const MODULE = 'azureiotsecurity';
const OURS = 'PT9H';
const THEIRS = 'PT2H';

/** Another team's writer: unconditional PATCHes (If-Match *) of its own keys, and of ours when told to. */
class OtherWriter {
  /** Its PATCHes the hub applied, by device, and how often they overwrote our setting. */
  readonly writes = new Map<string, number>();
  readonly overwrites = new Map<string, number>();
  /** What its keys hold after its last write of each twin, by the hub's order (the twin's version). */
  private readonly last = new Map<string, { version: number; revision: number }>();
  /** Twins it set its own agent setting on. */
  private readonly settingSet = new Set<string>();
  private revision = 0;
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  constructor(private readonly registry: Registry) {}

  /**
   * Keeps patching the twin `devices()` picks: its revision, and (unless `revisionOnly`) a setting of its own in the
   * agent's key, and ours too when `ours`.
   */
  start(devices: () => string, options: { ours?: boolean; revisionOnly?: boolean; pauseMs?: number } = {}) {
    this.loops.push(
      (async () => {
        while (!this.stopped) {
          const deviceId = devices();
          const revision = ++this.revision;
          const agentSettings: Record<string, unknown> = { [FOREIGN_SETTING]: { value: 'High' } };
          if (options.ours) agentSettings.snapshotFrequency = { value: THEIRS };
          const desired = options.revisionOnly
            ? { otherTeam: { revision } }
            : { otherTeam: { revision }, [AGENT_KEY]: agentSettings };
          const { responseBody } = await this.registry.updateModuleTwin(
            deviceId,
            MODULE,
            { properties: { desired } },
            '*',
          );
          const twin = responseBody as unknown as { version: number; properties: { desired: any } };
          const previous = this.last.get(deviceId);
          if (!previous || twin.version > previous.version) {
            this.last.set(deviceId, {
              version: twin.version,
              revision: twin.properties.desired.otherTeam.revision,
            });
          }
          if (!options.revisionOnly) this.settingSet.add(deviceId);
          this.writes.set(deviceId, (this.writes.get(deviceId) ?? 0) + 1);
          if (options.ours) this.overwrites.set(deviceId, (this.overwrites.get(deviceId) ?? 0) + 1);
          if (options.pauseMs) await pace(options.pauseMs);
        }
      })(),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** Twins where what it wrote last is not what they hold. */
  lostOn(emulator: RunningEmulator): string[] {
    return [...this.last]
      .filter(([deviceId, last]) => {
        const desired = moduleTwin(emulator, deviceId).properties.desired;
        return (
          desired.otherTeam?.revision !== last.revision ||
          (this.settingSet.has(deviceId) && desired[AGENT_KEY]?.[FOREIGN_SETTING]?.value !== 'High')
        );
      })
      .map(([deviceId]) => deviceId);
  }
}

/** Our applied writes per device: the hub's count less the other writer's. */
function ourWrites(
  emulator: RunningEmulator,
  devices: readonly string[],
  writer: OtherWriter,
): Map<string, number> {
  const figures = new DeviceFigures(devices).add(emulator.hub.stats);
  return new Map(devices.map((d) => [d, figures.applied.get(d)! - (writer.writes.get(d) ?? 0)]));
}

describe('another writer on the same twins during a rollout', { concurrency: false }, () => {
  let emulator: RunningEmulator;
  let registry: Registry;
  const devices = deviceIds(DEVICES);
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const anyDevice = () => devices[Math.floor(random() * devices.length)];

  before(async () => {
    emulator = await startHubEmulator({ devices: DEVICES, agentDelay: { min: 5, max: 30 } });
    registry = registryFromConnectionString(emulator.connectionString, { ca: emulator.caCert });
    await emulator.agentsIdle();
  });
  after(() => emulator.close());

  it('keeps its keys, lands ours with one write per twin, and re-plans the 412s (sync --wait)', async (t) => {
    emulator.hub.stats.reset();
    const writer = new OtherWriter(registry);
    const run = startSync(emulator, writeTempFiles({ 'b.yaml': baselineYaml(OURS) }), [
      '--wait',
      '--timeout',
      SOAK ? '5m' : '50s',
      '--poll',
      '500ms',
    ]);
    // Twins all over the fleet, and two hot ones patched back to back by two loops each (outside the agent's key
    // there, so that their agents can still be seen to converge): most of our writes to them meet a changed etag.
    for (let i = 0; i < 2; i++) writer.start(anyDevice, { pauseMs: 2 });
    const hot = devices.slice(-2);
    // Paused 10 ms between writes, so that a write of ours can land between two of theirs (retried if not).
    for (let i = 0; i < 4; i++) writer.start(() => hot[i % 2], { revisionOnly: true, pauseMs: 10 });
    const result = await run.done;
    await writer.stop();
    await emulator.agentsIdle();

    const report = JSON.parse(result.stdout);
    const failures = report.resources.flatMap((r: any) => r.status.failures ?? []);
    assert.equal(
      result.code,
      0,
      `sync --wait ended with ${result.code}: ${JSON.stringify(failures).slice(0, 1000)}`,
    );
    const ours = ourWrites(emulator, devices, writer);
    const conflicts = emulator.hub.stats.count('twinUpdate', 412);
    const lost = writer.lostOn(emulator);
    const stale = notConverged(emulator, devices, OURS);
    t.diagnostic(
      `own keys: ${DeviceFigures.total(writer.writes).toLocaleString('en-US')} writes by the other writer on ${writer.writes.size} twins, ` +
        `${conflicts} of our PATCHes answered 412 (${report.writes.replannedAfterConflict} re-planned), ` +
        `${DeviceFigures.total(ours)} writes of ours (max ${DeviceFigures.max(ours)} per twin), ` +
        `${devices.length - stale.length}/${devices.length} converged, ${lost.length} of its values lost`,
    );
    assert.ok(conflicts > 0, 'the other writer made some of our writes meet a changed etag');
    assert.deepEqual(lost, [], 'its keys and values survive');
    assert.deepEqual(stale.slice(0, 5), [], `${stale.length} devices without our setting`);
    const wrong = DeviceFigures.off(ours, () => 1);
    assert.deepEqual(wrong.slice(0, 5), [], 'each twin written once by us');
  });

  it('restores our keys that it overwrote, at the next resync (sync --watch), and keeps its own', async (t) => {
    emulator.hub.stats.reset();
    const writer = new OtherWriter(registry);
    const run = startSync(emulator, writeTempFiles({ 'b.yaml': baselineYaml('PT10H') }), [
      '--watch',
      '--wait',
      '--interval',
      '2s',
      '--poll',
      '500ms',
    ]);
    try {
      // Overwrite our setting on twins all over the fleet while we write them, and for a while after.
      for (let i = 0; i < 2; i++) writer.start(anyDevice, { ours: true, pauseMs: 5 });
      const oursSoFar = () => DeviceFigures.total(ourWrites(emulator, devices, writer));
      await until(() => oursSoFar() >= DEVICES, 30_000, 'every twin written by us once', 20);
      await pace(SOAK ? 15_000 : 2000);
      await writer.stop();
      await until(
        () => notConverged(emulator, devices, 'PT10H').length === 0,
        30_000,
        'our setting restored on every twin',
        100,
      );
    } finally {
      run.child.kill('SIGTERM');
    }
    const result = await run.done;
    const ours = ourWrites(emulator, devices, writer);
    const lost = writer.lostOn(emulator);
    t.diagnostic(
      `our keys too: ${DeviceFigures.total(writer.overwrites).toLocaleString('en-US')} overwrites of our setting on ${writer.overwrites.size} twins, ` +
        `${emulator.hub.stats.count('twinUpdate', 412)} of our PATCHes answered 412, ` +
        `${DeviceFigures.total(ours)} writes of ours (max ${DeviceFigures.max(ours)} per twin), all ${devices.length} restored, ${lost.length} of its values lost`,
    );
    assert.equal(result.code, 0, `sync --watch stopped with ${result.code}: ${result.stderr.slice(-2000)}`);
    assert.deepEqual(lost, [], 'its keys and values survive');
    // A twin is written again only after the other writer changed our setting on it.
    const excess = [...ours].filter(([d, n]) => n > 1 + (writer.overwrites.get(d) ?? 0));
    assert.deepEqual(excess.slice(0, 5), [], 'no twin written more than 1 + the overwrites it saw');
    assert.ok(DeviceFigures.total(ours) > DEVICES, 'twins it overwrote after our write were written again');
  });
});
