// Pacing against the emulator's quotas in real time: a burst at the hub's rate, a client that overestimates
// the quota and adapts, and cancellation of a burst in progress. Bounds are generous; counts are exact.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { isHubError } from '../../src/hub/errors.js';
import type { HubClient } from '../../src/hub/hub-client.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import type { ManagedTwin } from '../../src/twins/types.js';
import { emulatorClient, emulatorCount, startHubEmulator } from '../support/emulator-support.js';
import { until } from '../support/until.js';

const DEVICES = 200;
const ids = Array.from({ length: DEVICES }, (_, i) => `device-${String(i + 1).padStart(6, '0')}`);

function tagPatch(round: number) {
  return { tags: { burst: { round } } };
}

describe('HubClient pacing against an emulator quota of 20 twin updates/s', () => {
  let emulator: RunningEmulator;
  let reader: HubClient;

  before(async () => {
    // Quotas are off but for this one, which the tier table has no row for.
    emulator = await startHubEmulator({
      devices: DEVICES,
      quotas: { twinUpdate: { limit: 20, windowMs: 1000 } },
    });
    reader = emulatorClient(emulator, { rateLimits: { queriesPerMinute: 1000 } });
  });

  after(async () => {
    reader?.close();
    await emulator?.close();
  });

  beforeEach(async () => {
    // A fresh second of quota for each test: the emulator's bucket holds at most one second's worth.
    const { throttle } = emulator.hub;
    const full = throttle.quotas.twinUpdate.limit;
    await until(
      () => throttle.msUntilAvailable('twinUpdate', full) === 0,
      5000,
      'a full bucket of twin updates',
    );
    emulator.hub.stats.reset();
  });

  async function currentTwins(): Promise<ReadonlyMap<string, ManagedTwin>> {
    const snapshot = await reader.readSnapshot([SECURITY_MODULE_ID]);
    return snapshot.twins.get(SECURITY_MODULE_ID)!;
  }

  it('sends a burst of 200 patches in about 10 s with no more than a handful of 429s', async () => {
    const twins = await currentTwins();
    const client = emulatorClient(emulator, { rateLimits: { twinUpdatesPerSecond: 20 } });
    try {
      const started = Date.now();
      const results = await Promise.all(
        ids.map((id) =>
          client.patchTwin({ slot: SECURITY_MODULE_ID, deviceId: id }, tagPatch(1), twins.get(id)!.etag),
        ),
      );
      const seconds = (Date.now() - started) / 1000;
      const throttled = emulatorCount(emulator, 'twinUpdate', 429);
      console.log(`burst of ${DEVICES} patches at 20/s: ${seconds.toFixed(1)} s, ${throttled} 429s`);
      assert.equal(results.length, DEVICES);
      assert.ok(results.every((twin) => (twin.tags.burst as { round: number }).round === 1));
      assert.ok(seconds >= 7 && seconds <= 20, `took ${seconds} s`);
      assert.ok(throttled <= 5, `${throttled} answers were 429`);
      assert.equal(emulatorCount(emulator, 'twinUpdate', 200), DEVICES);
    } finally {
      client.close();
    }
  });

  it('adapts when it believes the quota is 50/s: every patch lands and 429s stay few', async () => {
    const twins = await currentTwins();
    const client = emulatorClient(emulator);
    try {
      const started = Date.now();
      const results = await Promise.all(
        ids.map((id) =>
          client.patchTwin({ slot: SECURITY_MODULE_ID, deviceId: id }, tagPatch(2), twins.get(id)!.etag),
        ),
      );
      const seconds = (Date.now() - started) / 1000;
      const throttled = emulatorCount(emulator, 'twinUpdate', 429);
      const rate = client.rateLimiter.snapshot().twinUpdate.currentPerSecond;
      console.log(
        `burst of ${DEVICES} patches, client at 50/s, hub at 20/s: ${seconds.toFixed(1)} s, ${throttled} 429s, rate now ${rate}/s`,
      );
      assert.equal(results.length, DEVICES);
      assert.ok(seconds >= 5 && seconds <= 30, `took ${seconds} s`);
      assert.ok(throttled <= 40, `${throttled} answers were 429`);
      assert.ok(rate < 47.5, 'the client slowed down');
      assert.equal(client.telemetry.snapshot().twinUpdate.throttled, throttled);
    } finally {
      client.close();
    }
  });

  it('stops a burst promptly when cancelled: waiting calls reject at once and no more patches go out', async () => {
    const twins = await currentTwins();
    const client = emulatorClient(emulator, { rateLimits: { twinUpdatesPerSecond: 20 } });
    try {
      const controller = new AbortController();
      const calls = ids.map((id) =>
        client
          .patchTwin({ slot: SECURITY_MODULE_ID, deviceId: id }, tagPatch(3), twins.get(id)!.etag, {
            abort: controller.signal,
          })
          .then(
            () => 'ok' as const,
            (error: unknown) => (isHubError(error, 'Cancelled') ? ('cancelled' as const) : error),
          ),
      );
      // Aborted once a second's worth of patches has gone out.
      await until(() => client.telemetry.snapshot().twinUpdate.attempts >= 20, 5000, 'twenty patches sent');
      const abortedAt = Date.now();
      controller.abort();
      // What the client had sent when it aborted. A request already on the wire cannot be called back (its
      // call is cancelled all the same), so the hub may count it a little later, the more so under load.
      const sentAtAbort = client.telemetry.snapshot().twinUpdate.attempts;
      const outcomes = await Promise.all(calls);
      const settleMs = Date.now() - abortedAt;
      await until(
        () => emulatorCount(emulator, 'twinUpdate') >= sentAtAbort,
        5000,
        'the hub counting what was sent',
        20,
      );
      const ok = outcomes.filter((o) => o === 'ok').length;
      const cancelled = outcomes.filter((o) => o === 'cancelled').length;
      console.log(
        `cancelled after ${sentAtAbort} patches sent: ${ok} done, ${cancelled} cancelled, all settled ${settleMs} ms after abort`,
      );
      assert.equal(ok + cancelled, DEVICES, 'every call either finished or was cancelled');
      assert.ok(settleMs < 250, `settled ${settleMs} ms after the abort`);
      assert.ok(ok >= 10 && ok <= 40, `${ok} patches went out before the abort`);
      assert.equal(
        client.telemetry.snapshot().twinUpdate.attempts,
        sentAtAbort,
        'no attempt after the abort',
      );
      assert.equal(
        emulatorCount(emulator, 'twinUpdate'),
        sentAtAbort,
        'the hub saw what was sent before the abort, and nothing after',
      );
      assert.equal(client.rateLimiter.snapshot().twinUpdate.waiting, 0);
    } finally {
      client.close();
    }
  });
});
