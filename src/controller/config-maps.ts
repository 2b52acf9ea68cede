// The ConfigMaps TwinConfigs name for their schema or model, read by GET from the API server: only those named,
// never a list or a watch of every ConfigMap (the operator's rights on ConfigMaps are `get` alone). Read once per
// reconcile; a missing one is looked for again at the next reconcile, which comes soon while one is missing. A
// ConfigMap that cannot be read holds only the TwinConfigs that name it: the others of the hub go on.
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { httpStatusOf } from '../runtime/http-status.js';
import { getFailureMessage } from './api-errors.js';
import { KubeCallError } from './kube-writer.js';

/**
 * A ConfigMap's data (and resourceVersion, which says when it changed), or why there is none: it does not exist
 * (404), or it could not be read (`unreadable`: a refusal, a failure of the API server, no answer).
 */
export type ConfigMapRead =
  | { found: true; data: Record<string, string>; resourceVersion?: string }
  | { found: false; unreadable?: KubeCallError };

export class ConfigMapReader {
  constructor(
    private readonly api: CoreV1Api,
    private readonly logger?: Logger,
  ) {}

  /**
   * The ConfigMaps `namespace/name` (each read once); a 404 is `found: false`. Other failures are `unreadable`, a
   * KubeCallError carrying the status, so that the reconciler tells an unreachable API server apart.
   */
  async readAll(namespace: string, names: Iterable<string>): Promise<Map<string, ConfigMapRead>> {
    const out = new Map<string, ConfigMapRead>();
    for (const name of new Set(names)) {
      try {
        const map = await this.api.readNamespacedConfigMap({ name, namespace });
        out.set(name, {
          found: true,
          data: { ...(map.data ?? {}) },
          resourceVersion: map.metadata?.resourceVersion,
        });
      } catch (error) {
        const status = httpStatusOf(error) ?? 0;
        if (status === 404) {
          out.set(name, { found: false });
          continue;
        }
        const message = getFailureMessage(error, 'ConfigMap', 'configmaps', namespace, name);
        this.logger?.warn(message, { kind: 'ConfigMap', name, namespace, status });
        out.set(name, { found: false, unreadable: new KubeCallError(status, message) });
      }
    }
    return out;
  }
}
