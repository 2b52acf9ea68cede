// Kubernetes clients for tests against the local control plane, and the project's CRDs installed in it.
import { join, resolve } from 'node:path';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { type ControlPlaneInfo, kubectl, kubectlOk } from './control-plane.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const CRDS = join(REPO, 'crds');
export const EXAMPLES = join(REPO, 'examples');
export const GROUP = 'iotsecurity.io';
export const VERSION = 'v1alpha1';

export function kubeConfigOf(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

export function customObjects(kubeconfigPath: string): CustomObjectsApi {
  return kubeConfigOf(kubeconfigPath).makeApiClient(CustomObjectsApi);
}

export { apiMessage } from '../../src/controller/api-errors.js';
export { httpStatusOf } from '../../src/runtime/http-status.js';

let installed: Promise<void> | undefined;

/**
 * Applies crds/ and waits until both CRDs are established. Several test files may do this at once: server-side
 * apply of the same content is idempotent, and a conflict is retried.
 */
export function installCrds(cp: ControlPlaneInfo): Promise<void> {
  installed ??= (async () => {
    for (let attempt = 1; ; attempt++) {
      const applied = await kubectl(cp.kubeconfig, [
        'apply',
        '--server-side',
        '--force-conflicts',
        '--field-manager=tests',
        '-f',
        CRDS,
      ]);
      if (applied.code === 0) break;
      if (attempt >= 5) throw new Error(`kubectl apply -f crds/ failed: ${applied.stderr}`);
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
    await kubectlOk(cp.kubeconfig, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      `crd/iothubs.${GROUP}`,
      `crd/securitymoduleconfigs.${GROUP}`,
      `crd/twinconfigs.${GROUP}`,
    ]);
  })();
  return installed;
}
