// The hub client against the emulator, through the real azure-iothub SDK over HTTPS: paged snapshots, etag
// conflicts, module creation and retries under injected faults.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { type HubError, isHubError } from '../../src/hub/errors.js';
import type { HubClient } from '../../src/hub/hub-client.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/settings.js';
import type { HubSnapshot } from '../../src/twins/types.js';
import {
  emulatorClient,
  emulatorCount,
  scriptFaults,
  startHubEmulator,
} from '../support/emulator-support.js';
import { agentDesired } from '../support/planner-fixtures.js';

const SEEDED = 4997;
const BARE = ['bare-1', 'bare-2', 'bare-3'];

function configurationPatch(snapshotFrequency: string) {
  return {
    properties: {
      desired: { [AGENT_CONFIGURATION_KEY]: { snapshotFrequency: { value: snapshotFrequency } } },
    },
  };
}

function snapshotFrequencyOf(configuration: unknown): unknown {
  return (configuration as Record<string, { value?: unknown }> | undefined)?.snapshotFrequency?.value;
}

/** Devices of the snapshot without the security module. */
function withoutModule(snapshot: HubSnapshot): string[] {
  const modules = snapshot.twins.get(SECURITY_MODULE_ID)!;
  return snapshot.devices.filter((d) => !modules.has(d.deviceId)).map((d) => d.deviceId);
}

describe('HubClient against the emulator', () => {
  let emulator: RunningEmulator;
  let client: HubClient;

  before(async () => {
    emulator = await startHubEmulator({ devices: SEEDED });
    emulator.addDevices(BARE.map((deviceId) => ({ deviceId, securityModule: false })));
    client = emulatorClient(emulator);
  });

  after(async () => {
    client?.close();
    await emulator?.close();
  });

  beforeEach(() => {
    emulator.hub.faults.set({});
    emulator.hub.stats.reset();
  });

  it('reads a snapshot of 5,000 devices in five query calls per collection', async () => {
    const snapshot = await client.readSnapshot([SECURITY_MODULE_ID]);
    assert.equal(snapshot.devices.length, 5000);
    assert.equal(snapshot.twins.get(SECURITY_MODULE_ID)!.size, SEEDED);
    assert.deepEqual(withoutModule(snapshot).sort(), BARE);
    assert.deepEqual(snapshot.queryCalls, { devices: 5, modules: 5 });
    assert.equal(emulatorCount(emulator, 'query', 200), 10, 'the emulator served ten query pages');
    assert.equal(emulatorCount(emulator, 'twinRead'), 0, 'no GET per device');
    const twin = snapshot.twins.get(SECURITY_MODULE_ID)!.get('device-000001')!;
    assert.match(twin.etag, /\S/);
    assert.ok(twin.desiredVersion >= 1);
    assert.ok(
      snapshot.devices.every((d) => typeof d.connectionState === 'string' && typeof d.status === 'string'),
    );
  });

  it('takes twins a new snapshot shows unchanged from the previous one, and reads changed ones anew', async () => {
    const first = await client.readSnapshot([SECURITY_MODULE_ID]);
    const modules = first.twins.get(SECURITY_MODULE_ID)!;
    const changed = 'device-000020';
    await client.patchTwin(
      { slot: SECURITY_MODULE_ID, deviceId: changed },
      configurationPatch('PT7H'),
      modules.get(changed)!.etag,
    );
    const second = await client.readSnapshot([SECURITY_MODULE_ID], { previous: first });
    const again = second.twins.get(SECURITY_MODULE_ID)!;
    assert.equal(
      again.get('device-000021'),
      modules.get('device-000021'),
      'an unchanged twin is the same object',
    );
    assert.notEqual(again.get(changed), modules.get(changed));
    assert.equal(snapshotFrequencyOf(again.get(changed)!.desired[AGENT_CONFIGURATION_KEY]), 'PT7H');
  });

  it('reports a PATCH with a stale etag as PreconditionFailed and overwrites nothing', async () => {
    const deviceId = 'device-000010';
    const before = (await client.readTwins(SECURITY_MODULE_ID, [deviceId])).get(deviceId)!;
    const written = await client.patchTwin(
      { slot: SECURITY_MODULE_ID, deviceId: deviceId },
      configurationPatch('PT2H'),
      before.etag,
    );
    assert.notEqual(written.etag, before.etag);
    assert.ok(written.desiredVersion > before.desiredVersion);

    const stale = await client
      .patchTwin({ slot: SECURITY_MODULE_ID, deviceId: deviceId }, configurationPatch('PT9H'), before.etag)
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.ok(isHubError(stale, 'PreconditionFailed'), String(stale));
    assert.equal(stale.statusCode, 412);
    assert.equal(stale.hubErrorCode, 412001);
    assert.match(stale.message, /device-000010 on hub localhost:\d+/);

    const after = (await client.readTwins(SECURITY_MODULE_ID, [deviceId])).get(deviceId)!;
    assert.equal(snapshotFrequencyOf(agentDesired(after)), 'PT2H');
    assert.equal(after.desiredVersion, written.desiredVersion, 'desired was not written again');
    assert.equal(emulatorCount(emulator, 'twinUpdate'), 2, 'the conflict was not retried');
  });

  it('re-reads module twins by GET and leaves out devices without the module', async () => {
    const twins = await client.readTwins(SECURITY_MODULE_ID, [
      'device-000002',
      'device-000003',
      'bare-1',
      'no-such-device',
    ]);
    assert.deepEqual([...twins.keys()].sort(), ['device-000002', 'device-000003']);
    assert.equal(emulatorCount(emulator, 'twinRead'), 4);
    assert.equal(emulatorCount(emulator, 'query'), 0);
  });

  it('creates a missing security module, and leaves an existing one as it is', async () => {
    assert.equal(await client.ensureModule({ slot: SECURITY_MODULE_ID, deviceId: 'bare-2' }), 'created');
    // The new module's simulated agent reports its configuration, which changes the etag: let it finish.
    await emulator.agentsIdle();
    const created = (await client.readTwins(SECURITY_MODULE_ID, ['bare-2'])).get('bare-2')!;
    const patched = await client.patchTwin(
      { slot: SECURITY_MODULE_ID, deviceId: 'bare-2' },
      configurationPatch('PT3H'),
      created.etag,
    );

    assert.equal(await client.ensureModule({ slot: SECURITY_MODULE_ID, deviceId: 'bare-2' }), 'existed');
    assert.equal(
      await client.ensureModule({ slot: SECURITY_MODULE_ID, deviceId: 'device-000004' }),
      'existed',
    );
    const after = (await client.readTwins(SECURITY_MODULE_ID, ['bare-2'])).get('bare-2')!;
    assert.equal(after.desiredVersion, patched.desiredVersion, 'the existing module twin was not replaced');
    assert.equal(snapshotFrequencyOf(agentDesired(after)), 'PT3H');
  });

  it('reports a device that does not exist as NotFound when creating its module', async () => {
    await assert.rejects(
      client.ensureModule({ slot: SECURITY_MODULE_ID, deviceId: 'no-such-device' }),
      (e) => isHubError(e, 'NotFound') && e.statusCode === 404,
    );
  });

  it('abandons an attempt the hub does not answer in time and retries it, so no call hangs', async () => {
    emulator.hub.faults.set({ twinRead: { latencyMs: 3000 } });
    const slow = emulatorClient(emulator, {
      attemptTimeoutMs: 200,
      retry: { baseMs: 10, maxMs: 20, maxAttempts: 2 },
    });
    const started = Date.now();
    try {
      await assert.rejects(
        slow.readTwins(SECURITY_MODULE_ID, ['device-000001'], { consistent: true }),
        (error: HubError) => {
          assert.equal(error.kind, 'Transient');
          assert.equal(error.networkCode, 'ETIMEDOUT');
          return true;
        },
      );
      assert.ok(Date.now() - started < 2000, `gave up after ${Date.now() - started} ms`);
      assert.equal(slow.telemetry.snapshot().twinRead.attempts, 2);
    } finally {
      slow.close();
      emulator.hub.faults.set({});
    }
  });

  it('survives injected 500s, 503s and connection resets with every result correct', async () => {
    emulator.hub.faults.set({
      twinUpdate: { errorRatio: 0.2, errorStatuses: [500, 503], resetRatio: 0.15 },
      twinRead: { errorRatio: 0.2, errorStatuses: [500, 503], resetRatio: 0.1 },
      query: { errorRatio: 0.3, errorStatuses: [500, 503], resetRatio: 0.1 },
      registry: { errorRatio: 0.2, resetRatio: 0.2 },
    });
    // The seeded rules above decide most requests, but which request draws which number depends on arrival
    // order, so the cases this test must prove are scripted: the first twin update and the module create are
    // applied and then reset (their retries meet 412 and 409), the first query and twin read fail with a 5xx.
    const unscript = scriptFaults(emulator, {
      twinUpdate: [{ kind: 'reset' }],
      registry: [{ kind: 'reset' }],
      query: [{ kind: 'error', status: 500 }],
      twinRead: [{ kind: 'error', status: 503 }],
    });
    // Retries take query tokens too: a quota of 600/min keeps the test from waiting on S1's 20/min.
    const faulty = emulatorClient(emulator, {
      rateLimits: { queriesPerMinute: 600 },
      retry: { baseMs: 10, maxMs: 200, maxAttempts: 12 },
    });
    try {
      const ids = Array.from({ length: 40 }, (_, i) => `device-${String(100 + i).padStart(6, '0')}`);
      const read = await faulty.readTwins(SECURITY_MODULE_ID, ids);
      assert.equal(read.size, 40);
      const written = await Promise.all(
        ids.map((id, i) =>
          faulty.patchTwin(
            { slot: SECURITY_MODULE_ID, deviceId: id },
            configurationPatch(`PT${i + 1}M`),
            read.get(id)!.etag,
          ),
        ),
      );
      assert.deepEqual(
        written.map((twin) => snapshotFrequencyOf(agentDesired(twin))),
        ids.map((_, i) => `PT${i + 1}M`),
      );
      assert.equal(await faulty.ensureModule({ slot: SECURITY_MODULE_ID, deviceId: 'bare-3' }), 'created');
      const snapshot = await faulty.readSnapshot([SECURITY_MODULE_ID]);
      assert.equal(snapshot.devices.length, 5000);

      unscript();
      emulator.hub.faults.set({});
      const fresh = await client.readTwins(SECURITY_MODULE_ID, ids);
      assert.deepEqual(
        ids.map((id) => snapshotFrequencyOf(agentDesired(fresh.get(id)))),
        ids.map((_, i) => `PT${i + 1}M`),
      );
      assert.ok(snapshot.twins.get(SECURITY_MODULE_ID)!.has('bare-3'));

      const telemetry = faulty.telemetry.snapshot();
      const faults = emulator.hub.stats.snapshot().faults;
      const injected = Object.values(faults).reduce(
        (sum, byKind) => sum + Object.values(byKind).reduce((a, b) => a + b, 0),
        0,
      );
      assert.ok(injected >= 10, `${injected} faults were injected`);
      assert.ok(
        telemetry.twinUpdate.retries > 0 && telemetry.query.retries > 0 && telemetry.twinRead.retries > 0,
      );
      assert.deepEqual(telemetry.twinUpdate.calls, { ok: 40 });
      assert.ok(
        emulatorCount(emulator, 'twinUpdate', 412) > 0,
        'some retries after a reset met 412 and were recognised as applied',
      );
      assert.ok(
        emulatorCount(emulator, 'registry', 409) > 0,
        'the create retried after a reset met 409 and was recognised as created',
      );
    } finally {
      unscript();
      faulty.close();
    }
  });
});
