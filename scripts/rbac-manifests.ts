// The RBAC manifests rendered from src/controller/rbac-rules.ts: a ClusterRole for all namespaces, a Role for the
// namespaced install, and the Role of the Leases (leader election's or sharding's) every install has.
import { stringify } from 'yaml';
import {
  LEADER_ELECTION_RULES,
  METRICS_AUTH_RULES,
  METRICS_READER_RULES,
  RECONCILE_RULES,
  SHARDING_RULES,
} from '../src/controller/rbac-rules.js';

const NAMESPACE = 'iot-security';
const ACCOUNT = 'iot-security-operator';
const LABELS = { 'app.kubernetes.io/name': 'iot-security-operator' };

function documents(objects: object[], banner: string): string {
  return `${banner}\n${objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n')}`;
}

function role(kind: 'ClusterRole' | 'Role', name: string, rules: object[]): object {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name, ...(kind === 'Role' ? { namespace: NAMESPACE } : {}), labels: LABELS },
    rules,
  };
}

function binding(
  kind: 'ClusterRoleBinding' | 'RoleBinding',
  roleKind: 'ClusterRole' | 'Role',
  name: string,
): object {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name, ...(kind === 'RoleBinding' ? { namespace: NAMESPACE } : {}), labels: LABELS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name },
    subjects: [{ kind: 'ServiceAccount', name: ACCOUNT, namespace: NAMESPACE }],
  };
}

export function renderRbacManifests(banner: string): Map<string, string> {
  const out = new Map<string, string>();
  out.set(
    'manifests/rbac-cluster/clusterrole.yaml',
    documents(
      [role('ClusterRole', ACCOUNT, RECONCILE_RULES), binding('ClusterRoleBinding', 'ClusterRole', ACCOUNT)],
      `${banner}\n# Rights in every namespace: the operator watches all of them.`,
    ),
  );
  out.set(
    'manifests/namespaced/role.yaml',
    documents(
      [role('Role', ACCOUNT, RECONCILE_RULES), binding('RoleBinding', 'Role', ACCOUNT)],
      `${banner}\n# Rights in the operator's namespace only (it runs with --namespace ${NAMESPACE}).`,
    ),
  );
  out.set(
    'manifests/base/leader-election.yaml',
    documents(
      [
        role('Role', `${ACCOUNT}-leader-election`, [...LEADER_ELECTION_RULES, ...SHARDING_RULES]),
        binding('RoleBinding', 'Role', `${ACCOUNT}-leader-election`),
      ],
      `${banner}\n# The Leases, in the operator's own namespace: leader election's, or with --sharding the replicas' and hubs'.`,
    ),
  );
  out.set(
    'manifests/base/metrics-auth.yaml',
    documents(
      [
        role('ClusterRole', `${ACCOUNT}-metrics-auth`, METRICS_AUTH_RULES),
        binding('ClusterRoleBinding', 'ClusterRole', `${ACCOUNT}-metrics-auth`),
        role('ClusterRole', `${ACCOUNT}-metrics-reader`, METRICS_READER_RULES),
      ],
      `${banner}\n# /metrics over HTTPS (--metrics-secure): the operator reviews each scraper's token and access (cluster-scoped\n# reviews, so a ClusterRole in every install); bind ${ACCOUNT}-metrics-reader to Prometheus's ServiceAccount.`,
    ),
  );
  return out;
}
