import assert from 'node:assert/strict';
import {
  type ConditionError,
  type Expression,
  type HubQuery,
  type ParseOptions,
  parseCondition,
  parseQuery,
} from '../../src/condition/index.js';

export function parsed(text: string, options?: ParseOptions): Expression {
  const result = parseCondition(text, options);
  if (!result.ok) assert.fail(`expected '${text}' to parse, got: ${result.error.message}`);
  return result.expression;
}

export function rejected(text: string, options?: ParseOptions): ConditionError {
  const result = parseCondition(text, options);
  if (result.ok) assert.fail(`expected '${text}' to be rejected`);
  return result.error;
}

export function parsedQuery(text: string): HubQuery {
  const result = parseQuery(text);
  if (!result.ok) assert.fail(`expected '${text}' to parse, got: ${result.error.message}`);
  return result.query;
}

export function rejectedQuery(text: string): ConditionError {
  const result = parseQuery(text);
  if (result.ok) assert.fail(`expected '${text}' to be rejected`);
  return result.error;
}

export const path = (dotted: string) => ({ kind: 'path', segments: dotted.split('.') }) as const;
export const literal = (value: string | number | boolean | null) => ({ kind: 'literal', value }) as const;
