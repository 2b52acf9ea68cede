// `sync --wait` killed with SIGKILL at random points of a batched rollout, ten times in a row, then run to the end:
// the twins end as an uninterrupted run leaves them, and the hub applied exactly one write per device that needed
// one across all the runs. A killed run's writes in flight still reach the hub; the next run reads them and, its
// PATCHes being etag-guarded, can never apply a second one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { mulberry32 } from '../../src/emulator/prng.js';
import { startHubEmulator } from '../support/emulator-support.js';
import { connectionsFromOtherProcesses } from '../support/hub-connections.js';
import { pace } from '../support/pace.js';
import { writeTempFiles } from '../support/resources.js';
import { until } from '../support/until.js';
import {
  baselineYaml,
  DeviceFigures,
  deviceIds,
  foreignLost,
  moduleTwin,
  notConverged,
  SOAK,
  seedForeignProperties,
  startSync,
} from './rollout-harness.js';

const DEVICES = SOAK ? 2000 : 400;
const KILLS = SOAK ? 30 : 10;
const SEED = Number(process.env.CRASH_SEED ?? 12);
const VALUE = 'PT11H';
const WAIT = ['--wait', '--timeout', SOAK ? '5m' : '40s', '--poll', '500ms'];
/**
 * The client's pace, 50 twin writes/s (S2 x10), so that the kills fall inside the rollout: at 500/s a loaded machine
 * let the first runs write all 400 devices before their kill.
 */
const QUOTA = { tier: 'S2', units: 10 };

/** A twin without what differs between two hubs by construction: versions, metadata and timestamps. */
function comparable(emulator: RunningEmulator, deviceId: string): unknown {
  const twin = moduleTwin(emulator, deviceId);
  const strip = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value)
            .filter(([key]) => !key.startsWith('$'))
            .map(([key, inner]) => [key, strip(inner)]),
        )
      : value;
  return strip({ tags: twin.tags, desired: twin.properties.desired, reported: twin.properties.reported });
}

const startFleet = async () => {
  const emulator = await startHubEmulator({ devices: DEVICES, agentDelay: { min: 5, max: 30 } });
  const owners = await seedForeignProperties(emulator);
  emulator.hub.stats.reset();
  return { emulator, owners };
};

describe('sync killed mid-rollout', () => {
  it(`ends as an uninterrupted run after ${KILLS} SIGKILLs and a last run, with one write per device in all`, async (t) => {
    const dir = writeTempFiles({ 'b.yaml': baselineYaml(VALUE, '25%') });
    const reference = await startFleet();
    const crashed = await startFleet();
    try {
      const uninterrupted = await startSync(reference.emulator, dir, WAIT, QUOTA).done;
      assert.equal(uninterrupted.code, 0, uninterrupted.stderr.slice(-2000));

      const random = mulberry32(SEED);
      const applied = () => crashed.emulator.hub.stats.count('twinUpdate', 200);
      const kills = { beforeItsFirstWrite: 0, afterWrites: 0, afterRollout: 0, finishedFirst: 0 };
      let afterKill = 0;
      for (let i = 0; i < KILLS; i++) {
        const before = applied();
        const run = startSync(crashed.emulator, dir, WAIT, QUOTA);
        let exited = false;
        void run.done.then(() => (exited = true));
        // A point in time (startup, reading, writing or waiting for agents), or a number of writes into the run.
        const remaining = DEVICES - before;
        const trigger =
          random() < 0.5 || remaining === 0
            ? pace(150 + random() * 1500)
            : until(
                () =>
                  exited ||
                  applied() >= before + 1 + Math.floor(random() * Math.min(remaining / 4, DEVICES / KILLS)),
                30_000,
                'writes',
                5,
              );
        await Promise.race([trigger, run.done]);
        const atKill = applied();
        const rolloutDone = notConverged(crashed.emulator, deviceIds(DEVICES), VALUE).length === 0;
        run.child.kill('SIGKILL');
        const result = await run.done;
        if (result.signal !== 'SIGKILL') kills.finishedFirst++;
        else if (rolloutDone) kills.afterRollout++;
        else if (atKill === before) kills.beforeItsFirstWrite++;
        else kills.afterWrites++;
        // Requests the killed process had sent still reach the hub: wait until it has answered them.
        await until(
          () => connectionsFromOtherProcesses(crashed.emulator.port) === 0,
          10_000,
          'the hub to answer what the killed run had sent',
          5,
        );
        afterKill += applied() - atKill;
      }
      const last = await startSync(crashed.emulator, dir, WAIT, QUOTA).done;
      assert.equal(last.code, 0, last.stderr.slice(-2000));
      await Promise.all([reference.emulator.agentsIdle(), crashed.emulator.agentsIdle()]);

      const devices = deviceIds(DEVICES);
      const differing = devices.filter(
        (d) =>
          JSON.stringify(comparable(crashed.emulator, d)) !==
          JSON.stringify(comparable(reference.emulator, d)),
      );
      const writes = new DeviceFigures(devices).add(crashed.emulator.hub.stats).applied;
      const referenceWrites = new DeviceFigures(devices).add(reference.emulator.hub.stats).applied;
      t.diagnostic(
        `${KILLS} SIGKILLs (seed ${SEED}: ${kills.beforeItsFirstWrite} before the run's first write, ${kills.afterWrites} after some, ` +
          `${kills.afterRollout} after every agent had answered, ${kills.finishedFirst} finished first) and a last run: ` +
          `${devices.length - differing.length}/${devices.length} twins as the uninterrupted run left them, ` +
          `${DeviceFigures.total(writes)} twin writes in all (uninterrupted: ${DeviceFigures.total(referenceWrites)}; ` +
          `${afterKill} reached the hub after their process was killed), ` +
          `${foreignLost(crashed.emulator, crashed.owners)} of ${crashed.owners.length * 2} foreign properties lost`,
      );
      assert.deepEqual(
        differing.slice(0, 5),
        [],
        `${differing.length} twins differ from the uninterrupted run's`,
      );
      assert.equal(foreignLost(crashed.emulator, crashed.owners), 0);
      assert.deepEqual(DeviceFigures.off(referenceWrites, () => 1).slice(0, 5), []);
      assert.deepEqual(
        DeviceFigures.off(writes, () => 1).slice(0, 5),
        [],
        'one write per device across all runs',
      );
      assert.ok(
        kills.beforeItsFirstWrite + kills.afterWrites >= KILLS / 2,
        'most kills landed before the rollout was done',
      );
    } finally {
      await Promise.all([reference.emulator.close(), crashed.emulator.close()]);
    }
  });
});
