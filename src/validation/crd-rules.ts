// The rules the API server judges on one resource alone, as CEL in the CRDs (x-kubernetes-validations), so that
// `kubectl apply` refuses what `validate` refuses for the same reason and in the same words. Each rule is built
// from what validate's own check uses (the regular expression, the agent's limits and duration arithmetic, the
// message function), so the two cannot drift; the differential test (test/validation/validator-vs-apiserver.test.ts)
// holds them together on a real API server. Rules that need other resources (layering, the agent's defaults
// under a setting another resource may give) stay in the status.
import {
  cel,
  celDecimal,
  celIsIsoDuration,
  celIsoDurationMillis,
  celMessage,
  celQuoted,
  celString,
} from '../api/cel-text.js';
import type { CrdRule } from '../api/crd.js';
import {
  cacheBelowMessageSizeMessage,
  highLongerThanLowMessage,
  MAX_MESSAGE_SIZE,
  MIN_CACHE_SIZE,
  MIN_MESSAGE_SIZE,
  notADurationMessage,
  notLongerThanZeroMessage,
  SETTINGS,
} from '../profiles/security-agent/index.js';
import {
  CONNECTION_STRING_REQUIRED,
  connectionStringNotUsed,
  FIELDS,
  HOST_NAME_FROM_CONNECTION_STRING,
  hostNameRequired,
  notUsedWithKind,
  requiredWithKind,
} from './hub-auth-rules.js';
import {
  agentProblemMessage,
  basicTierMessage,
  DNS_SUBDOMAIN,
  EMPTY_BATCHES,
  emptyBatchMessage,
  invalidNameMessage,
  invalidSecretKeyMessage,
  NONZERO_DIGIT,
  notPositiveMessage,
  SECRET_KEY,
  TIERS_WITHOUT_TWINS,
} from './resource-rules.js';
import { TARGET_FORMS_MESSAGE } from './schema-check.js';

const matches = (text: string, pattern: RegExp) => `${text}.matches(${celString(pattern.source)})`;

/**
 * A Secret reference (checkReference's rules): a name the Secret could have, and each key field, when given, a key
 * its data could hold.
 */
function secretReference(at: string[], keyFields: string[] = ['key']): CrdRule[] {
  return [
    referenceName(at),
    ...keyFields.map(
      (field): CrdRule => ({
        at,
        rule: `!has(self.${field}) || ${matches(`self.${field}`, SECRET_KEY)}`,
        messageExpression: celMessage(invalidSecretKeyMessage, celQuoted(`self.${field}`)),
        fieldPath: `.${field}`,
      }),
    ),
  ];
}

/** A reference's name: a name the referenced object could have. */
function referenceName(at: string[]): CrdRule {
  return {
    at,
    rule: matches('self.name', DNS_SUBDOMAIN),
    messageExpression: celMessage(invalidNameMessage, celQuoted('self.name')),
    fieldPath: '.name',
  };
}

function positiveKubeDuration(at: string[]): CrdRule {
  return {
    at,
    rule: matches('self', NONZERO_DIGIT),
    messageExpression: celMessage(notPositiveMessage, celQuoted('self')),
  };
}

const agentMessage = (errorType: 'TypeMismatch' | 'Conflict', message: string) =>
  celMessage(agentProblemMessage, cel(message), errorType);

/** The agent's rules on each ISO 8601 duration setting: a duration, longer than zero. */
const DURATION_SETTING_RULES: CrdRule[] = SETTINGS.filter((s) => s.kind === 'duration').flatMap((setting) => {
  const at = ['spec', 'agentConfiguration', ...setting.fieldPath.split('.')];
  return [
    {
      at,
      rule: celIsIsoDuration('self'),
      messageExpression: agentMessage(
        'TypeMismatch',
        celMessage(notADurationMessage, setting.key, celQuoted('self')),
      ),
    },
    {
      at,
      rule: `!(${celIsIsoDuration('self')}) || ${celIsoDurationMillis('self')} > 0.0`,
      messageExpression: agentMessage(
        'TypeMismatch',
        celMessage(notLongerThanZeroMessage, setting.key, celQuoted('self')),
      ),
    },
  ];
});

/** The schema's maximum of maxLocalCacheSizeInBytes (2^52 - 1: every integer up to it is exact in a double). */
const MAX_CACHE_SIZE_IN_SCHEMA = 4503599627370495;

const inRange = (value: string, min: number, max?: number) =>
  `${value} >= ${min}${max === undefined ? '' : ` && ${value} <= ${max}`}`;

/** The agent's rules between two settings, when this resource sets both (else the other may come from layering). */
const AGENT_PAIR_RULES: CrdRule[] = [
  {
    at: ['spec', 'agentConfiguration'],
    rule: [
      '!has(self.maxLocalCacheSizeInBytes) || !has(self.maxMessageSizeInBytes)',
      `!(${inRange('self.maxMessageSizeInBytes', MIN_MESSAGE_SIZE, MAX_MESSAGE_SIZE)})`,
      `!(${inRange('self.maxLocalCacheSizeInBytes', MIN_CACHE_SIZE)})`,
      'self.maxLocalCacheSizeInBytes >= self.maxMessageSizeInBytes',
    ].join(' || '),
    messageExpression: agentMessage(
      'Conflict',
      celMessage(
        cacheBelowMessageSizeMessage,
        cel(celDecimal('self.maxLocalCacheSizeInBytes', MAX_CACHE_SIZE_IN_SCHEMA)),
        cel(celDecimal('self.maxMessageSizeInBytes', MAX_MESSAGE_SIZE)),
      ),
    ),
    fieldPath: '.maxLocalCacheSizeInBytes',
  },
  {
    at: ['spec', 'agentConfiguration'],
    rule: [
      '!has(self.highPriorityMessageFrequency) || !has(self.lowPriorityMessageFrequency)',
      `!(${celIsIsoDuration('self.highPriorityMessageFrequency')})`,
      `!(${celIsIsoDuration('self.lowPriorityMessageFrequency')})`,
      `${celIsoDurationMillis('self.highPriorityMessageFrequency')} <= ${celIsoDurationMillis('self.lowPriorityMessageFrequency')}`,
    ].join(' || '),
    messageExpression: agentMessage(
      'Conflict',
      celMessage(
        highLongerThanLowMessage,
        cel('self.highPriorityMessageFrequency'),
        cel('self.lowPriorityMessageFrequency'),
      ),
    ),
    fieldPath: '.highPriorityMessageFrequency',
  },
];

const TARGET_RULE: CrdRule = {
  at: ['spec', 'target'],
  rule: 'has(self.condition) != has(self.deviceIds)',
  message: TARGET_FORMS_MESSAGE,
};

/** One rule per batch size that never rolls out; an int-or-string compares only with values of its own type. */
const ROLLOUT_RULES: CrdRule[] = EMPTY_BATCHES.map((batch) => ({
  at: ['spec', 'rollout'],
  rule: `!has(self.batchSize) || type(self.batchSize) != ${typeof batch === 'number' ? 'int' : 'string'} || self.batchSize != ${typeof batch === 'number' ? batch : celString(batch)}`,
  message: emptyBatchMessage(batch),
  fieldPath: '.batchSize',
}));

/**
 * An IoTHub's credential: which fields each auth.kind needs and refuses (hub-auth-rules.ts's table and messages).
 * A hub without spec.auth is a ConnectionString hub.
 */
function hubAuthRules(): CrdRule[] {
  const kinds = Object.keys(FIELDS) as (keyof typeof FIELDS)[];
  const tokenKinds = kinds.filter((kind) => kind !== 'ConnectionString');
  const byConnectionString = "(!has(self.auth) || self.auth.kind == 'ConnectionString')";
  const allFields = [
    ...new Set(kinds.flatMap((kind) => [...FIELDS[kind].required, ...FIELDS[kind].optional])),
  ];
  return [
    {
      at: ['spec'],
      rule: `!${byConnectionString} || has(self.connectionStringSecretRef)`,
      message: CONNECTION_STRING_REQUIRED,
      fieldPath: '.connectionStringSecretRef',
    },
    {
      at: ['spec'],
      rule: `!${byConnectionString} || !has(self.hostName)`,
      message: HOST_NAME_FROM_CONNECTION_STRING,
      fieldPath: '.hostName',
    },
    ...tokenKinds.flatMap((kind): CrdRule[] => [
      {
        at: ['spec'],
        rule: `!has(self.auth) || self.auth.kind != ${celString(kind)} || has(self.hostName)`,
        message: hostNameRequired(kind),
        fieldPath: '.hostName',
      },
      {
        at: ['spec'],
        rule: `!has(self.auth) || self.auth.kind != ${celString(kind)} || !has(self.connectionStringSecretRef)`,
        message: connectionStringNotUsed(kind),
        fieldPath: '.connectionStringSecretRef',
      },
    ]),
    ...kinds.flatMap((kind) => [
      ...FIELDS[kind].required.map(
        (field): CrdRule => ({
          at: ['spec', 'auth'],
          rule: `self.kind != ${celString(kind)} || has(self.${field})`,
          message: requiredWithKind(kind),
          fieldPath: `.${field}`,
        }),
      ),
      ...allFields
        .filter((field) => !FIELDS[kind].required.includes(field) && !FIELDS[kind].optional.includes(field))
        .map(
          (field): CrdRule => ({
            at: ['spec', 'auth'],
            rule: `self.kind != ${celString(kind)} || !has(self.${field})`,
            message: notUsedWithKind(kind),
            fieldPath: `.${field}`,
          }),
        ),
    ]),
    ...secretReference(['spec', 'auth', 'clientSecretRef']),
    ...secretReference(['spec', 'auth', 'clientCertificateRef'], ['certificateKey', 'privateKeyKey']),
  ];
}

export const CRD_RULES: Record<string, CrdRule[]> = {
  SecurityModuleConfig: [
    referenceName(['spec', 'hubRef']),
    TARGET_RULE,
    ...DURATION_SETTING_RULES,
    ...AGENT_PAIR_RULES,
    ...ROLLOUT_RULES,
    positiveKubeDuration(['spec', 'convergenceTimeout']),
  ],
  TwinConfig: [
    referenceName(['spec', 'hubRef']),
    TARGET_RULE,
    ...ROLLOUT_RULES,
    positiveKubeDuration(['spec', 'convergenceTimeout']),
    referenceName(['spec', 'schema', 'configMapKeyRef']),
  ],
  IoTHub: [
    ...hubAuthRules(),
    ...secretReference(['spec', 'connectionStringSecretRef']),
    ...secretReference(['spec', 'caSecretRef']),
    {
      at: ['spec', 'tier'],
      rule: `!(self in [${TIERS_WITHOUT_TWINS.map(celString).join(', ')}])`,
      messageExpression: celMessage(basicTierMessage, cel('self')),
    },
    positiveKubeDuration(['spec', 'resyncInterval']),
  ],
};
