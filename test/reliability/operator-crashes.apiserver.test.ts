// The operator killed with SIGKILL at random points of a rollout, ten times in a row (restarted after each), then
// left to finish: its twins and resource status end as those of an uninterrupted run of the same resources on an
// identical fleet, and the hub applied exactly one write per device that needed one (the twins record what was
// written and where the rollout stands, so a new process neither repeats nor skips anything).
// Short: 200 devices, 10 kills. RELIABILITY_SOAK=1: 1,000 devices, 25 kills. RELIABILITY_SEED replays the kill points.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { mulberry32 } from '../../src/emulator/prng.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import {
  applyObjects,
  type ControlPlaneInfo,
  kubectlOk,
  sharedControlPlane,
  testNamespace,
} from '../support/control-plane.js';
import { emulatorClient, startHubEmulator } from '../support/emulator-support.js';
import { connectionsFromOtherProcesses } from '../support/hub-connections.js';
import { installCrds } from '../support/kube.js';
import { reconcilesFinished } from '../support/metrics.js';
import { environmentFleet, hubResources } from '../support/operator-fixture.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { pace } from '../support/pace.js';
import { agentDesired } from '../support/planner-fixtures.js';
import { reconcileNow } from '../support/reconciles.js';
import { securityModuleConfig } from '../support/resources.js';
import { until } from '../support/until.js';

const SOAK = process.env.RELIABILITY_SOAK === '1';
const DEVICES = SOAK ? 1000 : 200;
const KILLS = SOAK ? 25 : 10;
const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 1_000_000);
const MODULE = 'azureiotsecurity';

/** Production devices (baseline, batches of 10%, 5% in the soak), staging (their own resource), lab (no resource); 4% offline. */
const devices = () => environmentFleet('crash', DEVICES);

function resources(namespace: string, emulator: RunningEmulator): object[] {
  return [
    ...hubResources(emulator, { namespace }),
    securityModuleConfig(
      'baseline',
      {
        target: { condition: "tags.environment = 'production'" },
        agentConfiguration: {
          snapshotFrequency: 'PT7H',
          eventPriorities: { ProcessCreate: 'High', ConnectionCreate: 'Low' },
        },
        // Smaller batches in the soak: its 25 kills fall inside a rollout of 1,000 devices.
        rollout: { batchSize: SOAK ? '5%' : '10%' },
      },
      { namespace },
    ),
    securityModuleConfig(
      'staging',
      {
        target: { condition: "tags.environment = 'staging'" },
        priority: 20,
        agentConfiguration: { lowPriorityMessageFrequency: 'PT45M', maxLocalCacheSizeInBytes: 5242880 },
        rollout: { batchSize: '50%' },
      },
      { namespace },
    ),
  ];
}

const NEEDING_A_WRITE = devices().filter((d) => d.tags?.environment !== 'lab').length;

interface Kill {
  round: number;
  mode: 'time' | 'writes';
  afterMs: number;
  writesAtKill: number;
  /** Writes the hub applied after the process was gone (requests it had sent in full before it died). */
  appliedAfterKill: number;
}

const ready = (o: any) => o?.status?.conditions?.find((c: any) => c.type === 'Ready');

/** A status with what may differ between two runs of the same thing taken out: times, namespace, hub address. */
function comparable(status: any, side: { namespace: string; emulator: RunningEmulator }): unknown {
  const text = JSON.stringify(status ?? null)
    .replaceAll(side.namespace, 'NAMESPACE')
    .replaceAll(side.emulator.hostName, 'HUB');
  const copy = JSON.parse(text);
  for (const c of copy?.conditions ?? []) delete c.lastTransitionTime;
  return copy;
}

/** Per device: the desired agent configuration and our ownership record, as the hub holds them now. */
async function twins(emulator: RunningEmulator, namespace: string): Promise<Map<string, unknown>> {
  const client = emulatorClient(emulator, { tier: 'S3', units: 10 });
  try {
    const snapshot = await client.readSnapshot([SECURITY_MODULE_ID]);
    const out = new Map<string, unknown>();
    for (const [deviceId, twin] of snapshot.twins.get(SECURITY_MODULE_ID)!)
      out.set(
        deviceId,
        JSON.parse(
          JSON.stringify({
            desired: agentDesired(twin),
            ownership: twin.tags?.iotSecurityOperator ?? null,
          }).replaceAll(namespace, 'NAMESPACE'),
        ),
      );
    return out;
  } finally {
    client.close();
  }
}

describe('the operator killed at random points of a rollout', () => {
  let cp: ControlPlaneInfo;
  let reference: { namespace: string; emulator: RunningEmulator; operator?: OperatorProcess };
  let crashed: { namespace: string; emulator: RunningEmulator; operator?: OperatorProcess };
  const random = mulberry32(SEED);

  // At info level: its "starting" line says where its /metrics are.
  const operatorFor = (namespace: string) =>
    startOperatorProcess(['--kubeconfig', cp.kubeconfig, '--namespace', namespace, '--log-level', 'info']);
  const list = async (kind: string, namespace: string): Promise<any[]> =>
    JSON.parse(await kubectlOk(cp.kubeconfig, ['get', kind, '-n', namespace, '-o', 'json'])).items;
  /** Every resource Ready at generation 1, every targeted device reached, the hub Connected. */
  const finished = async (namespace: string): Promise<boolean> => {
    const configs = await list('smc', namespace);
    const hubs = await list('iothub', namespace);
    return (
      configs.length === 2 &&
      configs.every(
        (c) =>
          c.status?.observedGeneration === 1 &&
          ready(c)?.status === 'True' &&
          c.status.rollout?.reachedDevices === c.status.targetedDevices,
      ) &&
      hubs.every((h) => ready(h)?.status === 'True')
    );
  };
  const statuses = async (side: typeof reference) => {
    const out: Record<string, unknown> = {};
    for (const kind of ['smc', 'iothub'])
      for (const o of await list(kind, side.namespace))
        out[`${kind}/${o.metadata.name}`] = comparable(o.status, side);
    return out;
  };
  const writes = (emulator: RunningEmulator) => emulator.hub.stats.count('twinUpdate', 200);

  before(async () => {
    cp = await sharedControlPlane();
    await installCrds(cp);
    const start = async (prefix: string) => {
      const emulator = await startHubEmulator({ tier: 'S3', agentDelay: { min: 300, max: 1200 } });
      emulator.addDevices(devices());
      await emulator.agentsIdle();
      return { namespace: await testNamespace(cp, prefix), emulator };
    };
    reference = await start('crash-reference');
    crashed = await start('crash-killed');
  });
  after(async () => {
    await reference?.operator?.kill();
    await crashed?.operator?.kill();
    await reference?.emulator.close();
    await crashed?.emulator.close();
  });

  it(`ends as an uninterrupted run does after ${KILLS} SIGKILLs, with one twin write per device that needed one`, async (t) => {
    t.diagnostic(
      `seed ${SEED} (RELIABILITY_SEED replays the kill points), ${DEVICES} devices, ${KILLS} kills`,
    );
    const apply = (side: typeof reference) =>
      applyObjects(cp.kubeconfig, resources(side.namespace, side.emulator));
    const started = Date.now();
    reference.operator = operatorFor(reference.namespace);
    await apply(reference);
    await apply(crashed);

    const kills: Kill[] = [];
    let finishedBeforeKills = 0;
    for (let round = 1; round <= KILLS; round++) {
      const operator = operatorFor(crashed.namespace);
      crashed.operator = operator;
      const spawnedAt = Date.now();
      const before = writes(crashed.emulator);
      // Half the kills at a random time from the start (while it loads, lists, reads the hub, writes or waits),
      // half while it writes: a few writes into a burst, with others in flight.
      const mode = random() < 0.5 ? 'time' : 'writes';
      if (mode === 'time') await pace(150 + Math.round(random() * 2350));
      else {
        const target = before + 1 + Math.floor(random() * 12);
        // Killed after 6 s however far it got.
        await until(() => writes(crashed.emulator) >= target, 6000, `${target} writes`, 2).catch(
          () => undefined,
        );
      }
      const afterMs = Date.now() - spawnedAt;
      await operator.kill();
      const writesAtKill = writes(crashed.emulator);
      // What it had sent in full before it died reaches the hub: wait until the hub has answered it.
      await until(
        () => connectionsFromOtherProcesses(crashed.emulator.port) === 0,
        10_000,
        'the hub to answer what the killed operator had sent',
        5,
      );
      kills.push({
        round,
        mode,
        afterMs,
        writesAtKill,
        appliedAfterKill: writes(crashed.emulator) - writesAtKill,
      });
      if (await finished(crashed.namespace)) finishedBeforeKills++;
    }
    const killedAt = Date.now();
    t.diagnostic(
      `kills (ms after start, twin writes so far): ${kills.map((k) => `${k.afterMs}${k.mode === 'writes' ? 'w' : 't'}:${k.writesAtKill}`).join(' ')}`,
    );
    // The kills must have fallen inside the rollout for the test to mean anything: most of them.
    const duringRollout = kills.filter((k) => k.writesAtKill < NEEDING_A_WRITE).length;
    assert.ok(
      duringRollout > KILLS / 2,
      `${duringRollout} of ${KILLS} kills while the rollout was under way (${kills.at(-1)!.writesAtKill} of ${NEEDING_A_WRITE} written at the last)`,
    );

    crashed.operator = operatorFor(crashed.namespace);
    await until(() => finished(crashed.namespace), 120_000, 'the killed run to finish', 250);
    const crashedDoneMs = Date.now() - started;
    await until(() => finished(reference.namespace), 120_000, 'the reference run to finish', 250);
    const referenceDoneMs = Date.now() - started;
    // Whatever was due is done: each operator reconciles its hub twice more, asked the same way on both sides.
    const settled = (side: typeof reference) =>
      reconcileNow(
        {
          kubeconfig: cp.kubeconfig,
          namespace: side.namespace,
          name: 'hub',
          finished: () => reconcilesFinished(side.operator!),
        },
        { request: 'settled' },
      );
    await Promise.all([settled(reference), settled(crashed)]);

    const referenceTwins = await twins(reference.emulator, reference.namespace);
    const crashedTwins = await twins(crashed.emulator, crashed.namespace);
    assert.equal(crashedTwins.size, DEVICES);
    assert.deepEqual(crashedTwins, referenceTwins, 'every twin as the uninterrupted run left it');
    assert.deepEqual(
      await statuses(crashed),
      await statuses(reference),
      'the same status as the uninterrupted run',
    );

    const perTwin = (emulator: RunningEmulator) =>
      Object.entries(emulator.hub.stats.snapshot().twinUpdates).filter(([twin]) =>
        twin.endsWith(`/${MODULE}`),
      );
    const crashedWrites = writes(crashed.emulator);
    const referenceWrites = writes(reference.emulator);
    const twice = perTwin(crashed.emulator).filter(([, n]) => n > 1);
    const appliedAfterKills = kills.reduce((sum, k) => sum + k.appliedAfterKill, 0);
    t.diagnostic(
      `twin writes: ${crashedWrites} with ${KILLS} kills, ${referenceWrites} uninterrupted, ${NEEDING_A_WRITE} devices needed one; ` +
        `${twice.length} twins written twice; ${appliedAfterKills} writes applied after a kill (in flight); ` +
        `412s ${crashed.emulator.hub.stats.count('twinUpdate', 412)}; kills after the rollout had finished: ${finishedBeforeKills}`,
    );
    t.diagnostic(
      `finished ${(crashedDoneMs / 1000).toFixed(1)} s after the apply with ${KILLS} kills ` +
        `(${((crashedDoneMs - (killedAt - started)) / 1000).toFixed(1)} s after the last restart), uninterrupted ${(referenceDoneMs / 1000).toFixed(1)} s`,
    );
    assert.deepEqual(twice, [], 'no twin written twice');
    assert.equal(
      referenceWrites,
      NEEDING_A_WRITE,
      'the uninterrupted run wrote each device that needed it once',
    );
    assert.equal(crashedWrites, NEEDING_A_WRITE, 'one write per device that needed one, kills or not');
  });
});
