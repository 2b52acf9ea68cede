// The rules of each kind beyond its schema: what the security agent would reject, target conditions that must
// parse in our grammar, durations that must be positive. They run on a resource whose schema check passed.

import type { IoTHub, Rollout, SecurityModuleConfig, Target } from '../api/generated/types.js';
import { parseKubeDuration } from '../api/kube-duration.js';
import { type ConditionError, parseCondition } from '../condition/index.js';
import type { AgentErrorType, AgentProblem } from '../profiles/security-agent/index.js';
import {
  agentSettingsOf,
  checkAgentSettings,
  effectiveSettings,
  SETTINGS_BY_KEY,
  settingFieldPath,
} from '../profiles/security-agent/index.js';
import { checkHubAuth } from './hub-auth-rules.js';
import type { FieldPath, ValidationIssue } from './issues.js';

// The regular expressions and messages below are also the API server's (crd-rules.ts makes CEL rules of them).
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function path(dotted: string): FieldPath {
  return dotted.split('.');
}

/** Keys of a Secret's data, as the API server allows them. */
export const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
export const invalidSecretKeyMessage = (shown: string) =>
  `${shown} is not a valid Secret key: letters, digits, '-', '_' and '.'`;

/** A key of a Secret's data that a reference names. */
export function checkSecretKey(key: string | undefined, at: FieldPath): ValidationIssue[] {
  if (key === undefined || SECRET_KEY.test(key)) return [];
  return [{ severity: 'error', path: at, message: invalidSecretKeyMessage(`'${key}'`) }];
}

export const invalidNameMessage = (shown: string) =>
  `${shown} is not a valid name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`;

export function checkName(name: string, at: FieldPath): ValidationIssue[] {
  if (DNS_SUBDOMAIN.test(name)) return [];
  return [{ severity: 'error', path: at, message: invalidNameMessage(`'${name}'`) }];
}

/** A reference to an object of the same namespace: a name it could have, and a key its data could hold. */
export function checkReference(
  reference: { name: string; key?: string } | undefined,
  at: string,
): ValidationIssue[] {
  if (reference === undefined) return [];
  return [
    ...checkName(reference.name, path(`${at}.name`)),
    ...checkSecretKey(reference.key, path(`${at}.key`)),
  ];
}

export function checkMetadata(metadata: { name: string; namespace?: string }): ValidationIssue[] {
  const issues = checkName(metadata.name, ['metadata', 'name']);
  if (metadata.namespace !== undefined && !DNS_LABEL.test(metadata.namespace)) {
    issues.push({
      severity: 'error',
      path: ['metadata', 'namespace'],
      message: `'${metadata.namespace}' is not a valid namespace: at most 63 lower-case letters, digits and '-'`,
    });
  }
  return issues;
}

/** A duration is longer than zero when one of its digits is not 0 (exact, however small the part it is in). */
export const NONZERO_DIGIT = /[1-9]/;
export const notPositiveMessage = (shown: string) => `${shown} must be longer than zero`;

export function checkPositiveDuration(text: string | undefined, at: FieldPath): ValidationIssue[] {
  if (text === undefined) return [];
  if (parseKubeDuration(text) !== undefined && !NONZERO_DIGIT.test(text))
    return [{ severity: 'error', path: at, message: notPositiveMessage(`'${text}'`) }];
  return [];
}

/**
 * The parser names the place of an error as "at column 22" (or "at line 2, column 5" in a condition of several
 * lines), counted inside the condition. Printed after FILE:LINE:COLUMN, that reads as a second, different file
 * column, so the message says instead which character of the condition it is (the position is the file's).
 */
function placeInCondition(condition: string, error: ConditionError): string {
  const phrase = condition.includes('\n')
    ? `at line ${error.line}, column ${error.column}`
    : `at column ${error.column}`;
  // A block scalar ends with a line break: the end of input is just after the last visible character.
  const text = condition.trimEnd();
  const offset = condition.includes('\n') ? Math.min(error.offset, text.length) : error.offset;
  const lineStart = offset > 0 ? text.lastIndexOf('\n', offset - 1) + 1 : 0;
  const line = text.slice(0, lineStart).split('\n').length;
  const character = offset - lineStart + 1;
  const place = text.includes('\n')
    ? `at character ${character} of line ${line} of the condition`
    : `at character ${character} of the condition`;
  // The last occurrence: text quoted from the condition comes before the place in the parser's messages.
  const at = error.message.lastIndexOf(phrase);
  if (at < 0) return `${error.message} (${place})`;
  return error.message.slice(0, at) + place + error.message.slice(at + phrase.length);
}

export function checkTarget(spec: { target: Target }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (spec.target.condition !== undefined) {
    const parsed = parseCondition(spec.target.condition, { dialect: 'deviceTarget' });
    if (!parsed.ok) {
      issues.push({
        severity: 'error',
        path: path('spec.target.condition'),
        message: placeInCondition(spec.target.condition, parsed.error),
        offsetInValue: parsed.error.offset,
      });
    }
  }
  const seen = new Set<string>();
  spec.target.deviceIds?.forEach((id, index) => {
    if (seen.has(id)) {
      issues.push({
        severity: 'warning',
        path: ['spec', 'target', 'deviceIds', index],
        message: `device '${id}' is listed twice`,
      });
    }
    seen.add(id);
  });
  return issues;
}

/** For a rule between two settings, the one the resource sets (the other may be the agent's default). */
function blamedSetting(problem: AgentProblem, named: Record<string, unknown>): string {
  const partners: Record<string, string> = {
    highPriorityMessageFrequency: 'lowPriorityMessageFrequency',
    maxLocalCacheSizeInBytes: 'maxMessageSizeInBytes',
  };
  const partner = partners[problem.setting];
  if (problem.errorType === 'Conflict' && partner && !(problem.setting in named) && partner in named)
    return partner;
  return problem.setting;
}

function defaultsNote(problem: AgentProblem, named: Record<string, unknown>): string {
  if (problem.errorType !== 'Conflict') return '';
  const defaulted = [...SETTINGS_BY_KEY.keys()].filter(
    (key) => problem.message.includes(`${key} `) && !(key in named),
  );
  return defaulted.length
    ? ` (${defaulted.join(', ')}: the agent's default, since this resource does not set it)`
    : '';
}

/** How validate (and the CRD's CEL rule of the same agent rule) words a problem the agent would find. */
export const agentProblemMessage = (message: string, errorType: AgentErrorType) =>
  `${message} [agent: ${errorType}]`;

function checkAgentConfiguration(spec: SecurityModuleConfig['spec']): ValidationIssue[] {
  const named = agentSettingsOf(spec.agentConfiguration);
  const issues: ValidationIssue[] = checkAgentSettings(effectiveSettings(named)).map((problem) => ({
    severity: problem.severity,
    path: path(settingFieldPath(blamedSetting(problem, named))),
    message: agentProblemMessage(`${problem.message}${defaultsNote(problem, named)}`, problem.errorType),
  }));
  const checks = spec.agentConfiguration.baselineCustomChecks;
  if (checks?.enabled === true && !checks.filePath) {
    issues.push({
      severity: 'warning',
      path: path('spec.agentConfiguration.baselineCustomChecks.filePath'),
      message: 'custom baseline checks are enabled without a filePath: the agent has no file to check',
    });
  }
  if (Object.keys(named).length === 0) {
    issues.push({
      severity: 'warning',
      path: path('spec.agentConfiguration'),
      message: 'names no setting: this resource manages nothing on its devices',
    });
  }
  return issues;
}

/** Batch sizes that would never roll anything out. */
export const EMPTY_BATCHES: readonly (number | string)[] = [0, '0%'];
export const emptyBatchMessage = (batch: number | string) =>
  `${JSON.stringify(batch)} would never roll out: use at least 1 device or 1%`;

export function checkRollout(spec: { rollout?: Rollout }): ValidationIssue[] {
  const batch = spec.rollout?.batchSize;
  if (batch !== undefined && EMPTY_BATCHES.includes(batch)) {
    return [{ severity: 'error', path: path('spec.rollout.batchSize'), message: emptyBatchMessage(batch) }];
  }
  return [];
}

export interface RuleGroup<T> {
  /** The part of the resource the rules read; they run only when the schema found no error there. */
  reads: FieldPath;
  /** Other parts they read when present, which must be free of schema errors too. */
  alsoReads?: FieldPath[];
  check: (resource: T) => ValidationIssue[];
}

/** Basic tiers have no device or module twins: there is nothing for the operator to configure on them. */
export const TIERS_WITHOUT_TWINS: readonly string[] = ['B1', 'B2', 'B3'];

export const basicTierMessage = (tier: string) =>
  `${tier} is a Basic tier, which has no device or module twins: the security agents' configuration cannot be managed there (use F1, S1, S2 or S3)`;

function checkTier(tier: string | undefined): ValidationIssue[] {
  if (tier === undefined || !TIERS_WITHOUT_TWINS.includes(tier)) return [];
  return [{ severity: 'error', path: path('spec.tier'), message: basicTierMessage(tier) }];
}

export const IOTHUB_RULES: RuleGroup<IoTHub>[] = [
  { reads: ['metadata'], check: (hub) => checkMetadata(hub.metadata) },
  {
    reads: ['spec', 'connectionStringSecretRef'],
    check: (hub) => checkReference(hub.spec.connectionStringSecretRef, 'spec.connectionStringSecretRef'),
  },
  {
    reads: ['spec', 'caSecretRef'],
    check: (hub) => checkReference(hub.spec.caSecretRef, 'spec.caSecretRef'),
  },
  {
    reads: ['spec', 'auth'],
    alsoReads: [
      ['spec', 'hostName'],
      ['spec', 'connectionStringSecretRef'],
    ],
    check: (hub) => checkHubAuth(hub.spec),
  },
  // Without spec.auth the hub takes a connection string (the rule above runs only when auth is given).
  { reads: ['spec'], check: (hub) => (hub.spec.auth === undefined ? checkHubAuth(hub.spec) : []) },
  { reads: ['spec', 'tier'], check: (hub) => checkTier(hub.spec.tier) },
  {
    reads: ['spec', 'resyncInterval'],
    check: (hub) => checkPositiveDuration(hub.spec.resyncInterval, path('spec.resyncInterval')),
  },
];

export const SECURITY_MODULE_CONFIG_RULES: RuleGroup<SecurityModuleConfig>[] = [
  { reads: ['metadata'], check: (config) => checkMetadata(config.metadata) },
  { reads: ['spec', 'hubRef'], check: (config) => checkReference(config.spec.hubRef, 'spec.hubRef') },
  { reads: ['spec', 'target'], check: (config) => checkTarget(config.spec) },
  { reads: ['spec', 'agentConfiguration'], check: (config) => checkAgentConfiguration(config.spec) },
  { reads: ['spec', 'rollout'], check: (config) => checkRollout(config.spec) },
  {
    reads: ['spec', 'convergenceTimeout'],
    check: (config) => checkPositiveDuration(config.spec.convergenceTimeout, path('spec.convergenceTimeout')),
  },
];
