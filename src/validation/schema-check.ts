// Structural validation of a resource against its kind's JSON Schema (the same schema the CRD is built from),
// with Ajv errors turned into messages a person can act on. Defaults from the schema are applied.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type JsonSchema, kindSchemas, loadSchemaFiles } from '../api/schemas.js';
import { type FieldPath, pointerToPath, type ValidationIssue } from './issues.js';
import { didYouMean } from './suggest.js';

/** Target's minProperties/maxProperties in words; the CRD's CEL rule on Target says the same. */
export const TARGET_FORMS_MESSAGE = 'must set exactly one of condition or deviceIds';

import { JSON_TYPE_WORDS, showValue } from './value-words.js';

interface KindValidator {
  validate: ValidateFunction;
}

let validators: Map<string, KindValidator> | undefined;

function compileValidators(): Map<string, KindValidator> {
  const files = loadSchemaFiles();
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    strict: true,
    allowUnionTypes: true,
    validateFormats: false,
    verbose: true,
  });
  ajv.addVocabulary([
    'x-kubernetes-crd',
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-preserve-unknown-fields',
    // CEL rules the API server runs; resource-rules.ts checks the same (the differential test holds them together).
    'x-kubernetes-validations',
  ]);
  for (const schema of files.values()) ajv.addSchema(schema);
  const out = new Map<string, KindValidator>();
  for (const { schema, names } of kindSchemas(files)) {
    out.set(names.kind, { validate: ajv.getSchema(schema.$id as string)! });
  }
  return out;
}

export function knownKinds(): string[] {
  validators ??= compileValidators();
  return [...validators.keys()];
}

/** Validates (and fills in defaults of) `resource` in place; returns the problems found. */
export function checkAgainstSchema(kind: string, resource: unknown): ValidationIssue[] {
  validators ??= compileValidators();
  const validator = validators.get(kind);
  if (!validator) throw new Error(`no schema for kind ${kind}`);
  if (validator.validate(resource)) return [];
  return describeErrors(validator.validate.errors ?? [], resource);
}

function valueAt(root: unknown, path: FieldPath): unknown {
  let node = root;
  for (const segment of path) node = (node as Record<string | number, unknown> | undefined)?.[segment];
  return node;
}

function patternMessage(value: unknown, parent: JsonSchema): string {
  switch (parent.title) {
    case 'IsoDuration':
      return `${showValue(value)} is not an ISO 8601 duration such as PT7M, PT1H or P1D`;
    case 'KubeDuration':
      return `${showValue(value)} is not a duration such as 30s, 10m or 1h30m`;
    case 'Sha256Hash':
      return `${showValue(value)} is not a SHA-256 hash (64 hexadecimal digits)`;
    case 'DeviceId':
      return `${showValue(value)} is not a valid IoT Hub device id (at most 128 ASCII letters, digits and - . % _ * ? ! ( ) , : = @ $ ')`;
    default:
      return `${showValue(value)} is not valid: ${String(parent.description ?? `it must match ${String(parent.pattern)}`)}`;
  }
}

function describeError(error: ErrorObject, resource: unknown): ValidationIssue | undefined {
  const path = pointerToPath(error.instancePath);
  const value = valueAt(resource, path);
  const parent = error.parentSchema as JsonSchema;
  const params = error.params as Record<string, unknown>;
  const issue = (message: string, at: FieldPath = path): ValidationIssue => ({
    severity: 'error',
    path: at,
    message,
  });
  switch (error.keyword) {
    case 'required':
      // Placed at the missing field itself (the locator falls back to the nearest parent that exists).
      return issue(`required field '${String(params.missingProperty)}' is missing`, [
        ...path,
        String(params.missingProperty),
      ]);
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const known = Object.keys((parent.properties as object | undefined) ?? {});
      return {
        ...issue(
          `unknown field '${name}'${didYouMean(name, known) || (known.length ? `; expected one of ${known.join(', ')}` : '')}`,
          [...path, name],
        ),
        atKey: true,
      };
    }
    case 'type': {
      const types = String(params.type)
        .split(',')
        .map((t) => JSON_TYPE_WORDS[t] ?? t);
      return issue(`must be ${types.join(' or ')}, not ${showValue(value)}`);
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      return issue(
        `${showValue(value)} is not one of ${allowed.join(', ')}${didYouMean(String(value), allowed)}`,
      );
    }
    case 'const':
      return issue(`must be ${showValue(params.allowedValue)}, not ${showValue(value)}`);
    case 'minimum':
    case 'exclusiveMinimum':
      return issue(
        `${showValue(value)} is below the minimum ${String(params.limit)}${error.keyword === 'exclusiveMinimum' ? ' (exclusive)' : ''}`,
      );
    case 'maximum':
      return issue(`${showValue(value)} is above the maximum ${String(params.limit)}`);
    case 'pattern':
      return issue(patternMessage(value, parent));
    case 'minLength':
      return issue(
        Number(params.limit) === 1
          ? 'must not be empty'
          : `must be at least ${String(params.limit)} characters long`,
      );
    case 'maxLength':
      return issue(
        `is ${(value as string).length} characters long; at most ${String(params.limit)} are allowed`,
      );
    case 'minItems':
      return issue(`must list at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`);
    case 'maxItems':
      return issue(`lists ${(value as unknown[]).length} items; at most ${String(params.limit)} are allowed`);
    case 'minProperties':
    case 'maxProperties':
      if (parent.title === 'Target') return issue(TARGET_FORMS_MESSAGE);
      return issue(
        error.keyword === 'minProperties'
          ? `must set at least ${String(params.limit)} field${params.limit === 1 ? '' : 's'}`
          : `may set at most ${String(params.limit)} fields`,
      );
    case 'anyOf':
      if (parent.title === 'IntOrPercent') {
        return issue(
          `${showValue(value)} must be a whole number of devices (0 or more) or a percentage such as 25%`,
        );
      }
      return issue(`${showValue(value)} matches none of the allowed forms`);
    case 'if':
      return undefined;
    default:
      return issue(error.message ?? `fails the ${error.keyword} rule`);
  }
}

function describeErrors(errors: ErrorObject[], resource: unknown): ValidationIssue[] {
  // An anyOf failure explains itself; the failures of its branches at the same place would only repeat it.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword !== 'anyOf' && anyOfPaths.has(error.instancePath)) continue;
    const issue = describeError(error, resource);
    if (!issue) continue;
    const key = `${JSON.stringify(issue.path)}|${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}
