// What the operator benchmarks (fleet-operator, many-hubs, million) share on the local control plane: the CRDs,
// one namespace per hub with its Secret, IoTHub and the baseline, and when resources are Ready.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { makeKubeApi } from '../../src/controller/kube-http.js';
import { runKubectl } from '../../src/demo/local-control-plane.js';
import { emulatorCredentials, hubSecret, iotHub } from '../../test/support/resources.js';
import { baselineObject, REPO } from './contenders.js';
import { sleep } from './harness.js';

export const GROUP = { group: 'iotsecurity.io', version: 'v1alpha1' };

/** The short commit a checkout is at, to say which code a row measured. */
export function commitOf(repo: string): string {
  try {
    return execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Applies the CRDs and waits until the API server serves them. */
export async function installCrds(kubeconfig: string): Promise<void> {
  await runKubectl(kubeconfig, ['apply', '-f', join(REPO, 'crds')]);
  await runKubectl(kubeconfig, [
    'wait',
    '--for=condition=Established',
    'crd/iothubs.iotsecurity.io',
    'crd/securitymoduleconfigs.iotsecurity.io',
    '--timeout=60s',
  ]);
}

/** Applies objects in one `kubectl apply` (a List). */
export async function applyObjects(kubeconfig: string, objects: object[]): Promise<void> {
  const applied = await runKubectl(kubeconfig, ['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    timeoutMs: 300_000,
  });
  if (applied.code !== 0) throw new Error(`kubectl apply: ${applied.stderr}`);
}

/**
 * One hub in a namespace of its own: the Namespace, the hub's Secret, its IoTHub `hub` (tier, units and any
 * rateLimits in `spec`) and the baseline SecurityModuleConfig on it, rolling out `settings`.
 */
export function hubNamespace(
  hub: { connectionString: string; caCert: string },
  namespace: string,
  spec: Record<string, unknown>,
  settings: Record<string, unknown> = { snapshotFrequency: 'PT8H' },
): object[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    hubSecret('creds', emulatorCredentials(hub), { namespace }),
    iotHub(
      'hub',
      { connectionStringSecretRef: { name: 'creds' }, caSecretRef: { name: 'creds' }, ...spec },
      { namespace },
    ),
    baselineObject(settings, namespace),
  ];
}

/** Ready for its current generation. */
export const isReady = (o: any): boolean =>
  o?.status?.observedGeneration === o?.metadata?.generation &&
  o?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

export function customObjects(kubeconfig: string): CustomObjectsApi {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return makeKubeApi(kc, CustomObjectsApi);
}

/**
 * When each namespace's SecurityModuleConfigs were first seen Ready for their generation (polled every 250 ms), in
 * seconds from `origin`, sorted; stops at `count` or at `deadline` (performance.now()).
 */
export async function readyTimes(
  kubeconfig: string,
  count: number,
  origin: number,
  deadline: number,
): Promise<number[]> {
  const api = customObjects(kubeconfig);
  const ready = new Map<string, number>();
  while (ready.size < count && performance.now() < deadline) {
    const list = (await api
      .listClusterCustomObject({ ...GROUP, plural: 'securitymoduleconfigs' })
      .catch(() => ({ items: [] }))) as { items: any[] };
    for (const o of list.items) {
      const key = o.metadata.namespace;
      if (!ready.has(key) && isReady(o)) ready.set(key, (performance.now() - origin) / 1000);
    }
    await sleep(250);
  }
  return [...ready.values()].sort((a, b) => a - b);
}

/** Every IoTHub and SecurityModuleConfig in the cluster Ready: how many of each are, of how many. */
export async function everythingReady(
  kubeconfig: string,
): Promise<{ ready: number; total: number; notReady: string[] }> {
  const api = customObjects(kubeconfig);
  const notReady: string[] = [];
  let total = 0;
  for (const plural of ['iothubs', 'securitymoduleconfigs']) {
    const list = (await api.listClusterCustomObject({ ...GROUP, plural })) as { items: any[] };
    total += list.items.length;
    for (const o of list.items)
      if (!isReady(o)) notReady.push(`${plural}/${o.metadata.namespace}/${o.metadata.name}`);
  }
  return { ready: total - notReady.length, total, notReady };
}
