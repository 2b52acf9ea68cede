// The container image as a cluster runs it: built by `make image`'s script, two containers started as the
// Deployment's pods are (in-cluster configuration from a TokenRequest token and the CA mounted where the kubelet
// mounts them, the generated RBAC bound to their ServiceAccount, user 65532, a read-only root file system, the
// host's network), against the local control plane and the emulated hub in this process. One leads, both answer
// their probes, the fleet converges, and each stops cleanly on SIGTERM within its grace period, the Lease passing
// to the other. Skipped, saying why, where podman is missing or the image does not build.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  applyObjects,
  type ControlPlaneInfo,
  kubectl,
  kubectlOk,
  leaseHolder,
  serviceAccountToken,
  sharedControlPlane,
  testNamespace,
} from '../support/control-plane.js';
import { desired, startHubEmulator } from '../support/emulator-support.js';
import { installCrds, REPO } from '../support/kube.js';
import { fleet, hubResources } from '../support/operator-fixture.js';
import { securityModuleConfig } from '../support/resources.js';
import { until } from '../support/until.js';
import {
  freePort,
  imageUnavailable,
  podLog,
  podman,
  podState,
  removePods,
  removeServiceAccountVolume,
  serviceAccountVolume,
  startPod,
} from './image-podman.js';

const LEASE = 'iot-security-operator-leader';
const SERVICE_ACCOUNT = 'iot-security-operator';
const GRACE_SECONDS = 30; // the Deployment's terminationGracePeriodSeconds
const DEVICES = 50;

/** The generated RBAC of manifests/ (the ClusterRole, the leader election Role), bound to the test's account. */
function rbac(namespace: string): any[] {
  const documents = (file: string) =>
    parseAllDocuments(readFileSync(join(REPO, 'manifests', file), 'utf8')).map((d) => d.toJS());
  const objects = [...documents('rbac-cluster/clusterrole.yaml'), ...documents('base/leader-election.yaml')];
  for (const object of objects) {
    // Cluster-wide names of their own, so that this file's objects meet no other test's.
    if (object.kind.startsWith('Cluster')) object.metadata.name = `${object.metadata.name}-${namespace}`;
    else object.metadata.namespace = namespace;
    if (object.roleRef?.kind === 'ClusterRole') object.roleRef.name = `${object.roleRef.name}-${namespace}`;
    for (const subject of object.subjects ?? []) subject.namespace = namespace;
  }
  return objects;
}

const unavailable = await imageUnavailable();

describe('the container image in a cluster', { skip: unavailable }, () => {
  let cp: ControlPlaneInfo;
  let emulator: RunningEmulator;
  let namespace: string;
  const pods: { name: string; probes: number }[] = [];
  let serviceAccountDir: string | undefined;

  const holder = () => leaseHolder(cp.kubeconfig, namespace, LEASE);
  /** The pod whose identity holds the Lease (identities start with POD_NAME). */
  const leader = async () => {
    const identity = await holder();
    return pods.find((p) => identity.startsWith(`${p.name}_`));
  };
  const probe = async (pod: { probes: number }, path: string) => {
    try {
      const response = await fetch(`http://127.0.0.1:${pod.probes}${path}`);
      return { status: response.status, body: await response.text() };
    } catch {
      return { status: 0, body: '' };
    }
  };
  const logs = async () =>
    (await Promise.all(pods.map(async (p) => `--- ${p.name}\n${(await podLog(p.name)).slice(-3000)}`))).join(
      '\n',
    );
  /** Waits for a condition, failing with the containers' logs. */
  const settle = async (condition: () => Promise<boolean>, timeoutMs: number, what: string) => {
    try {
      await until(condition, timeoutMs, what, 250);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${await logs()}`);
    }
  };
  const stop = async (name: string) => {
    const stopped = await podman(['stop', '--time', String(GRACE_SECONDS), name]);
    assert.equal(stopped.code, 0, stopped.stderr);
    return (await podState(name))!;
  };

  before(async () => {
    cp = await sharedControlPlane();
    await installCrds(cp);
    namespace = await testNamespace(cp, 'image');
    await kubectlOk(cp.kubeconfig, ['create', 'serviceaccount', SERVICE_ACCOUNT, '-n', namespace]);
    await applyObjects(cp.kubeconfig, rbac(namespace));
    const token = await serviceAccountToken(cp, namespace, SERVICE_ACCOUNT, { duration: '1h' });
    serviceAccountDir = serviceAccountVolume(token, cp.caFile, namespace);

    emulator = await startHubEmulator({ tier: 'S3' });
    emulator.addDevices(fleet('pod', DEVICES, { environment: 'production' }));
    await applyObjects(cp.kubeconfig, hubResources(emulator, { namespace }));

    for (const name of [`operator-a-${namespace}`, `operator-b-${namespace}`]) {
      const [probes, metrics] = [await freePort(), await freePort()];
      pods.push({ name, probes });
      await startPod({
        name,
        namespace,
        apiServer: new URL(cp.server),
        serviceAccountDir,
        gracePeriodSeconds: GRACE_SECONDS,
        // The Deployment's arguments, its ports moved (the containers share the host's network), the watch kept
        // to this test's namespace (the control plane is shared with other test files).
        args: [
          'run',
          '--leader-elect',
          `--metrics-bind-address=127.0.0.1:${metrics}`,
          `--health-probe-bind-address=127.0.0.1:${probes}`,
          '--graceful-shutdown-timeout=20s',
          '--namespace',
          namespace,
        ],
      });
    }
  });

  after(async () => {
    await removePods(pods.map((p) => p.name));
    removeServiceAccountVolume(serviceAccountDir);
    await emulator?.close();
    if (namespace) {
      await kubectl(cp.kubeconfig, ['delete', 'namespace', namespace, '--wait=false']);
      await kubectl(cp.kubeconfig, [
        'delete',
        'clusterrole,clusterrolebinding',
        `iot-security-operator-${namespace}`,
      ]);
    }
  });

  it('runs as the non-root user 65532 on a root file system it cannot write', async () => {
    const [pod] = pods;
    const user = await podman(['exec', pod!.name, '/usr/local/bin/node', '-p', 'process.getuid()']);
    assert.equal(user.stdout.trim(), '65532', user.stderr);
    const write = await podman([
      'exec',
      pod!.name,
      '/usr/local/bin/node',
      '-e',
      "for (const f of ['/app/x', '/tmp/x']) try { require('fs').writeFileSync(f, 'x'); console.log(f, 'written') } catch (e) { console.log(f, e.code) }",
    ]);
    assert.equal(write.stdout.trim(), '/app/x EROFS\n/tmp/x EROFS', write.stderr);
    const shell = await podman(['exec', pod!.name, '/bin/sh', '-c', 'true']);
    assert.notEqual(shell.code, 0, 'the image has no shell');
  });

  it('elects one leader among the two containers, and both answer their probes', async () => {
    await settle(async () => (await leader()) !== undefined, 60_000, 'a leader');
    const lead = (await leader())!;
    const standby = pods.find((p) => p !== lead)!;
    await settle(
      async () => (await probe(standby, '/readyz')).body.includes('standby'),
      30_000,
      'the standby ready',
    );
    for (const pod of pods) assert.equal((await probe(pod, '/healthz')).status, 200, `${pod.name} /healthz`);
    const ready = await probe(lead, '/readyz');
    assert.equal(ready.status, 200);
    assert.match(ready.body, /leader/);
  });

  it('converges the fleet on the hub from inside the container', async () => {
    await applyObjects(cp.kubeconfig, [
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
        const smc = JSON.parse(
          await kubectlOk(cp.kubeconfig, ['get', 'smc', 'baseline', '-n', namespace, '-o', 'json']),
        );
        return smc.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
      },
      90_000,
      'the SecurityModuleConfig Ready',
    );
    assert.deepEqual((await desired(emulator, 'pod-0')).snapshotFrequency, { value: 'PT2H' });
    assert.deepEqual((await desired(emulator, `pod-${DEVICES - 1}`)).snapshotFrequency, { value: 'PT2H' });
  });

  it('stops cleanly on SIGTERM within the grace period, the other container taking the Lease', async () => {
    const first = (await leader())!;
    const second = pods.find((p) => p !== first)!;
    const state = await stop(first.name);
    // podman stop sends SIGKILL when the grace period runs out, which would show as 137.
    assert.equal(state.ExitCode, 0, `${first.name} exited ${state.ExitCode}\n${await podLog(first.name)}`);
    assert.match(await podLog(first.name), /released the leader lease/);
    await settle(async () => (await leader()) === second, 30_000, `${second.name} to lead`);
    await settle(
      async () => (await probe(second, '/readyz')).body.includes('leader'),
      30_000,
      'ready as leader',
    );

    const last = await stop(second.name);
    assert.equal(last.ExitCode, 0, `${second.name} exited ${last.ExitCode}\n${await podLog(second.name)}`);
    assert.equal(await holder(), '', 'the Lease released by the last holder');
  });
});
