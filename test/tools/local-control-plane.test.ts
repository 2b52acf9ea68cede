// The local control plane as tests use it: it reports itself ready with a working kubeconfig, stops when its
// parent closes its standard input (no orphan), and restarted on its data folder and port keeps its objects.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { kubectl, kubectlOk, startControlPlane } from '../support/control-plane.js';
import { until } from '../support/until.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('local-control-plane', () => {
  it('prints where it listens, serves the version it was built from, and stops when its stdin closes', async () => {
    const cp = await startControlPlane();
    const { info } = cp;
    assert.match(info.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(info.version, /^v1\.\d+\.\d+$/);
    assert.ok(existsSync(info.kubeconfig) && existsSync(info.caFile));
    const version = JSON.parse(await kubectlOk(info.kubeconfig, ['version', '-o', 'json']));
    assert.equal(version.serverVersion.gitVersion, info.version);
    assert.equal(version.clientVersion.gitVersion, info.version, 'kubectl is built from the same release');
    const whoami = await kubectlOk(info.kubeconfig, [
      'auth',
      'whoami',
      '-o',
      'jsonpath={.status.userInfo.groups}',
    ]);
    assert.match(whoami, /system:masters/);

    const pid = cp.process.pid!;
    cp.process.stdin!.end();
    const stopped = await until(() => !alive(pid), 20_000, 'the control plane to stop', 100).then(
      () => true,
      () => false,
    );
    assert.ok(stopped, 'the control plane stopped after its stdin closed');
    assert.equal(cp.process.exitCode, 0);
  });

  it('keeps its objects across a restart on the same data folder and port', async () => {
    const first = await startControlPlane();
    await kubectlOk(first.info.kubeconfig, ['create', 'configmap', 'kept', '--from-literal=a=1']);
    const port = Number(new URL(first.info.server).port);
    await first.stop();
    assert.equal(
      (await kubectl(first.info.kubeconfig, ['get', 'configmap', 'kept'], { timeoutMs: 5000 })).code !== 0,
      true,
    );

    const second = await startControlPlane({ dataDir: first.info.dataDir, securePort: port });
    try {
      assert.equal(second.info.server, first.info.server);
      // The old kubeconfig still works: the certificates are kept with the data.
      const value = await kubectlOk(first.info.kubeconfig, [
        'get',
        'configmap',
        'kept',
        '-o',
        'jsonpath={.data.a}',
      ]);
      assert.equal(value, '1');
    } finally {
      await second.stop();
    }
  });
});
