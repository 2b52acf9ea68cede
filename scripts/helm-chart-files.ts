// The Helm chart's generated files (charts/iot-security-operator), from the same sources as kustomize's manifests:
// the CRDs as crds/ has them, the RBAC rules of src/controller/rbac-rules.ts as named templates the chart's Roles
// include, the monitoring files of manifests/monitoring/ (a chart reads no file outside itself), and Chart.yaml
// with package.json's version.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  LEADER_ELECTION_RULES,
  LEADER_LEASE,
  type PolicyRule,
  RECONCILE_RULES,
  SHARDING_RULES,
} from '../src/controller/rbac-rules.js';

export const CHART = 'charts/iot-security-operator';

function chartYaml(repo: string): string {
  const { version, description } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  return stringify(
    {
      apiVersion: 'v2',
      name: 'iot-security-operator',
      description,
      type: 'application',
      version,
      appVersion: version,
    },
    { lineWidth: 0 },
  );
}

// The leader Lease's name as the rules have it becomes the release's (its `leaderLease` template, the same name for
// the release iot-security-operator): two releases in one namespace elect with two Leases, each granted its own.
const LEASE_PLACEHOLDER = 'LEADER-LEASE-OF-THE-RELEASE';

function rulesTemplate(name: string, rules: PolicyRule[]): string {
  const named = rules.map((rule) =>
    rule.resourceNames
      ? { ...rule, resourceNames: rule.resourceNames.map((n) => (n === LEADER_LEASE ? LEASE_PLACEHOLDER : n)) }
      : rule,
  );
  const yaml = stringify(named, { lineWidth: 0 }).replaceAll(
    LEASE_PLACEHOLDER,
    '{{ include "iot-security-operator.leaderLease" . }}',
  );
  return `{{- define "iot-security-operator.${name}" }}\n${yaml}{{- end }}\n`;
}

/** `crds` maps crds/'s generated files to their content; `banner` is the YAML comment generated files start with. */
export function renderHelmChartFiles(
  repo: string,
  crds: Map<string, string>,
  banner: string,
): Map<string, string> {
  const out = new Map<string, string>();
  out.set(
    `${CHART}/Chart.yaml`,
    `${banner.replace('src/controller/rbac-rules.ts', 'package.json')}\n${chartYaml(repo)}`,
  );
  for (const [path, content] of crds) out.set(`${CHART}/${path}`, content);
  out.set(
    `${CHART}/templates/_rbac-rules.tpl`,
    [
      `{{- /* ${banner.slice(2)} */}}`,
      '{{- /* Rights over the watched namespaces: a ClusterRole, or a Role in each of watchNamespaces. */}}',
      rulesTemplate('reconcileRules', RECONCILE_RULES),
      "{{- /* Rights in the release's namespace: the Leases of leader election (or of --sharding). */}}",
      rulesTemplate('leaseRules', [...LEADER_ELECTION_RULES, ...SHARDING_RULES]),
    ].join('\n'),
  );
  for (const file of ['grafana-dashboard.json', 'prometheus-rules.yaml'])
    out.set(`${CHART}/files/${file}`, readFileSync(join(repo, 'manifests', 'monitoring', file), 'utf8'));
  return out;
}
