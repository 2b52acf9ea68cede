// Hubs sharded across replicas (`run --sharding`): three operator processes on the real API server and 30 emulated
// hubs. Every hub is held by exactly one replica (its metrics say which) and converges; from each hub's own view
// (the emulator tells its twin writers apart by the User-Agent naming the replica) no two replicas ever write it at
// once, and no replica writes a hub again after another has (no write war); a SIGKILLed replica's hubs are taken
// over within the lease duration (and the retry periods of noticing it) and converge after an edit; a replica that
// joins mid-rollout takes its share from the others without a write war; a SIGTERMed replica hands its hubs over
// without a write war. Writes are twin updates and registry writes (modules created).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  applyObjects,
  type ControlPlaneInfo,
  kubectlOk,
  sharedControlPlane,
  testNamespace,
} from '../support/control-plane.js';
import { startHubEmulator } from '../support/emulator-support.js';
import { installCrds } from '../support/kube.js';
import { scrapeMetrics } from '../support/metrics.js';
import { hubResources } from '../support/operator-fixture.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { securityModuleConfig } from '../support/resources.js';
import { until } from '../support/until.js';

const HUBS = 30;
const DEVICES = 10;
const LEASE_S = 6;
const RETRY_S = 1;
const hubName = (i: number) => `hub-${String(i).padStart(2, '0')}`;

describe('hubs sharded across three operator processes', () => {
  let cp: ControlPlaneInfo;
  let namespace: string;
  const emulators: RunningEmulator[] = [];
  const operators: OperatorProcess[] = [];

  const start = () => {
    const operator = startOperatorProcess([
      '--kubeconfig',
      cp.kubeconfig,
      '--namespace',
      namespace,
      '--sharding',
      '--leader-elect-resource-namespace',
      namespace,
      '--shard-lease-duration',
      `${LEASE_S}s`,
      '--shard-renew-deadline',
      '4s',
      '--shard-retry-period',
      `${RETRY_S}s`,
    ]);
    operators.push(operator);
    return operator;
  };
  const alive = () => operators.filter((o) => o.process.exitCode === null && o.process.signalCode === null);
  /** The replica of an identity (`host_pid_random`), as the User-Agent of its hub clients names it. */
  const identityOf = (operator: OperatorProcess) => `_${operator.process.pid}_`;
  /** Hubs a replica let go on purpose (hand-overs), from its log. */
  const handOvers = (operator: OperatorProcess) =>
    operator
      .log()
      .split('\n')
      .filter((line) => line.includes('"message":"letting a hub go"')).length;
  const writerOf = (userAgent: string) => /\(([^)]+)\)$/.exec(userAgent)?.[1] ?? userAgent;
  /** Which hubs each live replica holds, from its /metrics. */
  const holdings = async () =>
    Promise.all(
      alive().map(async (operator) => ({
        operator,
        hubs: (await scrapeMetrics(operator))
          .filter((s) => s.name === 'iot_security_hub_shard_owned' && s.value === 1)
          .map((s) => s.labels.hub),
      })),
    );
  /** Every hub held by exactly one live replica. */
  const shardedOnce = async () => {
    const held = (await holdings()).flatMap((h) => h.hubs);
    return held.length === HUBS && new Set(held).size === HUBS;
  };
  /** Each hub's writers in order (one entry per change of writer) and its overlapping writes. */
  const writers = () =>
    emulators.map((emulator, i) => {
      const { runs, overlapping } = emulator.hub.stats.snapshot().twinWriters;
      return { hub: hubName(i), sequence: runs.map((r) => writerOf(r.client)), overlapping };
    });
  /** No hub written by two replicas at once, nor by a replica again after another wrote it. */
  const assertNoWriteWar = (returning: readonly string[] = []) => {
    for (const { hub, sequence, overlapping } of writers()) {
      assert.equal(overlapping, 0, `${hub}: a write arrived while another replica's was in flight`);
      // A hub handed back to a replica that wrote it before (its later owner stopped) counts once per return.
      if (returning.includes(`${namespace}/${hub}`)) continue;
      assert.equal(new Set(sequence).size, sequence.length, `${hub}: writers ${sequence.join(' -> ')}`);
    }
  };
  const smc = (i: number, snapshotFrequency: string) =>
    securityModuleConfig(
      `baseline-${String(i).padStart(2, '0')}`,
      {
        hubRef: { name: hubName(i) },
        target: { condition: "tags.environment = 'production'" },
        agentConfiguration: { snapshotFrequency },
        rollout: { batchSize: '30%' },
      },
      { namespace },
    );
  const allReady = async (generation: number) => {
    await until(
      async () => {
        const list = JSON.parse(
          await kubectlOk(cp.kubeconfig, ['get', 'smc', '-n', namespace, '-o', 'json']),
        );
        const ready = list.items.filter(
          (o: any) =>
            o.status?.observedGeneration === generation &&
            o.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === HUBS;
      },
      60_000,
      `every SecurityModuleConfig Ready at generation ${generation}`,
      250,
    );
  };
  const edit = (snapshotFrequency: string) =>
    kubectlOk(
      cp.kubeconfig,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: emulators.map((_, i) => smc(i, snapshotFrequency)),
      }),
    );

  before(async () => {
    cp = await sharedControlPlane();
    await installCrds(cp);
    namespace = await testNamespace(cp, 'shards');
    for (let i = 0; i < HUBS; i++) {
      const emulator = await startHubEmulator({ tier: 'S3', agentDelay: { min: 100, max: 400 } });
      emulator.addDevices(
        Array.from({ length: DEVICES }, (_, d) => ({
          deviceId: `shard-${i}-${d}`,
          tags: { environment: 'production' },
          online: true,
        })),
      );
      emulators.push(emulator);
    }
    await applyObjects(cp.kubeconfig, [
      ...emulators.flatMap((emulator, i) => hubResources(emulator, { name: hubName(i), namespace })),
      ...emulators.map((_, i) => smc(i, 'PT1H')),
    ]);
    start();
    start();
    start();
  });
  after(async () => {
    for (const operator of operators) await operator.kill();
    for (const emulator of emulators) await emulator.close();
  });

  it('brings every hub to Ready, each held and written by one replica', async () => {
    await allReady(1);
    await until(shardedOnce, 20_000, 'every hub held by exactly one replica', 250);
    const held = await holdings();
    console.log(
      `three replicas hold ${held.map((h) => h.hubs.length).join(' + ')} hubs; hand-overs at start-up: ${held.map((h) => handOvers(h.operator)).join(' + ')}`,
    );
    for (const { operator, hubs } of held) {
      assert.ok(hubs.length > 0, `replica ${operator.process.pid} holds no hub`);
      const probe = await (await fetch(`${(await operator.endpoints()).probes}/readyz`)).text();
      assert.match(probe, new RegExp(`sharding: ${hubs.length} hubs, 3 replicas`));
    }
    // After an edit, the last writer of each hub is the replica that holds it.
    await edit('PT2H');
    await allReady(2);
    for (const { operator, hubs } of held)
      for (const hub of hubs) {
        const sequence = writers().find((w) => `${namespace}/${w.hub}` === hub)!.sequence;
        assert.ok(
          sequence.at(-1)!.includes(identityOf(operator)),
          `${hub} last written by ${sequence.at(-1)}`,
        );
      }
    assertNoWriteWar();
  });

  it("takes a SIGKILLed replica's hubs over within the lease duration, and converges them after an edit", async () => {
    const held = await holdings();
    const victim = held.reduce((a, b) => (b.hubs.length > a.hubs.length ? b : a));
    const killedAt = Date.now();
    await victim.operator.kill();
    await until(shardedOnce, 30_000, "the killed replica's hubs held again", 100);
    const takeoverMs = Date.now() - killedAt;
    console.log(
      `SIGKILL of the replica holding ${victim.hubs.length} hubs: all held again after ${(takeoverMs / 1000).toFixed(1)} s (lease ${LEASE_S} s, retry ${RETRY_S} s)`,
    );
    await edit('PT3H');
    await allReady(3);
    const now = await holdings();
    for (const hub of victim.hubs) {
      const holder = now.find((h) => h.hubs.includes(hub))!;
      const sequence = writers().find((w) => `${namespace}/${w.hub}` === hub)!.sequence;
      assert.ok(
        sequence.at(-1)!.includes(identityOf(holder.operator)),
        `${hub}: last written by ${sequence.at(-1)}, held by ${holder.operator.process.pid}`,
      );
    }
    assertNoWriteWar();
  });

  it('lets a replica that joins mid-rollout take its share without a write war', async () => {
    await edit('PT4H');
    const joined = start();
    await until(
      async () =>
        (await holdings()).find((h) => h.operator === joined)!.hubs.length > 0 && (await shardedOnce()),
      30_000,
      'the new replica holding its share',
      250,
    );
    await allReady(4);
    const share = (await holdings()).find((h) => h.operator === joined)!.hubs;
    console.log(`the joining replica took ${share.length} of ${HUBS} hubs`);
    await edit('PT5H');
    await allReady(5);
    for (const hub of share) {
      const sequence = writers().find((w) => `${namespace}/${w.hub}` === hub)!.sequence;
      assert.ok(sequence.at(-1)!.includes(identityOf(joined)), `${hub}: writers ${sequence.join(' -> ')}`);
    }
    assertNoWriteWar();
  });

  it("hands a SIGTERMed replica's hubs over to the others without a write war", async () => {
    await edit('PT6H');
    const held = await holdings();
    const leaving = held.reduce((a, b) => (b.hubs.length > a.hubs.length ? b : a));
    assert.equal(await leaving.operator.stop(), 0, 'a clean exit');
    await until(shardedOnce, 30_000, "the stopped replica's hubs held by the others", 100);
    console.log(`SIGTERM of the replica holding ${leaving.hubs.length} hubs: all held by the others`);
    await allReady(6);
    await edit('PT7H');
    await allReady(7);
    const now = await holdings();
    for (const hub of leaving.hubs) {
      const holder = now.find((h) => h.hubs.includes(hub))!;
      const sequence = writers().find((w) => `${namespace}/${w.hub}` === hub)!.sequence;
      assert.ok(
        sequence.at(-1)!.includes(identityOf(holder.operator)),
        `${hub}: writers ${sequence.join(' -> ')}`,
      );
      // The stopped replica's writes all came before its successor's.
      const last = Math.max(
        ...sequence.map((writer, i) => (writer.includes(identityOf(leaving.operator)) ? i : -1)),
      );
      assert.ok(
        sequence.slice(last + 1).every((writer) => writer.includes(identityOf(holder.operator))),
        `${hub}: writers ${sequence.join(' -> ')}`,
      );
    }
    assertNoWriteWar(leaving.hubs);
  });
});
