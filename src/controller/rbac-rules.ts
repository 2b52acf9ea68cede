// The Kubernetes rights the controller's code uses, and nothing more: the single source of the RBAC manifests
// (`make generate` writes them into manifests/), each rule proven needed by a test that removes it.
import { API_GROUP, type ApiKind, PLURALS } from './kube-objects.js';

const KINDS: readonly ApiKind[] = ['IoTHub', 'SecurityModuleConfig', 'TwinConfig'];

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export const LEADER_LEASE = 'iot-security-operator-leader';

/** Rights over the watched namespaces: the API's resources, the Secrets they name, Events. */
export const RECONCILE_RULES: PolicyRule[] = [
  // The informers list and watch every kind (the controller reads from their caches, never with get).
  { apiGroups: [API_GROUP], resources: KINDS.map((k) => PLURALS[k]), verbs: ['list', 'watch'] },
  // The finalizers are added and removed with JSON patches.
  { apiGroups: [API_GROUP], resources: KINDS.map((k) => PLURALS[k]), verbs: ['patch'] },
  // Status through the status subresource.
  { apiGroups: [API_GROUP], resources: KINDS.map((k) => `${PLURALS[k]}/status`), verbs: ['patch'] },
  // The ConfigMaps TwinConfigs name for their schema or model: read one by one, never listed or watched.
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
  // The Secrets the IoTHubs name (connection strings, CA bundles), read one by one by name: never listed, watched
  // or written. RBAC cannot narrow list or watch to some Secrets (by label or by names not known in advance), so a
  // watch would mean the right to read every Secret of the cluster (see secret-reader.ts).
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  // Events on transitions; a repeat within ten minutes patches the first one's count.
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/** Rights in the operator's own namespace: its leader-election Lease (create has no name to restrict it to). */
export const LEADER_ELECTION_RULES: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: [LEADER_LEASE],
    verbs: ['get', 'update'],
  },
];

/**
 * Rights in the operator's own namespace for `--sharding` (create is in LEADER_ELECTION_RULES): the member and hub
 * Leases, whose names are not known in advance, are read with one list, renewed, taken and released with update,
 * and deleted when their replica stops or their hub is gone.
 */
export const SHARDING_RULES: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list', 'update', 'delete'] },
];

/**
 * Rights for /metrics served with --metrics-secure (the default): each scraper's bearer token is reviewed and its
 * access to /metrics asked of the API server. Both reviews are cluster-scoped, so every install, the namespaced one
 * too, grants them with a ClusterRole.
 */
export const METRICS_AUTH_RULES: PolicyRule[] = [
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
];

/** What a scraper (Prometheus's ServiceAccount) is granted by the `...-metrics-reader` ClusterRole. */
export const METRICS_READER_RULES: { nonResourceURLs: string[]; verbs: string[] }[] = [
  { nonResourceURLs: ['/metrics'], verbs: ['get'] },
];
