// Ajv's findings on a twin's properties, worded as src/validation words the problems of a resource and placed
// at the property, field or item they are about.
import type { ErrorObject } from 'ajv';
import { pointerToPath } from '../../validation/issues.js';
import { JSON_TYPE_WORDS, showValue } from '../../validation/value-words.js';
import { didYouMean, listNames } from '../did-you-mean.js';
import { MAX_PROBLEMS } from '../limits.js';
import type { FieldPath, ModelProblem } from '../problems.js';
import { CHECKED_FORMATS } from './schema-formats.js';

function plural(n: unknown, word: string): string {
  return `${String(n)} ${word}${n === 1 ? '' : 's'}`;
}

function describe(e: ErrorObject, at: FieldPath): ModelProblem | undefined {
  const inner = pointerToPath(e.instancePath);
  const path = [...at, ...inner];
  const value = e.data;
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const problem = (message: string, where: FieldPath = path, atKey = false): ModelProblem =>
    atKey ? { severity: 'error', path: where, message, atKey } : { severity: 'error', path: where, message };
  switch (e.keyword) {
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const name = String(params.additionalProperty ?? params.unevaluatedProperty);
      const known = Object.keys((parent.properties as object | undefined) ?? {});
      const what =
        inner.length === 0 ? `'${name}' is not a property the schema allows` : `unknown field '${name}'`;
      const hint =
        didYouMean(name, known) ||
        (known.length > 0 ? `; expected one of ${listNames(known, 'properties')}` : '');
      return problem(`${what}${hint}`, [...path, name], true);
    }
    case 'propertyNames':
      return problem(
        `'${String(params.propertyName)}' is not a name the schema allows here`,
        [...path, String(params.propertyName)],
        true,
      );
    case 'required':
      return problem(
        `required ${inner.length === 0 ? 'property' : 'field'} '${String(params.missingProperty)}' is missing`,
        [...path, String(params.missingProperty)],
      );
    case 'dependencies':
    case 'dependentRequired':
      return problem(
        `'${String(params.missingProperty)}' is required when '${String(params.property)}' is set`,
      );
    case 'type': {
      const types = String(params.type)
        .split(',')
        .map((t) => JSON_TYPE_WORDS[t] ?? t);
      return problem(`must be ${types.join(' or ')}, not ${showValue(value)}`);
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v).slice(0, 60));
      const hint =
        typeof value === 'string'
          ? didYouMean(
              value,
              (params.allowedValues as unknown[]).filter((v) => typeof v === 'string') as string[],
            )
          : '';
      return problem(`${showValue(value)} is not one of ${listNames(allowed, 'values')}${hint}`);
    }
    case 'const':
      return problem(`must be ${JSON.stringify(params.allowedValue)}, not ${showValue(value)}`);
    case 'minimum':
    case 'exclusiveMinimum':
      return problem(
        `${showValue(value)} is below the minimum ${String(params.limit)}${e.keyword === 'exclusiveMinimum' ? ' (exclusive)' : ''}`,
      );
    case 'maximum':
    case 'exclusiveMaximum':
      return problem(
        `${showValue(value)} is above the maximum ${String(params.limit)}${e.keyword === 'exclusiveMaximum' ? ' (exclusive)' : ''}`,
      );
    case 'multipleOf':
      return problem(`${showValue(value)} is not a multiple of ${String(params.multipleOf)}`);
    case 'minLength':
      return problem(
        Number(params.limit) === 1
          ? 'must not be empty'
          : `must be at least ${plural(params.limit, 'character')} long`,
      );
    case 'maxLength':
      return problem(
        `is ${(value as string).length} characters long; at most ${String(params.limit)} are allowed`,
      );
    case 'pattern':
      return problem(`${showValue(value)} does not match the pattern ${String(params.pattern)}`);
    case 'format': {
      const format = String(params.format);
      return problem(`${showValue(value)} is not ${CHECKED_FORMATS[format]?.words ?? `a valid ${format}`}`);
    }
    case 'minItems':
      return problem(`must list at least ${plural(params.limit, 'item')}`);
    case 'maxItems':
      return problem(
        `lists ${(value as unknown[]).length} items; at most ${String(params.limit)} are allowed`,
      );
    case 'uniqueItems':
      return problem(
        `items ${String(params.j)} and ${String(params.i)} are the same; the items must be unique`,
      );
    case 'minProperties':
      return problem(`must set at least ${plural(params.limit, 'field')}`);
    case 'maxProperties':
      return problem(`may set at most ${plural(params.limit, 'field')}`);
    case 'anyOf':
      return problem(`${showValue(value)} matches none of the forms the schema allows`);
    case 'oneOf':
      return problem(
        params.passingSchemas
          ? `${showValue(value)} matches more than one of the forms the schema allows; it must match exactly one`
          : `${showValue(value)} matches none of the forms the schema allows`,
      );
    case 'not':
      return problem(`${showValue(value)} is a value the schema forbids here`);
    case 'false schema':
      return problem(
        inner.length === 0 ? 'the schema allows no properties' : 'the schema allows no value here',
      );
    case 'if':
      return undefined;
    default:
      return problem(e.message ?? `fails the ${e.keyword} rule`);
  }
}

/** Problems of the properties, each once; an anyOf or oneOf failure stands for those of its branches. */
export function describeValueErrors(errors: ErrorObject[], at: FieldPath): ModelProblem[] {
  const alternatives = new Set(
    errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath),
  );
  const underAlternative = (e: ErrorObject) =>
    [...alternatives].some((p) => e.schemaPath.startsWith(`${p}/`));
  const problems: ModelProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // One more than are shown: enough to say that others are not.
    if (problems.length > MAX_PROBLEMS) break;
    if (underAlternative(e)) continue;
    const problem = describe(e, at);
    if (!problem) continue;
    const key = `${JSON.stringify(problem.path)}|${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}
