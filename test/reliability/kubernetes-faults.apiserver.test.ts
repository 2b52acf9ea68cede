// The operator (its own process) when Kubernetes misbehaves, on a control plane of this file's own so that it can
// be stopped: its connection to the API server goes through a proxy that drops every connection every few
// seconds; another writer updates the same objects' metadata and status all along (and meets 409 Conflicts);
// the API server is stopped mid-rollout and restarted on the same data and port, and while the operator is still
// cut off, resources are edited, deleted and created. Its watches resume from resourceVersions the restarted
// server no longer serves (410 Gone, for real) and relist. The operator must reconnect with backoff, converge,
// and leave every status right: observedGeneration current, conditions and counts as the hub shows them.
// Short: 200 devices, an 8 s outage. RELIABILITY_SOAK=1: 1,000 devices, a 30 s outage.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NewDevice, RunningEmulator } from '../../src/emulator/index.js';
import { mulberry32 } from '../../src/emulator/prng.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import {
  applyObjects,
  kubectl,
  kubectlOk,
  type RunningControlPlane,
  startControlPlane,
  testNamespace,
} from '../support/control-plane.js';
import { emulatorClient, startHubEmulator } from '../support/emulator-support.js';
import { customObjects, GROUP, httpStatusOf, installCrds, VERSION } from '../support/kube.js';
import { environmentFleet, hubResources } from '../support/operator-fixture.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { pace } from '../support/pace.js';
import { agentDesired } from '../support/planner-fixtures.js';
import { securityModuleConfig } from '../support/resources.js';
import { kubeconfigVia, TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

const SOAK = process.env.RELIABILITY_SOAK === '1';
const DEVICES = SOAK ? 1000 : 200;
const OUTAGE_MS = SOAK ? 30_000 : 8_000;
const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 1_000_000);
const MODULE = 'azureiotsecurity';

type Environment = 'production' | 'staging' | 'lab';
const FLEET = environmentFleet('k8s', DEVICES);
const devicesOf = (environment: Environment) => FLEET.filter((d) => d.tags?.environment === environment);
/** A second hub, edited by nobody during the outage, whose agents answer while the API server is away. */
const QUIET_FLEET: NewDevice[] = Array.from({ length: 30 }, (_, i) => ({
  deviceId: `quiet-${i}`,
  tags: { environment: 'production' },
  online: true,
}));
const CANARY = devicesOf('lab')
  .slice(0, 5)
  .map((d) => d.deviceId);

const ready = (o: any) => o?.status?.conditions?.find((c: any) => c.type === 'Ready');

interface LogLine {
  message: string;
  timestamp: string;
  [key: string]: unknown;
}

describe('the operator through Kubernetes faults', () => {
  let controlPlane: RunningControlPlane;
  let port: number;
  let dataDir: string;
  let namespace: string;
  let emulator: RunningEmulator;
  let quiet: RunningEmulator;
  let proxy: TcpProxy;
  let operator: OperatorProcess;
  let dropper: { stop(): void; drops: number };
  const random = mulberry32(SEED);

  const kubeconfig = () => controlPlane.info.kubeconfig;
  const apply = (objects: object[]) => applyObjects(kubeconfig(), objects);
  const list = async (kind: string): Promise<any[]> =>
    JSON.parse(await kubectlOk(kubeconfig(), ['get', kind, '-n', namespace, '-o', 'json'])).items;
  const logLines = (): LogLine[] =>
    operator
      .log()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  const logSince = (since: number, message: string | RegExp) =>
    logLines().filter(
      (l) =>
        Date.parse(l.timestamp) >= since &&
        (typeof message === 'string' ? l.message === message : message.test(l.message)),
    );

  const baseline = (snapshotFrequency: string) =>
    securityModuleConfig(
      'baseline',
      {
        target: { condition: "tags.environment = 'production'" },
        agentConfiguration: { snapshotFrequency, eventPriorities: { ProcessCreate: 'High' } },
        rollout: { batchSize: '25%' },
      },
      { namespace },
    );
  const staging = (lowPriorityMessageFrequency: string) =>
    securityModuleConfig(
      'staging',
      {
        target: { condition: "tags.environment = 'staging'" },
        agentConfiguration: { lowPriorityMessageFrequency },
        rollout: { batchSize: '50%' },
      },
      { namespace },
    );
  const canary = () =>
    securityModuleConfig(
      'canary',
      { target: { deviceIds: CANARY }, priority: 100, agentConfiguration: { snapshotFrequency: 'PT2H' } },
      { namespace },
    );
  const lab = () =>
    securityModuleConfig(
      'lab',
      {
        target: { condition: "tags.environment = 'lab'" },
        agentConfiguration: { snapshotFrequency: 'PT3H' },
      },
      { namespace },
    );

  /**
   * Every resource (name -> generation it must have observed, devices it targets) Ready and right: its counts are
   * those of its targeted devices (online ones converged, offline ones offline), no failure; every IoTHub Connected
   * with its devices counted. `firstRight` keeps when each object was first seen right since it was last reset.
   */
  const expected: Record<string, { generation: number; targeted: NewDevice[] }> = {};
  const hubs: Record<string, number> = { hub: DEVICES };
  const firstRight = new Map<string, number>();
  const wrong = async (): Promise<string[]> => {
    const problems: string[] = [];
    const configs = new Map((await list('smc')).map((c) => [c.metadata.name as string, c]));
    for (const [name, want] of Object.entries(expected)) {
      const c = configs.get(name);
      if (!c) {
        problems.push(`${name} missing`);
        continue;
      }
      const s = c.status ?? {};
      const offline = want.targeted.filter((d) => d.online === false).length;
      const checks: [string, unknown, unknown][] = [
        ['generation', c.metadata.generation, want.generation],
        ['observedGeneration', s.observedGeneration, want.generation],
        ['Ready', `${ready(c)?.status}/${ready(c)?.reason}`, 'True/Converged'],
        ['Ready.observedGeneration', ready(c)?.observedGeneration, want.generation],
        ['targetedDevices', s.targetedDevices, want.targeted.length],
        ['convergedDevices', s.convergedDevices, want.targeted.length - offline],
        ['offlineDevices', s.offlineDevices, offline],
        ['failed+stalled+pending', s.failedDevices + s.stalledDevices + s.pendingDevices, 0],
        ['failures', (s.failures ?? []).length, 0],
      ];
      const before = problems.length;
      for (const [what, got, wanted] of checks)
        if (got !== wanted)
          problems.push(`${name}.${what} ${JSON.stringify(got)} != ${JSON.stringify(wanted)}`);
      if (problems.length === before && !firstRight.has(name)) firstRight.set(name, Date.now());
    }
    for (const name of configs.keys()) if (!(name in expected)) problems.push(`${name} still there`);
    const hubObjects = new Map((await list('iothub')).map((h) => [h.metadata.name as string, h]));
    for (const [name, devices] of Object.entries(hubs)) {
      const hub = hubObjects.get(name);
      if (ready(hub)?.status !== 'True' || hub.status?.devices !== devices)
        problems.push(`IoTHub ${name}: ${JSON.stringify(hub?.status)}`);
    }
    return problems;
  };
  const converged = async (timeoutMs: number) => {
    let problems: string[] = [];
    await until(
      async () => {
        problems = await wrong();
        return problems.length === 0;
      },
      timeoutMs,
      'every resource Ready with the right status',
      200,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}: ${problems.join('; ')}`);
    });
  };
  const desired = async () => {
    const client = emulatorClient(emulator, { tier: 'S3', units: 10 });
    try {
      const snapshot = await client.readSnapshot([SECURITY_MODULE_ID]);
      return new Map(
        [...snapshot.twins.get(SECURITY_MODULE_ID)!].map(([id, twin]) => [
          id,
          Object.fromEntries(
            Object.entries(agentDesired(twin) as Record<string, { value: unknown }>).map(([k, v]) => [
              k,
              v?.value,
            ]),
          ),
        ]),
      );
    } finally {
      client.close();
    }
  };
  const writesPerTwin = () =>
    Object.entries(emulator.hub.stats.snapshot().twinUpdates).filter(([twin]) => twin.endsWith(`/${MODULE}`));

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'k8s-faults-'));
    controlPlane = await startControlPlane({ dataDir });
    port = Number(new URL(controlPlane.info.server).port);
    await installCrds(controlPlane.info);
    namespace = await testNamespace(controlPlane.info, 'k8s-faults');
    emulator = await startHubEmulator({ tier: 'S3', agentDelay: { min: 200, max: 800 } });
    emulator.addDevices(FLEET);
    await emulator.agentsIdle();
    quiet = await startHubEmulator({ tier: 'S3', agentDelay: { min: 2000, max: OUTAGE_MS + 2000 } });
    quiet.addDevices(QUIET_FLEET);
    await quiet.agentsIdle();
    proxy = TcpProxy.forServer(controlPlane.info.server);
    const viaProxy = join(dataDir, 'kubeconfig-via-proxy');
    writeFileSync(viaProxy, kubeconfigVia(readFileSync(kubeconfig(), 'utf8'), await proxy.listen()), {
      mode: 0o600,
    });
    operator = startOperatorProcess(['--kubeconfig', viaProxy, '--namespace', namespace]);
    dropper = dropConnectionsEvery(proxy, 1500, 4000, random);
  });
  after(async () => {
    dropper?.stop();
    await operator?.kill();
    await proxy?.close();
    await emulator?.close();
    await quiet?.close();
    await controlPlane?.stop();
  });

  it('converges while its connections drop every few seconds and another writer updates the same objects', async (t) => {
    t.diagnostic(`seed ${SEED}, ${DEVICES} devices`);
    const started = Date.now();
    await apply([...hubResources(emulator, { namespace }), baseline('PT7H'), staging('PT45M'), canary()]);
    expected.baseline = { generation: 1, targeted: devicesOf('production') };
    expected.staging = { generation: 1, targeted: devicesOf('staging') };
    expected.canary = { generation: 1, targeted: FLEET.filter((d) => CANARY.includes(d.deviceId)) };

    // The other writer reads an object, waits a moment and writes it back with a label changed (metadata), or
    // with a status of its own (through /status); it is refused with 409 whenever anyone wrote in between.
    const other = otherWriter(kubeconfig(), namespace, random);
    await until(
      () => emulator.hub.stats.count('twinUpdate', 200) >= devicesOf('production').length / 2,
      60_000,
      'half the rollout',
    );
    // Drops come every 1.5 to 4 s: a fast rollout can be done before the second; the status must be right after
    // at least two, with the other writer still at work.
    await until(() => dropper.drops >= 2, 20_000, 'two connection drops');
    other.stop();
    await other.done;
    const refused = logSince(started, /^patch (securitymoduleconfigs|iothubs)\/status of .* failed \(409\)/);
    await converged(60_000);
    const tookMs = Date.now() - started;
    const failedWatches = logSince(started, 'watch failed; restarting after a backoff').length;
    t.diagnostic(
      `converged in ${(tookMs / 1000).toFixed(1)} s with ${dropper.drops} connection drops (${proxy.connections} connections opened, ` +
        `${failedWatches} watch failures logged); the other writer: ${other.stats.metadata} metadata and ${other.stats.status} status writes, ` +
        `${other.stats.conflicts} refused with 409 Conflict; the operator's status writes refused with 409: ${refused.length}`,
    );
    // Its status writes are JSON patches of the status subresource without a resourceVersion: the server applies
    // them to the object as it is, whoever wrote it last; a conflict would cost a reconcile and a backoff.
    assert.equal(refused.length, 0);
    assert.ok(other.stats.conflicts > 0, 'the other writer met conflicts: the writes contended');
    assert.ok(other.stats.status > 0, 'the other writer overwrote status');
    assert.ok(dropper.drops >= 2, 'connections were dropped');
    const twice = writesPerTwin().filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no twin written twice');
    assert.equal(
      writesPerTwin().length,
      devicesOf('production').length + devicesOf('staging').length + CANARY.length,
      'every targeted twin written',
    );
  });

  it(`reconnects after the API server is stopped for ${OUTAGE_MS / 1000} s mid-rollout, and picks up what changed meanwhile`, async (t) => {
    emulator.hub.stats.reset();
    await apply([
      baseline('PT9H'),
      ...hubResources(quiet, { name: 'quiet', namespace }),
      securityModuleConfig(
        'quiet',
        {
          hubRef: { name: 'quiet' },
          target: { condition: "tags.environment = 'production'" },
          agentConfiguration: { snapshotFrequency: 'PT5H' },
        },
        { namespace },
      ),
    ]);
    expected.baseline.generation = 2;
    expected.quiet = { generation: 1, targeted: QUIET_FLEET };
    hubs.quiet = QUIET_FLEET.length;
    const production = devicesOf('production').length;
    await until(
      () =>
        emulator.hub.stats.count('twinUpdate', 200) >= production / 5 &&
        quiet.hub.stats.count('twinUpdate', 200) === QUIET_FLEET.length,
      60_000,
      'the first batch of the edit, and the quiet hub written',
    );
    // The API server goes: the operator's connections are refused, then the server stops (API server, then etcd).
    proxy.refuse();
    const downAt = Date.now();
    const writesAtStop = emulator.hub.stats.count('twinUpdate', 200);
    await controlPlane.stop();
    await pace(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
    const writesDuringOutage = emulator.hub.stats.count('twinUpdate', 200) - writesAtStop;

    // Back on the same data and port. Before the operator may reach it again, a resource is edited, one deleted
    // and one created: it must learn all three from the relist its expired watches lead to.
    controlPlane = await startControlPlane({ dataDir, securePort: port });
    const serverBackAt = Date.now();
    await apply([staging('PT50M'), lab()]);
    const deleted = await kubectl(kubeconfig(), ['delete', 'smc', 'canary', '-n', namespace, '--wait=false']);
    assert.equal(deleted.code, 0, deleted.stderr);
    expected.staging.generation = 2;
    expected.lab = { generation: 1, targeted: devicesOf('lab') };
    delete expected.canary;
    firstRight.clear();
    proxy.forward();
    const backAt = Date.now();
    const outageMs = backAt - downAt;

    await converged(90_000);
    const convergedMs = Date.now() - backAt;
    // An informer whose objects did not change (no TwinConfig here) may still be in its backoff when the statuses are
    // right: wait until every one has listed or watched again.
    const informers = () =>
      new Set(logSince(backAt, 'watch restored').map((l) => String(l.informer).split(' ')[0]));
    await until(() => informers().size >= 4, 60_000, 'every informer watching again', 200).catch(() => {});
    const restored = logSince(backAt, 'watch restored');
    const expired = logSince(backAt, 'watch expired (410 Gone): listing again');
    const failedDuringOutage = logSince(downAt, 'watch failed; restarting after a backoff').filter(
      (l) => Date.parse(l.timestamp) < backAt,
    );
    // Back when every informer (IoTHubs, SecurityModuleConfigs, TwinConfigs, Secrets) has listed or watched again.
    const firstRestore = new Map<string, number>();
    for (const l of restored)
      if (!firstRestore.has(String(l.informer)))
        firstRestore.set(String(l.informer), Date.parse(l.timestamp));
    const reconnectMs = Math.max(...firstRestore.values()) - backAt;
    const longestBackoff = Math.max(...failedDuringOutage.map((l) => Number(l.retryInMs)));
    t.diagnostic(
      `outage ${(outageMs / 1000).toFixed(1)} s (API server down ${((serverBackAt - downAt) / 1000).toFixed(1)} s, then edits while cut off): ` +
        `${failedDuringOutage.length} watch restarts meanwhile (longest backoff ${(longestBackoff / 1000).toFixed(1)} s), ` +
        `${writesDuringOutage} twin writes went on meanwhile`,
    );
    t.diagnostic(
      `reconnected ${(reconnectMs / 1000).toFixed(1)} s after the API server was reachable again, ${expired.length} watches expired (410) and relisted; ` +
        `every status right ${(convergedMs / 1000).toFixed(1)} s after; the quiet hub's (nobody edited it, its agents ` +
        `answered during the outage) ${((firstRight.get('quiet')! - backAt) / 1000).toFixed(1)} s after`,
    );
    assert.ok(expired.length >= 1, 'the restarted API server expired the resumed watches (410 Gone)');
    assert.deepEqual(
      [...firstRestore.keys()].map((name) => name.split(' ')[0]).sort(),
      ['IoTHubs', 'SecurityModuleConfigs', 'TwinConfigs'], // Secrets are read by GET, not watched
      'every informer came back',
    );
    // The first informer through tells the others (and the hubs waiting to write status) to try at once: their
    // backoffs, grown over the outage, would each end at its own time up to 16 s later. Every informer still in
    // its backoff when the first was back cut it short (how long its own list then took is the machine's speed).
    const [firstName, firstAt] = [...firstRestore].sort((a, b) => a[1] - b[1])[0]!;
    const retriedAtOnce = new Map(
      logSince(firstAt, 'watch retried at once: the API server is back').map((l) => [String(l.informer), l]),
    );
    const waiting: string[] = [];
    for (const name of firstRestore.keys()) {
      if (name === firstName) continue;
      const pending = logLines()
        .filter(
          (l) =>
            l.message === 'watch failed; restarting after a backoff' &&
            l.informer === name &&
            Date.parse(l.timestamp) <= firstAt,
        )
        .at(-1);
      const dueAt = pending ? Date.parse(pending.timestamp) + Number(pending.retryInMs) : 0;
      if (dueAt > firstAt + 5) waiting.push(name);
    }
    const spreadMs = Math.max(...firstRestore.values()) - firstAt;
    t.diagnostic(
      `${firstName.split(' ')[0]} back first; ${waiting.length} others were in a backoff then, ` +
        `${[...retriedAtOnce.values()].map((l) => `${String(l.informer).split(' ')[0]} cut ${(Number(l.backoffLeftMs) / 1000).toFixed(1)} s short`).join(', ') || 'none cut short'}; the last back ${spreadMs} ms after the first`,
    );
    assert.deepEqual(
      waiting.filter((name) => !retriedAtOnce.has(name)),
      [],
      'informers that waited out their backoff after the API server was back',
    );
    // Backoff, not a storm: four informers, each at most one attempt per doubling of its backoff.
    const bound = 4 * (Math.ceil(Math.log2(OUTAGE_MS / 250)) + 2);
    assert.ok(
      failedDuringOutage.length <= bound,
      `${failedDuringOutage.length} watch restarts (at most ${bound})`,
    );

    // The twins are what the resources now say, and the deleted resource's settings are gone.
    const now = await desired();
    for (const d of devicesOf('production'))
      assert.equal(now.get(d.deviceId)?.snapshotFrequency, 'PT9H', d.deviceId);
    for (const d of devicesOf('staging'))
      assert.equal(now.get(d.deviceId)?.lowPriorityMessageFrequency, 'PT50M', d.deviceId);
    for (const d of devicesOf('lab'))
      assert.equal(now.get(d.deviceId)?.snapshotFrequency, 'PT3H', d.deviceId);
    const counts = writesPerTwin();
    const total = counts.reduce((sum, [, n]) => sum + n, 0);
    // Each device needed one write (the canary's devices two: its settings removed, the lab's set).
    t.diagnostic(
      `twin writes for the three changes: ${total} for ${DEVICES} devices (${CANARY.length} of them in the deleted canary)`,
    );
    assert.ok(total >= DEVICES && total <= DEVICES + CANARY.length, `${total} twin writes`);
    assert.deepEqual(
      counts.filter(([twin, n]) => n > (CANARY.includes(twin.split('/')[0]) ? 2 : 1)),
      [],
      'no twin written twice for one change',
    );
  });
});

/** Resets every connection through `proxy` at random intervals between `minMs` and `maxMs`. */
function dropConnectionsEvery(proxy: TcpProxy, minMs: number, maxMs: number, random: () => number) {
  const stopped = new AbortController();
  const state = {
    drops: 0,
    stop() {
      stopped.abort();
    },
  };
  void (async () => {
    for (;;) {
      await pace(minMs + random() * (maxMs - minMs), stopped.signal);
      if (stopped.signal.aborted) return;
      proxy.dropAll();
      state.drops++;
    }
  })();
  return state;
}

/**
 * Another client writing the operator's objects as fast as it can, in `workers` loops at once: a read, a pause of
 * up to 50 ms, and a PUT of the object with a label changed, or of its status with Ready set Unknown and no device
 * converged; a PUT carries the resourceVersion read, so anyone's write in between makes it a 409 Conflict.
 */
function otherWriter(kubeconfigPath: string, namespace: string, random: () => number, workers = 3) {
  const api = customObjects(kubeconfigPath);
  const stats = { metadata: 0, status: 0, conflicts: 0, errors: 0 };
  let stopped = false;
  const targets = [
    { plural: 'iothubs', name: 'hub' },
    { plural: 'securitymoduleconfigs', name: 'baseline' },
    { plural: 'securitymoduleconfigs', name: 'staging' },
    { plural: 'securitymoduleconfigs', name: 'canary' },
  ];
  const loop = async (worker: number) => {
    for (let n = 0; !stopped; n++) {
      const { plural, name } = targets[Math.floor(random() * targets.length)];
      const at = { group: GROUP, version: VERSION, namespace, plural, name };
      try {
        const object = (await api.getNamespacedCustomObject(at)) as any;
        await pace(random() * 50);
        if (random() < 0.5 || !object.status?.conditions) {
          object.metadata.labels = { ...object.metadata.labels, [`other-writer-${worker}`]: String(n) };
          await api.replaceNamespacedCustomObject({ ...at, body: object });
          stats.metadata++;
        } else {
          object.status = {
            ...object.status,
            ...(plural === 'securitymoduleconfigs' ? { convergedDevices: 0 } : {}),
            conditions: object.status.conditions.map((c: any) =>
              c.type === 'Ready'
                ? { ...c, status: 'Unknown', reason: 'OverwrittenByAnother', message: 'not ours' }
                : c,
            ),
          };
          await api.replaceNamespacedCustomObjectStatus({ ...at, body: object });
          stats.status++;
        }
      } catch (error) {
        if (httpStatusOf(error) === 409) stats.conflicts++;
        else stats.errors++;
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, worker) => loop(worker)));
  return {
    stats,
    done,
    stop() {
      stopped = true;
    },
  };
}
