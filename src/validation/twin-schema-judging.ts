// A TwinConfig's properties judged by its `schema`: an inline JSON Schema, or the text of a ConfigMap's key (a JSON
// Schema or a DTDL model), read through a lookup the caller gives (the files for `validate` and `sync`, the API
// server for the controller). Compiled schemas are kept by content in src/twin-models.
import type { TwinConfig } from '../api/generated/types.js';
import {
  compileTwinSchema,
  type ModelProblem,
  type SchemaOrigin,
  type TwinSchemaSource,
} from '../twin-models/index.js';
import type { FieldPath, Severity, ValidationIssue } from './issues.js';
import { didYouMean } from './suggest.js';

/** The data of the ConfigMap `name` of `namespace`, or undefined when there is no such ConfigMap. */
export type ConfigMapLookup = (
  namespace: string,
  name: string,
) => Readonly<Record<string, unknown>> | undefined;

/** Where a TwinConfig's ConfigMaps come from, and what a missing one is. */
export interface ConfigMapAccess {
  lookup?: ConfigMapLookup;
  /** Where the lookup looks, for the message of a ConfigMap it lacks ("among the files"); "in namespace NS" by default. */
  where?: string;
  /** A ConfigMap the lookup lacks is an error unless this says 'warning' (validate --allow-missing-configmaps). */
  missing?: Severity;
}

const REF: FieldPath = ['spec', 'schema', 'configMapKeyRef'];
const PROPERTIES: FieldPath = ['spec', 'properties'];
/** Keys listed when the one named is not there; more are counted. */
const LISTED_KEYS = 10;

type Source = { source: TwinSchemaSource; origin: SchemaOrigin; text?: ConfigMapText } | ValidationIssue;

interface ConfigMapText {
  namespace: string;
  name: string;
  key: string;
}

function keysText(keys: string[]): string {
  if (keys.length === 0) return 'its data is empty';
  const listed = keys.slice(0, LISTED_KEYS).join(', ');
  return `it has ${listed}${keys.length > LISTED_KEYS ? ` and ${keys.length - LISTED_KEYS} more` : ''}`;
}

/** The schema to compile, or why there is none to judge by. */
function schemaSource(config: TwinConfig, access: ConfigMapAccess): Source | undefined {
  const schema = config.spec.schema;
  if (!schema) return undefined;
  if (schema.jsonSchema !== undefined)
    return { source: { jsonSchema: schema.jsonSchema }, origin: { at: ['spec', 'schema', 'jsonSchema'] } };
  const ref = schema.configMapKeyRef;
  if (!ref) return undefined;
  const namespace = config.metadata.namespace ?? 'default';
  const data = access.lookup?.(namespace, ref.name);
  if (data === undefined) {
    const where = access.where ?? `in namespace ${namespace}`;
    return {
      severity: access.missing ?? 'error',
      path: [...REF, 'name'],
      message: `ConfigMap ${ref.name} is not ${where}; its properties cannot be judged`,
    };
  }
  const text = Object.hasOwn(data, ref.key) ? data[ref.key] : undefined;
  if (typeof text !== 'string') {
    const keys = Object.keys(data).sort();
    return {
      severity: 'error',
      path: [...REF, 'key'],
      message:
        text === undefined
          ? `ConfigMap ${ref.name} has no key '${ref.key}'${didYouMean(ref.key, keys) || `; ${keysText(keys)}`}`
          : `ConfigMap ${ref.name}'s key '${ref.key}' holds no text`,
    };
  }
  const component = config.spec.twin?.component;
  return {
    source:
      schema.format === 'DTDL'
        ? { dtdl: text, ...(component === undefined ? {} : { component }) }
        : { jsonSchemaText: text },
    origin: {
      at: REF,
      where: `ConfigMap ${ref.name}, key ${ref.key}`,
      componentAt: ['spec', 'twin', 'component'],
    },
    text: { namespace, name: ref.name, key: ref.key },
  };
}

function toIssue(problem: ModelProblem, text: ConfigMapText | undefined): ValidationIssue {
  return {
    severity: problem.severity,
    path: problem.path,
    message: problem.message,
    ...(problem.atKey ? { atKey: true } : {}),
    ...(problem.textPosition && text ? { inConfigMap: { ...text, ...problem.textPosition } } : {}),
  };
}

/**
 * Problems of the schema itself (one that does not compile, a ConfigMap or key that is not there) and, when
 * `judgeValues`, of the properties it judges. None when the resource names no schema.
 */
export function judgeTwinProperties(
  config: TwinConfig,
  access: ConfigMapAccess,
  judgeValues: boolean,
): ValidationIssue[] {
  const found = schemaSource(config, access);
  if (found === undefined) return [];
  if (!('source' in found)) return [found];
  const compiled = compileTwinSchema(found.source, found.origin);
  if (!compiled.ok) return compiled.problems.map((p) => toIssue(p, found.text));
  const warnings = compiled.schema.warnings.map((p) => toIssue(p, found.text));
  if (!judgeValues) return warnings;
  return [
    ...warnings,
    ...compiled.schema.judge(config.spec.properties, PROPERTIES).map((p) => toIssue(p, undefined)),
  ];
}
