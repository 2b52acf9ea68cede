// The local Kubernetes control plane built by `make control-plane` (kube-apiserver on an embedded etcd, and
// kubectl of the same version): started for the demo and the tests, stopped with its parent.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageFolder } from '../package-folder.js';

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
  /**
   * An address of this machine for pods on a local node to reach the API server at (through the kubernetes
   * Service); it also turns on ServiceAccount admission. Unset: loopback only (test/support/local-node.ts).
   */
  advertiseAddress?: string;
}

/** Where `make control-plane` puts the binaries, or undefined when it has not run. */
export function controlPlaneBin(): string | undefined {
  try {
    return join(
      packageFolder('.control-plane', (f) => f === 'bin'),
      'bin',
    );
  } catch {
    return undefined;
  }
}

export function controlPlaneBuilt(): boolean {
  const bin = controlPlaneBin();
  return (
    bin !== undefined && existsSync(join(bin, 'local-control-plane')) && existsSync(join(bin, 'kubectl'))
  );
}

/** The kubectl to use: the one built with the control plane (same version as its API server), else PATH's. */
export function kubectlPath(): string {
  const bin = controlPlaneBin();
  return bin && existsSync(join(bin, 'kubectl')) ? join(bin, 'kubectl') : 'kubectl';
}

/** Starts a control plane and resolves when /readyz answers ok. It stops when this process exits. */
export async function startControlPlane(options: StartOptions = {}): Promise<RunningControlPlane> {
  const bin = controlPlaneBin();
  if (!bin || !controlPlaneBuilt())
    throw new Error(
      "the local control plane is not built: run 'make control-plane' first (the first build takes minutes)",
    );
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'control-plane-'));
  const log = openSync(join(dataDir, 'control-plane.log'), 'a');
  const args = ['--data-dir', dataDir];
  if (options.securePort) args.push('--secure-port', String(options.securePort));
  if (options.advertiseAddress) args.push('--advertise-address', options.advertiseAddress);
  // Standard input is a pipe: when this process ends, however it ends, the control plane stops too.
  const child = spawn(join(bin, 'local-control-plane'), args, { stdio: ['pipe', 'pipe', log] });
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

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl with `kubeconfig` (undefined: kubectl's own default), `input` on its standard input. */
export function runKubectl(
  kubeconfig: string | undefined,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  return new Promise((done) => {
    const child = execFile(
      kubectlPath(),
      kubeconfig ? ['--kubeconfig', kubeconfig, ...args] : args,
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
    // kubectl may exit before it reads its input (a refused flag, a server it cannot reach): the write then fails
    // with EPIPE, and its exit code and stderr already say what happened.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}
