// The Kubernetes objects the controller reads and writes, as they come from the API server (metadata filled in,
// status possibly absent), and the names it uses on them.
import type { IoTHub, SecurityModuleConfig, TwinConfig } from '../api/generated/types.js';
import { API_GROUP, API_VERSION } from '../api/schemas.js';
import { plannedKey, resourceSlot } from '../planner/resource-input.js';
import type { TwinSlot } from '../twins/types.js';

export { API_GROUP, API_VERSION };

export const FINALIZER = `${API_GROUP}/finalizer`;
/** Set it (to any new value, e.g. a timestamp) to reconcile now; acknowledged in status.lastHandledReconcileAt. */
export const RECONCILE_REQUESTED_ANNOTATION = `${API_GROUP}/reconcile-requested-at`;
export const CONTROLLER_NAME = 'iot-security-operator';

export type ApiKind = 'IoTHub' | 'SecurityModuleConfig' | 'TwinConfig';
/** The kinds of resource a hub answers for: they name it in spec.hubRef. */
export type ConfigKind = Exclude<ApiKind, 'IoTHub'>;
export const CONFIG_KINDS: readonly ConfigKind[] = ['SecurityModuleConfig', 'TwinConfig'];
export const PLURALS: Record<ApiKind, string> = {
  IoTHub: 'iothubs',
  SecurityModuleConfig: 'securitymoduleconfigs',
  TwinConfig: 'twinconfigs',
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
export type SecurityModuleConfigObject = Omit<SecurityModuleConfig, 'metadata'> & { metadata: KubeMeta };
export type TwinConfigObject = Omit<TwinConfig, 'metadata'> & { metadata: KubeMeta };
/** A resource of a hub: either kind. */
export type ConfigObject = SecurityModuleConfigObject | TwinConfigObject;
export type ApiObject = HubObject | ConfigObject;

/** The key the planner and the twins' ownership records know a resource by. */
export function resourceKeyOf(config: ConfigObject): string {
  return plannedKey({ ...config, kind: configKindOf(config) } as Parameters<typeof plannedKey>[0]);
}

/** The twin slot a resource's settings live in (where its ownership records are). */
export function slotOf(config: ConfigObject): TwinSlot {
  return resourceSlot(configKindOf(config), (config as TwinConfigObject).spec?.twin);
}

/** A resource's kind (objects from a list may lack `kind`: a TwinConfig's spec has properties). */
export function configKindOf(config: ConfigObject): ConfigKind {
  const kind = (config as { kind?: string }).kind;
  if (kind === 'TwinConfig' || kind === 'SecurityModuleConfig') return kind;
  return 'properties' in ((config as { spec?: object }).spec ?? {}) ? 'TwinConfig' : 'SecurityModuleConfig';
}

/** The ConfigMap a TwinConfig's schema names, if any. */
export function configMapNameOf(config: ConfigObject): string | undefined {
  if (configKindOf(config) !== 'TwinConfig') return undefined;
  return (config as TwinConfigObject).spec?.schema?.configMapKeyRef?.name;
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
