// End to end, as a user runs it: the real API server, the operator as a separate process (node dist/...), the
// emulated hub, and kubectl of the API server's version. The examples as shipped (in a namespace of the test),
// an edit rolled out in batches, a delete, a wrong key and its fix, watches dropped mid-rollout, the operator
// killed mid-rollout and restarted (no twin written twice), and a resource of another namespace kept out.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demoResources } from '../../src/demo/operator-demo.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import {
  type ControlPlaneInfo,
  kubectl,
  kubectlOk,
  sharedControlPlane,
  testNamespace,
} from '../support/control-plane.js';
import { desired, emulatorClient, startHubEmulator } from '../support/emulator-support.js';
import { EXAMPLES, installCrds } from '../support/kube.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { agentReported } from '../support/planner-fixtures.js';
import { kubeconfigVia, TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

const DEVICES = 300;
/** Devices the lab example lists; its snapshotFrequency wins over the baseline's there. */
const LAB_DEVICES = 3;

/** The examples as shipped, the Secret pointing at the emulator, in `namespace` (what `make demo` applies). */
function examples(namespace: string, emulator: RunningEmulator): any[] {
  return demoResources(EXAMPLES, emulator, { namespace, tier: 'S3', units: 10 });
}

const ready = (o: any) => o?.status?.conditions?.find((c: any) => c.type === 'Ready');

describe('the operator end to end', () => {
  let cp: ControlPlaneInfo;
  let emulator: RunningEmulator;
  let namespace: string;
  let other: string;
  let proxy: TcpProxy;
  let kubeconfigViaProxy: string;
  let operator: OperatorProcess | undefined;

  const k = (args: string[], input?: string) => kubectl(cp.kubeconfig, args, { input });
  const get = async (kind: string, name: string, ns = namespace) => {
    const result = await k(['get', kind, name, '-n', ns, '-o', 'json']);
    return result.code === 0 ? JSON.parse(result.stdout) : undefined;
  };
  const startOperator = () => {
    operator = startOperatorProcess([
      '--kubeconfig',
      kubeconfigViaProxy,
      '--namespace',
      namespace,
      '--namespace',
      other,
      // A fixed Secret is read again within this (1m by default): the test waits for what follows, not a minute.
      '--secret-recheck-interval',
      '1s',
    ]);
    return operator;
  };
  const waitReady = async (name: string, timeoutMs = 60_000) => {
    const waited = await kubectl(
      cp.kubeconfig,
      ['wait', '--for=condition=Ready', `smc/${name}`, '-n', namespace, `--timeout=${timeoutMs / 1000}s`],
      {
        timeoutMs: timeoutMs + 5000,
      },
    );
    assert.equal(
      waited.code,
      0,
      `${name} not Ready: ${waited.stderr}\n${JSON.stringify((await get('smc', name))?.status)}`,
    );
  };

  before(async () => {
    cp = await sharedControlPlane();
    emulator = await startHubEmulator({
      tier: 'S3',
      devices: DEVICES,
      offlineRatio: 0.03,
      agentDelay: { min: 50, max: 400 },
    });
    await emulator.agentsIdle();
    const crds = await kubectl(cp.kubeconfig, ['apply', '-f', join(EXAMPLES, '../crds')]);
    assert.equal(crds.code, 0, crds.stderr);
    await installCrds(cp);
    namespace = await testNamespace(cp, 'e2e');
    other = await testNamespace(cp, 'e2e-other');
    proxy = TcpProxy.forServer(cp.server);
    const server = await proxy.listen();
    kubeconfigViaProxy = join(tmpdir(), `e2e-${process.pid}.kubeconfig`);
    writeFileSync(kubeconfigViaProxy, kubeconfigVia(readFileSync(cp.kubeconfig, 'utf8'), server), {
      mode: 0o600,
    });
    startOperator();
  });
  after(async () => {
    await operator?.stop();
    await proxy.close();
    await emulator.close();
  });

  it('takes the examples as shipped to Ready, with the counts the hub shows', async () => {
    const applied = await k(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: examples(namespace, emulator) }),
    );
    assert.equal(applied.code, 0, applied.stderr);
    for (const name of ['fleet-baseline', 'site-amsterdam-strict', 'lab-gateways-debug'])
      await waitReady(name);

    const table = await kubectlOk(cp.kubeconfig, ['get', 'smc', '-n', namespace]);
    const row = table
      .split('\n')
      .find((l) => l.startsWith('fleet-baseline'))!
      .split(/\s+/);
    const baseline = await get('smc', 'fleet-baseline');
    assert.equal(row[3], String(baseline.status.targetedDevices));
    assert.equal(row[4], String(baseline.status.convergedDevices));
    assert.equal(row[5], 'True');
    const hub = await get('hub', 'fleet-hub');
    assert.equal(hub.status.devices, DEVICES);

    // The counts are the hub's: every online production or staging device reports the baseline.
    const client = emulatorClient(emulator, { tier: 'S3' });
    const snapshot = await client.readSnapshot([SECURITY_MODULE_ID]);
    client.close();
    const targeted = snapshot.devices.filter((d) =>
      ['production', 'staging'].includes(String(d.tags.environment)),
    );
    assert.equal(baseline.status.targetedDevices, targeted.length);
    const online = targeted.filter((d) => d.connectionState === 'Connected');
    assert.equal(baseline.status.convergedDevices + baseline.status.offlineDevices, targeted.length);
    const reporting = online.filter((d) => {
      const reported = agentReported(snapshot.twins.get(SECURITY_MODULE_ID)!.get(d.deviceId)) as any;
      return reported?.snapshotFrequency?.value === 'PT12H' || reported?.snapshotFrequency?.value === 'PT1H';
    });
    assert.equal(reporting.length, online.length, 'every online targeted agent reported the configuration');
  });

  it('rolls an edit out in batches', async () => {
    const edit = examples(namespace, emulator).find((d) => d.metadata.name === 'fleet-baseline');
    edit.spec.agentConfiguration.snapshotFrequency = 'PT11H';
    await kubectlOk(cp.kubeconfig, ['apply', '-f', '-'], JSON.stringify(edit));
    await waitReady('fleet-baseline');
    const events = await kubectlOk(cp.kubeconfig, [
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      'involvedObject.name=fleet-baseline',
      '-o',
      'json',
    ]);
    const reasons = JSON.parse(events).items.map((e: any) => e.reason);
    assert.ok(reasons.filter((r: string) => r === 'RolloutStarted').length >= 2, 'a rollout per revision');
    assert.ok(reasons.includes('BatchAdvanced'), 'batches of 25%');
    const status = (await get('smc', 'fleet-baseline')).status;
    // The lab layer (priority 100) sets its own snapshotFrequency on its 3 devices: no write is needed there.
    assert.equal(status.rollout.reachedDevices, status.targetedDevices - LAB_DEVICES);
  });

  it('survives watches dropped mid-rollout, and a SIGKILL mid-rollout, writing no twin twice', async () => {
    const edit = examples(namespace, emulator).find((d) => d.metadata.name === 'fleet-baseline');
    edit.spec.agentConfiguration.snapshotFrequency = 'PT10H';
    emulator.hub.stats.reset();
    await kubectlOk(cp.kubeconfig, ['apply', '-f', '-'], JSON.stringify(edit));
    // Drop every connection of the operator while the first batches go out, then kill it outright.
    await until(() => emulator.hub.stats.count('twinUpdate', 200) > 0, 20_000, 'the first writes');
    proxy.dropAll();
    await until(() => emulator.hub.stats.count('twinUpdate', 200) > 60, 20_000, 'a second batch');
    proxy.dropAll();
    await operator!.kill();
    const writtenBeforeKill = emulator.hub.stats.count('twinUpdate', 200);
    assert.ok(writtenBeforeKill < 200, `killed mid-rollout (${writtenBeforeKill} of 270 twins written)`);
    startOperator();
    await waitReady('fleet-baseline', 90_000);
    const counts = Object.entries(emulator.hub.stats.snapshot().twinUpdates).filter(([twin]) =>
      twin.endsWith('/azureiotsecurity'),
    );
    const twice = counts.filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no twin written twice');
    const baseline = await get('smc', 'fleet-baseline');
    assert.equal(
      counts.length,
      baseline.status.targetedDevices - LAB_DEVICES,
      'every twin that needed it written once',
    );
    assert.equal((await desired(emulator, counts[0][0].split('/')[0])).snapshotFrequency?.value, 'PT10H');
  });

  it('removes the settings of a deleted resource before the finalizer lets go', async () => {
    const lab = await get('smc', 'lab-gateways-debug');
    assert.ok(lab.metadata.finalizers.includes('iotsecurity.io/finalizer'));
    assert.equal((await desired(emulator, 'device-000001')).snapshotFrequency?.value, 'PT1H');
    const deleted = await k(['delete', 'smc', 'lab-gateways-debug', '-n', namespace, '--timeout=60s']);
    assert.equal(deleted.code, 0, deleted.stderr);
    const after = await desired(emulator, 'device-000001');
    assert.notEqual(after.snapshotFrequency?.value, 'PT1H', 'the lab setting is gone');
    assert.equal(after.eventPriorityProcessTerminate, undefined);
  });

  it('says Unauthorized for a wrong key and recovers when the Secret is fixed, without a restart', async () => {
    const secret = examples(namespace, emulator).find((d) => d.kind === 'Secret');
    const good = secret.stringData.connectionString;
    secret.stringData.connectionString = good.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.alloc(32, 9).toString('base64')}`,
    );
    await kubectlOk(cp.kubeconfig, ['apply', '-f', '-'], JSON.stringify(secret));
    // The Secret changing is enough: no annotation, no restart.
    await until(
      async () => ready(await get('hub', 'fleet-hub'))?.reason === 'Unauthorized',
      30_000,
      'Unauthorized',
    );
    await until(
      async () => ready(await get('smc', 'fleet-baseline'))?.reason === 'Unauthorized',
      30_000,
      'the resource to say so',
    );
    secret.stringData.connectionString = good;
    await kubectlOk(cp.kubeconfig, ['apply', '-f', '-'], JSON.stringify(secret));
    await until(
      async () => ready(await get('hub', 'fleet-hub'))?.status === 'True',
      30_000,
      'the hub to recover',
    );
    await waitReady('fleet-baseline');
    assert.doesNotMatch(operator!.log(), /SharedAccessKey=[A-Za-z0-9+/]{8}/, 'no key in the log');
  });

  it("keeps a resource of another namespace away from this namespace's hub", async () => {
    const intruder = examples(other, emulator).find((d) => d.metadata.name === 'site-amsterdam-strict');
    await kubectlOk(cp.kubeconfig, ['apply', '-f', '-'], JSON.stringify(intruder));
    await until(
      async () => ready(await get('smc', 'site-amsterdam-strict', other))?.reason === 'HubNotFound',
      30_000,
      'HubNotFound',
    );
    assert.equal((await get('smc', 'site-amsterdam-strict', other)).status.targetedDevices, undefined);
  });

  it('stops cleanly on SIGTERM', async () => {
    const code = await operator!.stop();
    assert.equal(code, 0);
    assert.match(operator!.log(), /"message":"stopped"/);
    operator = undefined;
  });
});
