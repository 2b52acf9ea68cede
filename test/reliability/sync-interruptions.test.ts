// `sync` as a process, interrupted: SIGINT while it writes stops it cleanly (the writes in flight finish, the
// table or JSON is printed, exit 130), and a hub that goes away for a while during --wait is waited out within
// --timeout instead of ending the run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { startHubEmulator } from '../support/emulator-support.js';
import { connectionsFromOtherProcesses } from '../support/hub-connections.js';
import { pace } from '../support/pace.js';
import { writeTempFiles } from '../support/resources.js';
import { until } from '../support/until.js';
import { baselineYaml, startSync } from './rollout-harness.js';

/** S1 x1, as the emulated hubs below: 50 twin updates/s. */
const S1 = { tier: 'S1', units: 1 };

describe('sync interrupted', () => {
  let emulator: RunningEmulator;
  before(async () => {
    // S1's quota, 50 twin updates/s: 300 devices take six seconds to write.
    emulator = await startHubEmulator({
      tier: 'S1',
      devices: 300,
      throttle: true,
      agentDelay: { min: 5, max: 30 },
    });
    await emulator.agentsIdle();
  });
  after(() => emulator.close());

  it('stops on SIGINT while writing: writes in flight finish, the status is printed, exit 130', async () => {
    emulator.hub.stats.reset();
    const run = startSync(emulator, writeTempFiles({ 'b.yaml': baselineYaml('PT7H') }), ['--wait'], S1);
    await until(() => emulator.hub.stats.count('twinUpdate', 200) >= 30, 20_000, 'writes under way');
    run.child.kill('SIGINT');
    const result = await run.done;
    assert.equal(result.code, 130, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.ending, 'stopped');
    const written = emulator.hub.stats.count('twinUpdate', 200);
    assert.ok(written < 300, `stopped part way: ${written} of 300 written`);
    assert.equal(report.writes.succeeded, written, 'every write the hub applied is accounted for');
    // Every request it sent has been answered once the hub holds none of its connections.
    await until(
      () => connectionsFromOtherProcesses(emulator.port) === 0,
      10_000,
      'the hub to answer what the stopped run had sent',
      5,
    );
    assert.equal(emulator.hub.stats.count('twinUpdate', 200), written, 'nothing written after the exit');
  });

  it('waits out a hub that refuses every twin write with 503 for twelve seconds: the devices are retried, not failed', async () => {
    // Longer than the client's own retries (six attempts, about six seconds of backoff): every write of the first
    // step fails. Before, the run ended there, all devices failed (exit 1); the hub's errors pass, so it retries.
    const small = await startHubEmulator({ tier: 'S1', devices: 20, agentDelay: { min: 5, max: 30 } });
    try {
      await small.agentsIdle();
      small.hub.faults.set({ twinUpdate: { errorRatio: 1, errorStatuses: [503] } });
      const run = startSync(
        small,
        writeTempFiles({ 'b.yaml': baselineYaml('PT6H') }),
        ['--wait', '--timeout', '2m'],
        S1,
      );
      await pace(12_000);
      assert.equal(small.hub.stats.count('twinUpdate', 200), 0, 'no write got through the outage');
      small.hub.faults.set({});
      const result = await run.done;
      assert.equal(result.code, 0, result.stderr.slice(-2000));
      assert.match(result.stderr, /20 failed \(20 retrying\)/);
      const report = JSON.parse(result.stdout);
      assert.equal(report.ready, true);
      assert.ok(report.writes.failed >= 20, `the refused writes are counted: ${report.writes.failed}`);
      assert.equal(small.hub.stats.count('twinUpdate', 200), 20, 'each device written once it could be');
    } finally {
      await small.close();
    }
  });
});
