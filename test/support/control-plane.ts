// A real Kubernetes control plane for tests: kube-apiserver on an embedded etcd, built by `make control-plane`
// from tools/local-control-plane. One is shared by a whole test run (scripts/with-control-plane.ts starts it and
// passes it in LOCAL_CONTROL_PLANE); a test file run alone starts its own. Each test file works in a namespace
// of its own.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const CONTROL_PLANE_BIN = resolve(import.meta.dirname, '../../.control-plane/bin');
export const KUBECTL = join(CONTROL_PLANE_BIN, 'kubectl');
const SERVER_BIN = join(CONTROL_PLANE_BIN, 'local-control-plane');
export const CONTROL_PLANE_ENV = 'LOCAL_CONTROL_PLANE';

/** What the control plane prints when it is ready. */
export interface ControlPlaneInfo {
  server: string;
  kubeconfig: string;
  caFile: string;
  dataDir: string;
  version: string;
}

export interface RunningControlPlane {
  info: ControlPlaneInfo;
  process: ChildProcess;
  /** Stops it (SIGTERM: API server, then etcd) and waits for the process to end. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Keeps etcd's data (and the certificates) here; a restart on the same folder and port keeps the state. */
  dataDir?: string;
  securePort?: number;
}

export function controlPlaneBuilt(): boolean {
  return existsSync(SERVER_BIN) && existsSync(KUBECTL);
}

/** Starts a control plane and resolves when /readyz answers ok. It stops when this process exits. */
export async function startControlPlane(options: StartOptions = {}): Promise<RunningControlPlane> {
  if (!controlPlaneBuilt())
    throw new Error(
      `${SERVER_BIN} is missing: run 'make control-plane' first (the first build takes minutes)`,
    );
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'control-plane-'));
  const log = openSync(join(dataDir, 'control-plane.log'), 'a');
  const args = ['--data-dir', dataDir];
  if (options.securePort) args.push('--secure-port', String(options.securePort));
  // Standard input is a pipe: when this process ends, however it ends, the control plane stops too.
  const child = spawn(SERVER_BIN, args, { stdio: ['pipe', 'pipe', log] });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const info = await new Promise<ControlPlaneInfo>((ready, fail) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => ready(JSON.parse(line) as ControlPlaneInfo));
    exited.then((code) =>
      fail(
        new Error(
          `local-control-plane exited with ${code} before it was ready; see ${dataDir}/control-plane.log`,
        ),
      ),
    );
  });
  return {
    info,
    process: child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

let shared: Promise<ControlPlaneInfo> | undefined;

/** The control plane of this test run: the one LOCAL_CONTROL_PLANE names, or one started for this process. */
export function sharedControlPlane(): Promise<ControlPlaneInfo> {
  shared ??= (async () => {
    const given = process.env[CONTROL_PLANE_ENV];
    if (given) return JSON.parse(given) as ControlPlaneInfo;
    const started = await startControlPlane();
    // Not awaited by anyone: the pipe closing at exit stops it; unref so it keeps no test process alive.
    started.process.unref();
    (started.process.stdin as unknown as { unref?: () => void })?.unref?.();
    (started.process.stdout as unknown as { unref?: () => void })?.unref?.();
    return started.info;
  })();
  return shared;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the kubectl built with the control plane (same version as the API server). */
export function kubectl(
  kubeconfig: string,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  return new Promise((done) => {
    const child = execFile(
      KUBECTL,
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** kubectl that must succeed: resolves with its standard output, or rejects with its standard error. */
export async function kubectlOk(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const result = await kubectl(kubeconfig, args, { input });
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

let namespaces = 0;

/** A new namespace for one test file (the name says which, and is unique across processes). */
export async function testNamespace(cp: ControlPlaneInfo, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${++namespaces}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63);
  await kubectlOk(cp.kubeconfig, ['create', 'namespace', name]);
  return name;
}

/**
 * A kubeconfig that authenticates as ServiceAccount `name` of `namespace` with a token from the TokenRequest
 * API: it has exactly the rights RBAC grants that account. The account is created when missing.
 */
export async function serviceAccountKubeconfig(
  cp: ControlPlaneInfo,
  namespace: string,
  name: string,
  options: { duration?: string } = {},
): Promise<string> {
  const exists = await kubectl(cp.kubeconfig, ['get', 'serviceaccount', name, '-n', namespace]);
  if (exists.code !== 0) await kubectlOk(cp.kubeconfig, ['create', 'serviceaccount', name, '-n', namespace]);
  const token = (
    await kubectlOk(cp.kubeconfig, [
      'create',
      'token',
      name,
      '-n',
      namespace,
      `--duration=${options.duration ?? '2h'}`,
    ])
  ).trim();
  const dir = mkdtempSync(join(tmpdir(), 'sa-kubeconfig-'));
  const path = join(dir, 'kubeconfig');
  const config = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    '  cluster:',
    `    server: ${cp.server}`,
    `    certificate-authority: ${cp.caFile}`,
    'users:',
    `- name: ${name}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: local',
    '  context:',
    '    cluster: local',
    `    user: ${name}`,
    `    namespace: ${namespace}`,
    'current-context: local',
    '',
  ].join('\n');
  writeFileSync(path, config, { mode: 0o600 });
  return path;
}
