// The controller contender: one local control plane for the whole benchmark, and per run an operator process
// watching a namespace of its own, where the hub's Secret and IoTHub (and whatever the resource reads, such as a
// ConfigMap) are applied and the hub reconciled once before the measurement starts.
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { makeKubeApi } from '../../src/controller/kube-http.js';
import {
  type RunningControlPlane,
  runKubectl,
  startControlPlane,
} from '../../src/demo/local-control-plane.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { emulatorCredentials, hubSecret, iotHub } from '../../test/support/resources.js';
import { REPO, type RunningProcess, runOperator } from './contenders.js';
import { sleep, TIER } from './harness.js';

/** The resource a controller run rolls out. */
export interface ControllerResource {
  /** Its CRD's plural and its name, to tell when it is Ready. */
  plural: string;
  name: string;
  /** Objects it reads, applied with the hub's before the measurement (a ConfigMap of models). */
  prerequisites?(namespace: string): object[];
  /** The resource rolling out `value`. */
  object(value: unknown, namespace: string): object;
}

export interface ControllerRun {
  operator: RunningProcess;
  namespace: string;
  kubeconfig: string;
  /** Applies the resource with `value`. */
  apply(value: unknown): Promise<void>;
  /** Resolves when the resource's status is Ready for its current generation. */
  ready(): Promise<void>;
}

let controlPlane: RunningControlPlane | undefined;
let runs = 0;

export async function stopControlPlane(): Promise<void> {
  await controlPlane?.stop();
  controlPlane = undefined;
}

/** An operator watching `namespace` (a new one by default), warm: it has read the hub once already. */
export async function controllerRun(
  emulator: RunningEmulator,
  resource: ControllerResource,
  reuse?: string,
): Promise<ControllerRun> {
  controlPlane ??= await startControlPlane();
  const kubeconfig = controlPlane.info.kubeconfig;
  const namespace = reuse ?? `bench-${++runs}`;
  await runKubectl(kubeconfig, ['apply', '-f', join(REPO, 'crds')]);
  await runKubectl(kubeconfig, [
    'wait',
    '--for=condition=Established',
    'crd/securitymoduleconfigs.iotsecurity.io',
    'crd/twinconfigs.iotsecurity.io',
    '--timeout=60s',
  ]);
  if (!reuse) await runKubectl(kubeconfig, ['create', 'namespace', namespace]);
  const objects = [
    hubSecret('creds', emulatorCredentials(emulator), { namespace }),
    iotHub(
      'hub',
      { connectionStringSecretRef: { name: 'creds' }, caSecretRef: { name: 'creds' }, ...TIER },
      { namespace },
    ),
    ...(resource.prerequisites?.(namespace) ?? []),
  ];
  await runKubectl(kubeconfig, ['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
  const operator = runOperator(kubeconfig, namespace);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = makeKubeApi(kc, CustomObjectsApi);
  const target = { group: 'iotsecurity.io', version: 'v1alpha1', namespace };
  // Warm: this operator has reconciled the hub (read its snapshot) before the measurement starts.
  const warm = `warm-${Date.now()}`;
  await runKubectl(kubeconfig, [
    'annotate',
    'hub',
    'hub',
    '-n',
    namespace,
    '--overwrite',
    `iotsecurity.io/reconcile-requested-at=${warm}`,
  ]);
  for (;;) {
    const hubObject = (await api.getNamespacedCustomObject({
      ...target,
      plural: 'iothubs',
      name: 'hub',
    })) as any;
    if (
      hubObject.status?.lastHandledReconcileAt === warm &&
      hubObject.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')
    )
      break;
    await sleep(100);
  }
  await sleep(300);
  emulator.hub.stats.reset();
  const apply = async (value: unknown) => {
    await runKubectl(kubeconfig, ['apply', '-f', '-'], {
      input: JSON.stringify(resource.object(value, namespace)),
    });
  };
  const ready = async () => {
    for (;;) {
      const object = (await api
        .getNamespacedCustomObject({ ...target, plural: resource.plural, name: resource.name })
        .catch(() => undefined)) as any;
      if (
        object?.status?.observedGeneration === object?.metadata?.generation &&
        object?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')
      )
        return;
      await sleep(50);
    }
  };
  return { operator, apply, ready, namespace, kubeconfig };
}

/** Requests a reconcile of the hub by hand (as `kubectl annotate` does); returns the request, which the hub's
 * status.lastHandledReconcileAt says once handled. */
export async function requestReconcile(
  run: Pick<ControllerRun, 'kubeconfig' | 'namespace'>,
): Promise<string> {
  const requested = String(Date.now());
  await runKubectl(run.kubeconfig, [
    'annotate',
    'hub',
    'hub',
    '-n',
    run.namespace,
    '--overwrite',
    `iotsecurity.io/reconcile-requested-at=${requested}`,
  ]);
  return requested;
}
