// The Kubernetes objects the controller reads and writes, as they come from the API server (metadata filled in,
// status possibly absent), and the names it uses on them.
import type { IoTHub, SecurityModuleConfig } from '../api/generated/types.js';
import { API_GROUP, API_VERSION } from '../api/schemas.js';

export { API_GROUP, API_VERSION };

export const FINALIZER = `${API_GROUP}/finalizer`;
/** Set it (to any new value, e.g. a timestamp) to reconcile now; acknowledged in status.lastHandledReconcileAt. */
export const RECONCILE_REQUESTED_ANNOTATION = `${API_GROUP}/reconcile-requested-at`;
export const CONTROLLER_NAME = 'iot-security-operator';

export type ApiKind = 'IoTHub' | 'SecurityModuleConfig';
export const PLURALS: Record<ApiKind, string> = {
  IoTHub: 'iothubs',
  SecurityModuleConfig: 'securitymoduleconfigs',
};

export interface KubeMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export type HubObject = Omit<IoTHub, 'metadata'> & { metadata: KubeMeta };
export type ConfigObject = Omit<SecurityModuleConfig, 'metadata'> & { metadata: KubeMeta };
export type ApiObject = HubObject | ConfigObject;

export interface SecretObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeMeta;
  /** Values base64-encoded, as the API returns them. */
  data?: Record<string, string>;
}

/** `namespace/name`. */
export function objectKey(metadata: { name: string; namespace?: string }): string {
  return `${metadata.namespace ?? ''}/${metadata.name}`;
}

/** The hub a SecurityModuleConfig points at: always in its own namespace. */
export function hubKeyOf(config: ConfigObject): string | undefined {
  const name = config.spec?.hubRef?.name;
  return typeof name === 'string' && name ? `${config.metadata.namespace}/${name}` : undefined;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The document the shared validator judges: what a user wrote (no server-side metadata, no status). */
export function asWritten(object: ApiObject): Record<string, unknown> {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name: object.metadata.name, namespace: object.metadata.namespace },
    spec: object.spec,
  };
}
