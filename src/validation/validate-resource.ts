// The one entry point for judging a parsed resource, shared by the command line, sync and the controller.
import type { IoTHub, SecurityModuleConfig, TwinConfig } from '../api/generated/types.js';
import { API_GROUP, API_GROUP_VERSION } from '../api/schemas.js';
import { type FieldPath, hasErrors, type ValidationIssue } from './issues.js';
import { IOTHUB_RULES, type RuleGroup, SECURITY_MODULE_CONFIG_RULES } from './resource-rules.js';
import { checkAgainstSchema, knownKinds } from './schema-check.js';
import { didYouMean } from './suggest.js';
import { twinConfigRules } from './twin-config-rules.js';
import type { ConfigMapAccess } from './twin-schema-judging.js';

export type { ConfigMapAccess, ConfigMapLookup } from './twin-schema-judging.js';

export type ApiResource = IoTHub | SecurityModuleConfig | TwinConfig;

export interface ResourceValidation {
  kind: string;
  name: string;
  namespace?: string;
  /** False for documents of other API groups (a Secret beside an IoTHub), which are not judged. */
  ours: boolean;
  issues: ValidationIssue[];
  /** The resource with schema defaults applied; set only when it has no errors. */
  resource?: ApiResource;
}

function field(value: unknown, key: string): unknown {
  return value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

function rulesOf(resource: ApiResource, configMaps: ConfigMapAccess): RuleGroup<ApiResource>[] {
  switch (resource.kind) {
    case 'IoTHub':
      return IOTHUB_RULES as RuleGroup<ApiResource>[];
    case 'SecurityModuleConfig':
      return SECURITY_MODULE_CONFIG_RULES as RuleGroup<ApiResource>[];
    case 'TwinConfig':
      return twinConfigRules(configMaps) as RuleGroup<ApiResource>[];
  }
}

/**
 * Judges one parsed document. `configMaps` says where the ConfigMaps a TwinConfig's schema names are read from;
 * without a lookup, a TwinConfig that names one cannot be judged (an error).
 */
export function validateResource(document: unknown, configMaps: ConfigMapAccess = {}): ResourceValidation {
  const apiVersion = field(document, 'apiVersion');
  const kind = String(field(document, 'kind') ?? '');
  const name = String(field(field(document, 'metadata'), 'name') ?? '');
  const namespace = field(field(document, 'metadata'), 'namespace') as string | undefined;
  const base = { kind: kind || 'Unknown', name: name || '-', namespace };

  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    return {
      ...base,
      ours: true,
      issues: [{ severity: 'error', path: [], message: 'a resource must be a YAML mapping' }],
    };
  }
  if (typeof apiVersion !== 'string' || !apiVersion.startsWith(`${API_GROUP}/`)) {
    return { ...base, ours: false, issues: [] };
  }
  if (apiVersion !== API_GROUP_VERSION) {
    return {
      ...base,
      ours: true,
      issues: [
        {
          severity: 'error',
          path: ['apiVersion'],
          message: `'${apiVersion}' is not served; use ${API_GROUP_VERSION}`,
        },
      ],
    };
  }
  const kinds = knownKinds();
  if (!kinds.includes(kind)) {
    return {
      ...base,
      ours: true,
      issues: [
        {
          severity: 'error',
          path: ['kind'],
          message: `'${kind}' is not one of ${kinds.join(', ')}${didYouMean(kind, kinds)}`,
        },
      ],
    };
  }
  const resource = structuredClone(document) as ApiResource;
  const schemaIssues = checkAgainstSchema(kind, resource);
  const ruleIssues = rulesOf(resource, configMaps)
    .filter(
      (group) =>
        isPresent(resource, group.reads) &&
        ![group.reads, ...(group.alsoReads ?? [])].some((reads) =>
          schemaIssues.some((i) => overlaps(i.path, reads)),
        ),
    )
    .flatMap((group) => group.check(resource));
  const issues = [...schemaIssues, ...ruleIssues];
  return { ...base, ours: true, issues, resource: hasErrors(issues) ? undefined : resource };
}

/** Whether every parent of `path` is an object in the resource (the rules may read it safely). */
function isPresent(resource: unknown, path: FieldPath): boolean {
  let node = resource;
  for (const segment of path.slice(0, -1)) {
    node = field(node, String(segment));
    if (node === null || typeof node !== 'object') return false;
  }
  return field(node, String(path[path.length - 1])) !== undefined;
}

/** Whether an issue at `issuePath` concerns the part `reads` (one is a prefix of the other). */
function overlaps(issuePath: FieldPath, reads: FieldPath): boolean {
  const n = Math.min(issuePath.length, reads.length);
  return issuePath.slice(0, n).every((segment, i) => segment === reads[i]);
}
