// Builds a CustomResourceDefinition from a kind's JSON Schema: $refs inlined, JSON Schema turned into the
// structural OpenAPI v3 subset the API server accepts.
import { type CrdNames, type JsonSchema, resolveRef } from './schemas.js';

const DROPPED_KEYWORDS = new Set(['$schema', '$id', 'title', 'definitions', 'x-kubernetes-crd', 'const']);

function toOpenApi(files: Map<string, JsonSchema>, file: string, schema: JsonSchema, depth = 0): JsonSchema {
  if (depth > 40) throw new Error(`${file}: schema nests too deeply (recursive $ref?)`);
  let source = schema;
  let sourceFile = file;
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(files, file, schema.$ref);
    const { $ref: _ignored, ...siblings } = schema;
    source = { ...target.schema, ...siblings };
    sourceFile = target.file;
  }
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(source)) {
    if (DROPPED_KEYWORDS.has(keyword)) continue;
    switch (keyword) {
      case 'additionalProperties':
        // Structural schemas may not combine properties with additionalProperties: false; the API server prunes.
        if (typeof value === 'object')
          out.additionalProperties = toOpenApi(files, sourceFile, value as JsonSchema, depth + 1);
        break;
      case 'type':
        if (Array.isArray(value)) {
          const types = value.filter((t) => t !== 'null');
          out.type = types[0];
          if (types.length !== value.length) out.nullable = true;
        } else {
          out.type = value;
        }
        break;
      case 'exclusiveMinimum':
        out.minimum = value;
        out.exclusiveMinimum = true;
        break;
      case 'properties':
        out.properties = Object.fromEntries(
          Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [
            k,
            toOpenApi(files, sourceFile, v, depth + 1),
          ]),
        );
        break;
      case 'items':
        out.items = toOpenApi(files, sourceFile, value as JsonSchema, depth + 1);
        break;
      case 'anyOf':
      case 'oneOf':
      case 'allOf':
        out[keyword] = (value as JsonSchema[]).map((v) => toOpenApi(files, sourceFile, v, depth + 1));
        break;
      default:
        out[keyword] = value;
    }
  }
  if ('const' in source) out.enum = [source.const];
  return source['x-kubernetes-int-or-string'] ? intOrString(out) : out;
}

/**
 * A structural schema allows int-or-string only as `anyOf: [{type: integer}, {type: string}]`, with no other
 * keyword in the branches; their value rules move to an `allOf` without types, where each applies to its own
 * kind of value only (minimum to numbers, pattern to strings).
 */
function intOrString(schema: JsonSchema): JsonSchema {
  const branches = (schema.anyOf ?? []) as JsonSchema[];
  const rules = branches
    .map(({ type: _type, ...rest }) => rest)
    .filter((rest) => Object.keys(rest).length > 0);
  const { anyOf: _anyOf, ...others } = schema;
  return {
    ...others,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    ...(rules.length ? { allOf: rules } : {}),
  };
}

/**
 * A status the operator has not yet written reads as `{observedGeneration: 0}`: structural defaults, which the API
 * server applies whenever it reads the object from etcd, even though a create's status is dropped (the status
 * subresource). So kstatus (what Flux and cli-utils wait on) reads a resource as InProgress ("generation is 1, but
 * latest observed generation is 0") from the second it is created, not as Current until the first status write.
 */
function notYetObserved(status: JsonSchema): JsonSchema {
  const properties = status.properties as Record<string, JsonSchema> | undefined;
  if (!properties?.observedGeneration)
    throw new Error('a status without observedGeneration: kstatus needs it');
  return {
    ...status,
    default: {},
    properties: { ...properties, observedGeneration: { ...properties.observedGeneration, default: 0 } },
  };
}

/** A CEL rule the API server runs on one resource (see src/validation/crd-rules.ts). */
export interface CrdRule {
  /** Where in the resource the rule sits: `self` is the value there. */
  at: string[];
  rule: string;
  message?: string;
  messageExpression?: string;
  /** Below `at`, the field a refusal names. */
  fieldPath?: string;
}

/** Adds each rule to the schema of the field it sits on; a rule on a field the schema lacks is a build error. */
function addRules(openApi: JsonSchema, rules: readonly CrdRule[]): void {
  for (const { at, ...rule } of rules) {
    let node = openApi;
    for (const segment of at) {
      node = (node.properties as Record<string, JsonSchema> | undefined)?.[segment] as JsonSchema;
      if (!node) throw new Error(`CEL rule on ${at.join('.')}: the schema has no such field`);
    }
    node['x-kubernetes-validations'] = [...((node['x-kubernetes-validations'] as JsonSchema[]) ?? []), rule];
  }
}

export function buildCrd(
  files: Map<string, JsonSchema>,
  file: string,
  schema: JsonSchema,
  names: CrdNames,
  rules: readonly CrdRule[] = [],
): JsonSchema {
  const properties = schema.properties as Record<string, JsonSchema>;
  const openApi: JsonSchema = {
    type: 'object',
    description: schema.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: toOpenApi(files, file, properties.spec),
      status: notYetObserved(toOpenApi(files, file, properties.status)),
    },
  };
  addRules(openApi, rules);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.${names.group}` },
    spec: {
      group: names.group,
      names: {
        kind: names.kind,
        listKind: names.listKind,
        plural: names.plural,
        singular: names.singular,
        shortNames: names.shortNames,
        categories: names.categories,
      },
      scope: names.scope,
      versions: [
        {
          name: names.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: names.printerColumns,
          schema: { openAPIV3Schema: openApi },
        },
      ],
    },
  };
}
