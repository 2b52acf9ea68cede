// High availability: two operator processes with --leader-elect on the real API server and one emulated hub.
// Only the holder of the Lease writes; the standby is ready with warm caches; the leader killed with SIGKILL is
// replaced within the lease time, stopped with SIGTERM at once (it releases the Lease); no twin is written by
// both, and the rollouts complete.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  applyObjects,
  type ControlPlaneInfo,
  kubectlOk,
  leaseHolder,
  sharedControlPlane,
  testNamespace,
} from '../support/control-plane.js';
import { startHubEmulator } from '../support/emulator-support.js';
import { installCrds } from '../support/kube.js';
import { hubResources } from '../support/operator-fixture.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { securityModuleConfig } from '../support/resources.js';
import { until } from '../support/until.js';

const DEVICES = 240;
const LEASE = 'iot-security-operator-leader';

describe('leader election between two operator processes', () => {
  let cp: ControlPlaneInfo;
  let emulator: RunningEmulator;
  let namespace: string;
  const operators: OperatorProcess[] = [];

  const holder = () => leaseHolder(cp.kubeconfig, namespace, LEASE);
  const processOf = (identity: string) => operators.find((o) => identity.includes(`_${o.process.pid}_`));
  const start = () => {
    const operator = startOperatorProcess([
      '--kubeconfig',
      cp.kubeconfig,
      '--namespace',
      namespace,
      '--leader-elect',
      '--leader-elect-resource-namespace',
      namespace,
    ]);
    operators.push(operator);
    return operator;
  };
  const smc = (snapshotFrequency: string) =>
    securityModuleConfig(
      'baseline',
      {
        target: { condition: "tags.environment = 'production'" },
        agentConfiguration: { snapshotFrequency },
        rollout: { batchSize: '20%' },
      },
      { namespace },
    );
  const readyAt = async (generation: number) => {
    await until(
      async () => {
        const object = JSON.parse(
          await kubectlOk(cp.kubeconfig, ['get', 'smc', 'baseline', '-n', namespace, '-o', 'json']),
        );
        const ready = object.status?.conditions?.find((c: any) => c.type === 'Ready');
        return object.status?.observedGeneration === generation && ready?.status === 'True';
      },
      90_000,
      `generation ${generation} Ready`,
      250,
    );
  };
  const updatesPerTwin = () =>
    Object.entries(emulator.hub.stats.snapshot().twinUpdates).filter(([twin]) =>
      twin.endsWith('/azureiotsecurity'),
    );

  before(async () => {
    cp = await sharedControlPlane();
    await installCrds(cp);
    namespace = await testNamespace(cp, 'leader');
    emulator = await startHubEmulator({ tier: 'S3', agentDelay: { min: 300, max: 900 } });
    emulator.addDevices(
      Array.from({ length: DEVICES }, (_, i) => ({
        deviceId: `ha-${i}`,
        tags: { environment: 'production' },
        online: true,
      })),
    );
    const hub = hubResources(emulator, { namespace });
    await applyObjects(cp.kubeconfig, hub);
    start();
    start();
  });
  after(async () => {
    for (const operator of operators) await operator.kill();
    await emulator?.close();
  });

  it('has one leader, and a standby that is ready with its caches synced', async () => {
    await until(async () => processOf(await holder()) !== undefined, 30_000, 'a leader');
    const leader = processOf(await holder())!;
    const standby = operators.find((o) => o !== leader)!;
    const probe = async (o: OperatorProcess) =>
      (await fetch(`${(await o.endpoints()).probes}/readyz`)).text();
    await until(async () => (await probe(standby)).includes('standby'), 15_000, 'the standby ready');
    assert.match(await probe(leader), /leader/);
  });

  it('takes over within the lease time when the leader is killed mid-rollout, writing no twin twice', async () => {
    emulator.hub.stats.reset();
    await kubectlOk(cp.kubeconfig, ['apply', '-f', '-'], JSON.stringify(smc('PT3H')));
    await until(() => emulator.hub.stats.count('twinUpdate', 200) >= 40, 30_000, 'the first batches');
    const leader = processOf(await holder())!;
    const killedAt = Date.now();
    await leader.kill();
    await until(
      async () => {
        const next = processOf(await holder());
        return next !== undefined && next !== leader;
      },
      25_000,
      'the other process to lead',
    );
    const takeoverMs = Date.now() - killedAt;
    console.log(`SIGKILL: the standby led after ${(takeoverMs / 1000).toFixed(1)} s (lease 15 s, retry 2 s)`);
    assert.ok(takeoverMs <= 19_000, `took over after ${takeoverMs} ms`);
    await readyAt(1);
    const counts = updatesPerTwin();
    assert.equal(counts.length, DEVICES, 'every twin written');
    assert.deepEqual(
      counts.filter(([, n]) => n > 1),
      [],
      'no twin written twice',
    );
  });

  it('hands over at once when the leader is stopped with SIGTERM mid-rollout (it releases the Lease)', async () => {
    start(); // a new standby in place of the killed process
    const running = () =>
      operators.filter((o) => o.process.exitCode === null && o.process.signalCode === null);
    await until(async () => running().length === 2, 5000, 'two processes');
    emulator.hub.stats.reset();
    await kubectlOk(cp.kubeconfig, ['apply', '-f', '-'], JSON.stringify(smc('PT4H')));
    await until(() => emulator.hub.stats.count('twinUpdate', 200) >= 40, 30_000, 'the first batches');
    const leader = processOf(await holder())!;
    const stoppedAt = Date.now();
    const code = await leader.stop();
    assert.equal(code, 0, 'a clean exit');
    await until(
      async () => {
        const next = processOf(await holder());
        return next !== undefined && next !== leader;
      },
      10_000,
      'the standby to lead',
    );
    const handoverMs = Date.now() - stoppedAt;
    console.log(`SIGTERM: the standby led ${(handoverMs / 1000).toFixed(1)} s after the signal`);
    assert.ok(handoverMs <= 5000, `handed over after ${handoverMs} ms`);
    assert.match(leader.log(), /released the leader lease/);
    await readyAt(2);
    assert.deepEqual(
      updatesPerTwin().filter(([, n]) => n > 1),
      [],
      'no twin written twice',
    );
    assert.equal(updatesPerTwin().length, DEVICES);
  });
});
