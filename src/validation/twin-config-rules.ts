// The rules of a TwinConfig beyond its schema: those of every resource (names, references, the target, the
// rollout), the API server's CEL rules said again for `validate` (the differential test holds them together),
// its properties as IoT Hub takes them (the ownership record they make in the twins' tags too), and as its own
// schema or model judges them.
import type { TwinConfig } from '../api/generated/types.js';
import type { FieldPath, ValidationIssue } from './issues.js';
import { checkOwnershipRecordSize } from './ownership-record-size.js';
import {
  checkMetadata,
  checkName,
  checkPositiveDuration,
  checkReference,
  checkRollout,
  checkTarget,
  type RuleGroup,
} from './resource-rules.js';
import { checkTwinProperties } from './twin-property-rules.js';
import { type ConfigMapAccess, judgeTwinProperties } from './twin-schema-judging.js';

function error(path: FieldPath, message: string): ValidationIssue {
  return { severity: 'error', path, message };
}

/** The CRD's rule on spec.twin, in the same words. */
function checkTwinSelector(twin: NonNullable<TwinConfig['spec']['twin']>): ValidationIssue[] {
  if (twin.createModule === undefined || twin.moduleId !== undefined) return [];
  return [
    error(
      ['spec', 'twin', 'createModule'],
      'createModule is only for a module twin: set moduleId, or leave createModule out',
    ),
  ];
}

/** The CRD's rules on spec.schema, in the same words. */
function checkSchemaReference(schema: NonNullable<TwinConfig['spec']['schema']>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if ((schema.jsonSchema === undefined) === (schema.configMapKeyRef === undefined))
    issues.push(error(['spec', 'schema'], 'set exactly one of jsonSchema or configMapKeyRef'));
  if (schema.format !== undefined && schema.configMapKeyRef === undefined)
    issues.push(
      error(
        ['spec', 'schema', 'format'],
        'format is only for configMapKeyRef: an inline jsonSchema is a JSON Schema',
      ),
    );
  return issues;
}

/**
 * The properties as IoT Hub takes them, then as the schema judges them: its values only when the hub would take
 * them, and not at all while the schema reference or the twin break the CRD's rules (reported on their own).
 */
function checkProperties(config: TwinConfig, access: ConfigMapAccess): ValidationIssue[] {
  const structural = checkTwinProperties(config.spec);
  const { schema, twin } = config.spec;
  if ((schema && checkSchemaReference(schema).length) || (twin && checkTwinSelector(twin).length))
    return structural;
  const judgeValues = !structural.some((i) => i.severity === 'error');
  return [...structural, ...judgeTwinProperties(config, access, judgeValues)];
}

export function twinConfigRules(access: ConfigMapAccess): RuleGroup<TwinConfig>[] {
  return [
    { reads: ['metadata'], check: (config) => checkMetadata(config.metadata) },
    { reads: ['spec', 'hubRef'], check: (config) => checkReference(config.spec.hubRef, 'spec.hubRef') },
    { reads: ['spec', 'target'], check: (config) => checkTarget(config.spec) },
    { reads: ['spec', 'rollout'], check: (config) => checkRollout(config.spec) },
    {
      reads: ['spec', 'convergenceTimeout'],
      check: (config) =>
        checkPositiveDuration(config.spec.convergenceTimeout, ['spec', 'convergenceTimeout']),
    },
    { reads: ['spec', 'twin'], check: (config) => checkTwinSelector(config.spec.twin!) },
    { reads: ['spec', 'schema'], check: (config) => checkSchemaReference(config.spec.schema!) },
    {
      reads: ['spec', 'schema', 'configMapKeyRef'],
      check: (config) =>
        checkName(config.spec.schema!.configMapKeyRef!.name, ['spec', 'schema', 'configMapKeyRef', 'name']),
    },
    {
      reads: ['spec', 'properties'],
      alsoReads: [
        ['spec', 'twin'],
        ['spec', 'schema'],
        ['metadata', 'namespace'],
      ],
      check: (config) => checkProperties(config, access),
    },
    {
      // Its key is the namespace and name, its revision the properties and priority, its settings' ids the twin's.
      reads: ['spec', 'properties'],
      alsoReads: [['metadata'], ['spec', 'twin'], ['spec', 'priority']],
      check: (config) => checkOwnershipRecordSize(config),
    },
  ];
}
