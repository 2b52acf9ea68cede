// The Lease logic of --sharding in process, on the real API server: replicas cut off from it, their member Leases
// deleted by others, a leader-election Lease held by a leader of the old mode, and the order of a clean stop.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { formatKubeMicroTime } from '../../src/api/kube-time.js';
import { makeKubeApi } from '../../src/controller/kube-http.js';
import { assignedMember } from '../../src/controller/sharding/assignment.js';
import { HubSharding, type HubShardingOptions } from '../../src/controller/sharding/hub-sharding.js';
import { memberLeaseName } from '../../src/controller/sharding/shard-leases.js';
import { StopController } from '../../src/runtime/stop-controller.js';
import { type ControlPlaneInfo, sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { httpStatusOf, kubeConfigOf } from '../support/kube.js';
import { logFolder } from '../support/suite-output.js';
import { kubeconfigVia, TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

describe('sharding Leases on the API server', () => {
  let cp: ControlPlaneInfo;
  let api: CoordinationV1Api;
  const running: HubSharding[] = [];
  const proxies: TcpProxy[] = [];

  before(async () => {
    cp = await sharedControlPlane();
    api = makeKubeApi(kubeConfigOf(cp.kubeconfig), CoordinationV1Api);
  });
  after(async () => {
    for (const proxy of proxies) proxy.forward();
    for (const sharding of running) await sharding.stop();
    for (const proxy of proxies) await proxy.close();
  });

  const replica = (
    namespace: string,
    identity: string,
    hubs: string[],
    extra: Partial<HubShardingOptions> = {},
  ): HubSharding => {
    const sharding = new HubSharding({
      api,
      namespace,
      identity,
      ...TIMING,
      hubKeys: () => new Set(hubs),
      onTaken: () => {},
      onLetGo: () => {},
      handOverGraceMs: 10_000,
      ...extra,
    });
    running.push(sharding);
    sharding.start();
    return sharding;
  };
  /** An API client whose connections go through a proxy the test can cut. */
  const proxiedApi = async (): Promise<{ api: CoordinationV1Api; proxy: TcpProxy }> => {
    const proxy = TcpProxy.forServer(cp.server);
    proxies.push(proxy);
    const file = join(logFolder('sharding-proxy-'), 'kubeconfig');
    writeFileSync(file, kubeconfigVia(readFileSync(cp.kubeconfig, 'utf8'), await proxy.listen()), {
      mode: 0o600,
    });
    return { api: makeKubeApi(kubeConfigOf(file), CoordinationV1Api), proxy };
  };
  const readLease = async (namespace: string, name: string): Promise<V1Lease | number> => {
    try {
      return await api.readNamespacedLease({ name, namespace });
    } catch (error) {
      return httpStatusOf(error) ?? 0;
    }
  };

  it('stops a replica cut off from the API server writing before another takes its hub', async () => {
    const namespace = await testNamespace(cp, 'shard-cut');
    // A hub the cut-off replica answers for while both are up: it loses it only by losing its Lease.
    const key = Array.from({ length: 50 }, (_, i) => `${namespace}/hub-${i}`).find(
      (k) => assignedMember(k, ['a', 'b']) === 'a',
    )!;
    const cut = await proxiedApi();
    const a = replica(namespace, 'a', [key], { api: cut.api });
    await until(() => a.owns(key), 20_000, 'a holding the hub');
    // A reconcile of a in progress: it must be stopped (aborted) before b may write.
    const reconcile = new StopController();
    let aborted = false;
    void a.guard(key, reconcile.stop, async (stop) => {
      await new Promise((resolve) => stop.abort.addEventListener('abort', resolve, { once: true }));
      aborted = true;
    });
    const atTake: { aOwns: boolean; aAborted: boolean }[] = [];
    const b = replica(namespace, 'b', [key], {
      onTaken: () => atTake.push({ aOwns: a.owns(key), aAborted: aborted }),
    });
    await until(() => b.members.length === 2, 20_000, 'b seeing both replicas');
    assert.ok(a.owns(key), 'a still holds the hub while it renews');
    // Every request of a stalls from now on: its renewals time out, its hold lapses.
    cut.proxy.blackhole();
    await until(() => b.owns(key), 30_000, 'b taking the hub');
    assert.deepEqual(atTake, [{ aOwns: false, aAborted: true }], 'a had stopped writing when b took the hub');
    cut.proxy.forward();
  });

  it('makes its member Lease anew when others deleted it', async () => {
    const namespace = await testNamespace(cp, 'shard-member');
    replica(namespace, 'c', []);
    const name = memberLeaseName('c');
    await until(
      async () => typeof (await readLease(namespace, name)) !== 'number',
      20_000,
      'the member Lease',
    );
    await api.deleteNamespacedLease({ name, namespace });
    await until(async () => (await readLease(namespace, name)) === 404, 20_000, 'the member Lease deleted');
    await until(
      async () => typeof (await readLease(namespace, name)) !== 'number',
      20_000,
      'the member Lease made anew',
    );
  });

  it('takes no hub while a leader of the old mode holds the leader-election Lease', async () => {
    const namespace = await testNamespace(cp, 'shard-leader');
    const leader = await api.createNamespacedLease({
      namespace,
      body: {
        metadata: { name: 'leader', namespace },
        spec: {
          holderIdentity: 'old-leader',
          leaseDurationSeconds: 15,
          renewTime: formatKubeMicroTime(Date.now()) as never,
        },
      },
    });
    const key = `${namespace}/hub-0`;
    const rounds: string[][] = [];
    const d = replica(namespace, 'd', [key], {
      leaderLease: 'leader',
      onChanged: (hubs, replicas) => {
        if (replicas > 0) rounds.push([...hubs]);
      },
    });
    await until(() => rounds.length >= 6, 20_000, 'a few rounds seen');
    assert.deepEqual(rounds.flat(), [], 'no hub held under a live leader');
    // The old leader stops: it releases its Lease.
    await api.replaceNamespacedLease({
      name: 'leader',
      namespace,
      body: { ...leader, spec: { ...leader.spec, holderIdentity: '' } },
    });
    await until(() => d.owns(key), 20_000, 'the hub taken once the leader-election Lease is free');
  });

  it('deletes its member Lease before it releases its hubs on a clean stop', async () => {
    const namespace = await testNamespace(cp, 'shard-stop');
    const keys = [0, 1, 2].map((i) => `${namespace}/hub-${i}`);
    const atLetGo: Promise<V1Lease | number>[] = [];
    const e = replica(namespace, 'e', keys, {
      onLetGo: () => atLetGo.push(readLease(namespace, memberLeaseName('e'))),
    });
    await until(() => keys.every((k) => e.owns(k)), 20_000, 'e holding every hub');
    await e.stop();
    assert.equal(atLetGo.length, keys.length);
    assert.deepEqual(await Promise.all(atLetGo), [404, 404, 404], 'the member Lease was gone first');
  });
});
