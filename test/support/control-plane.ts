// A real Kubernetes control plane for tests: kube-apiserver on an embedded etcd, built by `make control-plane`
// from tools/local-control-plane. One is shared by a whole test run (scripts/with-control-plane.ts starts it and
// passes it in LOCAL_CONTROL_PLANE); a test file run alone starts its own. Each test file works in a namespace
// of its own.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ControlPlaneInfo,
  type KubectlResult,
  kubectlPath,
  runKubectl,
  startControlPlane,
} from '../../src/demo/local-control-plane.js';

export {
  type ControlPlaneInfo,
  controlPlaneBuilt,
  type KubectlResult,
  type RunningControlPlane,
  startControlPlane,
} from '../../src/demo/local-control-plane.js';
export const KUBECTL = kubectlPath();
export const CONTROL_PLANE_ENV = 'LOCAL_CONTROL_PLANE';

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

/** Runs the kubectl built with the control plane (same version as the API server). */
export function kubectl(
  kubeconfig: string,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  return runKubectl(kubeconfig, args, options);
}

/** kubectl that must succeed: resolves with its standard output, or rejects with its standard error. */
export async function kubectlOk(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const result = await kubectl(kubeconfig, args, { input });
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** Who holds the Lease `name` in `namespace` (its holderIdentity), or '' when nobody does or it does not exist. */
export async function leaseHolder(kubeconfig: string, namespace: string, name: string): Promise<string> {
  const lease = await kubectl(kubeconfig, [
    'get',
    'lease',
    name,
    '-n',
    namespace,
    '-o',
    'jsonpath={.spec.holderIdentity}',
  ]);
  return lease.code === 0 ? lease.stdout.trim() : '';
}

/** `kubectl apply` of `objects` as one List, which must succeed; `args` go after `apply` (e.g. `-n`, NS). */
export function applyObjects(kubeconfig: string, objects: object[], args: string[] = []): Promise<string> {
  return kubectlOk(
    kubeconfig,
    ['apply', ...args, '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  );
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
 * A token of ServiceAccount `name` of `namespace` from the TokenRequest API (the API server's audience and a lifetime
 * of an hour unless given). The account is created when missing.
 */
export async function serviceAccountToken(
  cp: ControlPlaneInfo,
  namespace: string,
  name: string,
  options: { audience?: string; duration?: string } = {},
): Promise<string> {
  const exists = await kubectl(cp.kubeconfig, ['get', 'serviceaccount', name, '-n', namespace]);
  if (exists.code !== 0) await kubectlOk(cp.kubeconfig, ['create', 'serviceaccount', name, '-n', namespace]);
  const args = ['create', 'token', name, '-n', namespace];
  if (options.audience !== undefined) args.push(`--audience=${options.audience}`);
  if (options.duration !== undefined) args.push(`--duration=${options.duration}`);
  return (await kubectlOk(cp.kubeconfig, args)).trim();
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
  const token = await serviceAccountToken(cp, namespace, name, { duration: options.duration ?? '2h' });
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
