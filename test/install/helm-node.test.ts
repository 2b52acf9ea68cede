// The chart installed by Helm onto a real node, as a user's cluster runs it: a control plane of its own (a real
// kube-apiserver and etcd, reachable from pods), the node of test/support/local-node.ts (containerd and runc from
// Debian; the kubelet, kube-proxy, kube-scheduler and kube-controller-manager from the control plane's Go module)
// and the image `make image` builds. The Deployment's ReplicaSet makes two pods, the scheduler puts them on the
// node, ServiceAccount admission and the kubelet mount their token and CA, they reach the API server through the
// kubernetes Service and the emulated hub in this process at the node's address. One leads, the kubelet's probes
// pass, the fleet converges; deleting the leader's pod hands the Lease to the other and the ReplicaSet replaces
// it. Skipped, saying why, without root, containerd, runc, the CNI plugins, `make node` or podman.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type RunningControlPlane, startControlPlane } from '../../src/demo/local-control-plane.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { applyObjects, kubectl, kubectlOk, leaseHolder, testNamespace } from '../support/control-plane.js';
import { desired, startHubEmulator } from '../support/emulator-support.js';
import { CHART, helmOk } from '../support/helm.js';
import { nodeAddress, nodeUnavailable, type RunningNode, startLocalNode } from '../support/local-node.js';
import { POD_SUBNET } from '../support/local-node-config.js';
import { fleet, hubResources } from '../support/operator-fixture.js';
import { securityModuleConfig } from '../support/resources.js';
import { until } from '../support/until.js';
import { IMAGE, imageUnavailable } from './image-podman.js';

const RELEASE = 'iso';
/** Each release elects its leader on a Lease of its own, named after its full name. */
const LEASE = `${RELEASE}-iot-security-operator-leader`;
const DEVICES = 50;

const unavailable = (await nodeUnavailable()) ?? (await imageUnavailable());

describe('the chart on a real node', { skip: unavailable }, () => {
  let controlPlane: RunningControlPlane;
  let kubeconfig: string;
  let node: RunningNode;
  let emulator: RunningEmulator;
  let namespace: string;
  let installed = false;

  const getJson = async (args: string[]) =>
    JSON.parse(await kubectlOk(kubeconfig, ['get', ...args, '-o', 'json']));
  const pods = async (): Promise<any[]> =>
    (
      await getJson([
        'pods',
        '-n',
        namespace,
        '-l',
        `app.kubernetes.io/name=iot-security-operator,app.kubernetes.io/instance=${RELEASE}`,
      ])
    ).items.filter((p: any) => !p.metadata.deletionTimestamp);
  const ready = (pod: any) =>
    pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false;
  const holder = () => leaseHolder(kubeconfig, namespace, LEASE);
  /** The running pod whose identity holds the Lease (identities start with POD_NAME). */
  const leader = async () => {
    const identity = await holder();
    return (await pods()).find((p) => identity.startsWith(`${p.metadata.name}_`));
  };
  /** Waits for a condition, failing with the pods' state, their logs and the kubelet's. */
  const settle = async (condition: () => Promise<boolean>, timeoutMs: number, what: string) => {
    try {
      await until(condition, timeoutMs, what, 250);
    } catch (error) {
      const state = await kubectl(kubeconfig, ['get', 'pods,events', '-n', namespace, '-o', 'wide']);
      const logs = await kubectl(kubeconfig, [
        'logs',
        '-n',
        namespace,
        '-l',
        `app.kubernetes.io/instance=${RELEASE}`,
        '--tail=20',
      ]);
      throw new Error(
        `${(error as Error).message}\n${state.stdout}${state.stderr}\n${logs.stdout}${logs.stderr}\n--- kubelet\n${node.logTail('kubelet')}`,
      );
    }
  };

  before(async () => {
    const ip = nodeAddress()!;
    controlPlane = await startControlPlane({ advertiseAddress: ip });
    kubeconfig = controlPlane.info.kubeconfig;
    node = await startLocalNode(controlPlane.info, { ip });
    await node.importImage(IMAGE);
    namespace = await testNamespace(controlPlane.info, 'helm-node');
    // The hub the pods reach: at the node's address, its certificate naming it.
    emulator = await startHubEmulator({ tier: 'S3', host: ip });
    emulator.addDevices(fleet('node', DEVICES, { environment: 'production' }));
  });

  after(async () => {
    if (installed) await helmOk(['uninstall', RELEASE, '-n', namespace], kubeconfig).catch(() => {});
    await node?.stop();
    await emulator?.close();
    await controlPlane?.stop();
    if (controlPlane) rmSync(controlPlane.info.dataDir, { recursive: true, force: true });
  });

  it('runs the Deployment as two pods on the node, with a token and CA the cluster mounted, Ready by the kubelet', async () => {
    // The chart's defaults but the image: the one `make image` built, already on the node (pullPolicy IfNotPresent).
    const [repository, tag] = IMAGE.split(':');
    await helmOk(
      [
        'install',
        RELEASE,
        CHART,
        '-n',
        namespace,
        '--set',
        `image.repository=${repository}`,
        '--set',
        `image.tag=${tag}`,
      ],
      kubeconfig,
    );
    installed = true;
    // The IoTHub once the chart's CRDs are served.
    await kubectlOk(kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    await applyObjects(kubeconfig, hubResources(emulator, { namespace }));
    await settle(
      async () => {
        const running = await pods();
        return running.length === 2 && running.every(ready);
      },
      120_000,
      'two pods Ready',
    );
    const [replicaSet] = (
      await getJson(['replicasets', '-n', namespace, '-l', `app.kubernetes.io/instance=${RELEASE}`])
    ).items;
    for (const pod of await pods()) {
      assert.equal(pod.spec.nodeName, node.layout.name);
      assert.deepEqual(
        pod.metadata.ownerReferences.map((o: any) => `${o.kind}/${o.name}`),
        [`ReplicaSet/${replicaSet.metadata.name}`],
      );
      // The pod network, not the host's.
      assert.notEqual(pod.spec.hostNetwork, true);
      assert.ok(pod.status.podIP.startsWith(POD_SUBNET.split('.').slice(0, 3).join('.')), pod.status.podIP);
      // ServiceAccount admission's projected volume: a bound token, the cluster's CA, the namespace.
      const access = pod.spec.volumes.find((v: any) => v.name.startsWith('kube-api-access-'));
      const sources = access?.projected?.sources ?? [];
      assert.ok(
        sources.some((s: any) => s.serviceAccountToken),
        'a projected ServiceAccount token',
      );
      assert.ok(
        sources.some((s: any) => s.configMap?.name === 'kube-root-ca.crt'),
        'the CA from kube-root-ca.crt',
      );
      assert.equal(pod.status.containerStatuses[0].restartCount, 0);
    }
  });

  it('elects exactly one leader among the pods', async () => {
    await settle(async () => (await leader()) !== undefined, 60_000, 'a leader');
    const names = (await pods()).map((p) => p.metadata.name);
    const identity = await holder();
    assert.equal(names.filter((n) => identity.startsWith(`${n}_`)).length, 1, identity);
  });

  it('converges the fleet on the hub from the pods', async () => {
    await applyObjects(kubeconfig, [
      securityModuleConfig(
        'baseline',
        {
          target: { condition: "tags.environment = 'production'" },
          agentConfiguration: { snapshotFrequency: 'PT2H' },
        },
        { namespace },
      ),
    ]);
    await settle(
      async () => {
        const smc = await getJson(['smc', 'baseline', '-n', namespace]);
        return smc.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
      },
      90_000,
      'the SecurityModuleConfig Ready',
    );
    assert.deepEqual((await desired(emulator, 'node-0')).snapshotFrequency, { value: 'PT2H' });
    assert.deepEqual((await desired(emulator, `node-${DEVICES - 1}`)).snapshotFrequency, { value: 'PT2H' });
  });

  it("hands the Lease on when the leader's pod is deleted, and the ReplicaSet replaces the pod", async () => {
    const first = (await leader())!.metadata.name;
    const standby = (await pods()).find((p) => p.metadata.name !== first)!.metadata.name;
    await kubectlOk(kubeconfig, ['delete', 'pod', first, '-n', namespace, '--wait=false']);
    // The deleted pod releases the Lease as it stops; the standby takes it, unless the replacement pod, started
    // meanwhile, asks first (both are the Deployment's pods: either is a correct failover).
    await settle(
      async () => {
        const lead = await leader();
        return lead !== undefined && lead.metadata.name !== first;
      },
      60_000,
      'another pod to lead',
    );
    await settle(
      async () => {
        const running = await pods();
        return (
          running.length === 2 && running.every(ready) && !running.some((p) => p.metadata.name === first)
        );
      },
      120_000,
      'the replacement pod Ready',
    );
    assert.ok(
      (await pods()).some((p) => p.metadata.name === standby),
      'the standby kept running',
    );
    await settle(
      async () => (await kubectl(kubeconfig, ['get', 'pod', first, '-n', namespace])).code !== 0,
      60_000,
      `${first} gone`,
    );
  });

  it('uninstalls: the pods stop and go', async () => {
    await helmOk(['uninstall', RELEASE, '-n', namespace], kubeconfig);
    installed = false;
    await settle(async () => (await pods()).length === 0, 60_000, 'no pods');
  });
});
