// The operator's container image under podman, for test/install/image.test.ts: whether it can be had here (podman
// on the PATH and `make image`'s script building it), and containers of it run as a Kubernetes pod would be.
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../support/kube.js';
import { type ProcessResult, type RunOptions, runToEnd } from '../support/run-to-end.js';
import { keepOutput } from '../support/suite-output.js';

export const IMAGE = 'localhost/iot-security-operator:test';
/** Where a pod has its ServiceAccount's token, the cluster's CA and its namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
// crun refuses the cgroup v1 hybrid layout of some kernels; runc runs everywhere podman does.
const PODMAN = ['podman', '--runtime', 'runc'];

export type Run = ProcessResult;

/** Runs `command` to its end (killed after `options.timeoutMs`, if given). */
export const run = (command: string[], options: RunOptions = {}): Promise<Run> =>
  runToEnd(command[0]!, command.slice(1), options);

export const podman = (args: string[]): Promise<Run> => run([...PODMAN, ...args]);

/** What building the image needs, as scripts/build-image.sh uses it. */
const PREREQUISITES = ['podman', 'runc', 'mmdebstrap'];
/** A cold build (Debian bases, npm ci) takes about 2 minutes here; one that takes 15 is stuck. */
const BUILD_TIMEOUT_MS = 15 * 60_000;

/**
 * Why the image cannot be tested here (not root, or a tool it needs missing), or undefined once it is built (cached:
 * seconds when nothing changed). Where everything it needs is present, a build that fails is an error, not a reason
 * to skip: the test then fails with the build's last lines.
 */
export async function imageUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'building the image needs root (mmdebstrap, podman import)';
  const missing = [];
  for (const tool of PREREQUISITES) if ((await run([tool, '--version'])).code === 127) missing.push(tool);
  if (missing.length > 0)
    return `${missing.join(', ')} not installed (apt-get install podman runc mmdebstrap)`;
  const built = await run(['bash', join(REPO, 'scripts/build-image.sh')], {
    env: { ...process.env, IMAGE },
    timeoutMs: BUILD_TIMEOUT_MS,
  });
  if (built.code !== 0)
    throw new Error(
      `scripts/build-image.sh exited ${built.code}${built.code === 137 ? ' (killed after 15 minutes)' : ''}: ${built.stderr.trim().split('\n').slice(-8).join('\n')}`,
    );
  return undefined;
}

/** A free TCP port on the loopback interface, for a container on the host's network to listen on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * What the kubelet mounts at SERVICE_ACCOUNT_DIR: the token, the cluster's CA and the namespace, readable by the
 * container's non-root user.
 */
export function serviceAccountVolume(token: string, caFile: string, namespace: string): string {
  // World-readable for the container's user, so the caller removes it (removeServiceAccountVolume) when done.
  const dir = mkdtempSync(join(tmpdir(), 'serviceaccount-'));
  writeFileSync(join(dir, 'token'), token);
  copyFileSync(caFile, join(dir, 'ca.crt'));
  writeFileSync(join(dir, 'namespace'), namespace);
  for (const file of ['token', 'ca.crt', 'namespace']) chmodSync(join(dir, file), 0o644);
  chmodSync(dir, 0o755);
  return dir;
}

export interface PodSpec {
  name: string;
  namespace: string;
  /** The API server's address, as the kubelet gives it in KUBERNETES_SERVICE_HOST and _PORT. */
  apiServer: URL;
  serviceAccountDir: string;
  args: string[];
  gracePeriodSeconds: number;
}

/**
 * Starts a container as the chart's Deployment runs the operator: the image's user (65532), a read-only root file
 * system with nothing writable mounted over it, every capability dropped, no privilege escalation, the in-cluster
 * configuration, POD_NAME and POD_NAMESPACE, JSON logs, the heap cap. On the host's network: its ports are the
 * ones its arguments name.
 */
export async function startPod(pod: PodSpec): Promise<void> {
  const started = await podman([
    'run',
    '--detach',
    '--name',
    pod.name,
    '--network',
    'host',
    '--read-only',
    '--read-only-tmpfs=false',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--ulimit',
    'nofile=1024:1024',
    '--ulimit',
    'nproc=4096:4096',
    '--stop-timeout',
    String(pod.gracePeriodSeconds),
    '--volume',
    `${pod.serviceAccountDir}:${SERVICE_ACCOUNT_DIR}:ro`,
    '--env',
    `KUBERNETES_SERVICE_HOST=${pod.apiServer.hostname}`,
    '--env',
    `KUBERNETES_SERVICE_PORT=${pod.apiServer.port}`,
    '--env',
    `POD_NAME=${pod.name}`,
    '--env',
    `POD_NAMESPACE=${pod.namespace}`,
    '--env',
    'LOG_FORMAT=json',
    '--env',
    'NODE_OPTIONS=--max-old-space-size=512',
    IMAGE,
    ...pod.args,
  ]);
  if (started.code !== 0) throw new Error(`podman run ${pod.name} failed: ${started.stderr}`);
}

/** The container's log (the operator logs to standard error). */
export function removeServiceAccountVolume(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export async function podLog(name: string): Promise<string> {
  const logs = await podman(['logs', name]);
  return `${logs.stdout}${logs.stderr}`;
}

/** The container's state as podman inspect reports it. */
export async function podState(
  name: string,
): Promise<{ Status: string; ExitCode: number; Running: boolean } | undefined> {
  const inspected = await podman(['inspect', '--format', '{{json .State}}', name]);
  return inspected.code === 0 ? JSON.parse(inspected.stdout) : undefined;
}

/** Removes the containers, their logs first kept for the suite's secrets scan (test/support/suite-output.ts). */
export async function removePods(names: string[]): Promise<void> {
  for (const name of names) keepOutput(`container-${name}`, await podLog(name));
  if (names.length > 0) await podman(['rm', '--force', '--time', '0', ...names]);
}
