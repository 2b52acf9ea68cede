// The one entry point: a TwinConfig's `schema` (a JSON Schema, inline or as text, or a DTDL model as text)
// compiled once per content into a judge of desired properties. Problems come placed in the resource: inside
// an inline schema, or at the field that names a text read from elsewhere, with the line and column in it.
import { createHash } from 'node:crypto';
import { formatBytes } from '../validation/input-limits.js';
import { formatFieldPath } from '../validation/issues.js';
import { judgeDtdlProperties } from './dtdl/dtdl-judge.js';
import { type ComponentProblem, readDtdlModel } from './dtdl/dtdl-model.js';
import type { DtdlModel } from './dtdl/dtdl-types.js';
import { compileJsonSchema } from './json-schema/schema-compile.js';
import { describeValueErrors } from './json-schema/schema-errors.js';
import { checkShape, lineAndColumn, offsetOfPath, parseBoundedJson } from './json-text.js';
import {
  COMPILED_SCHEMA_CACHE_ENTRIES,
  MAX_JSON_SCHEMA_BYTES,
  MAX_MODEL_BYTES,
  MAX_PATTERN_STEPS,
  MAX_PROBLEMS,
  MAX_PROPERTIES_BYTES,
} from './limits.js';
import { error, type FieldPath, type ModelProblem, type SourceProblem } from './problems.js';
import { PatternBudgetExceeded, withPatternBudget } from './safe-pattern/pattern-machine.js';

export type TwinSchemaSource =
  /** A JSON Schema as a parsed value: written inline in the resource, or parsed by the caller. */
  | { jsonSchema: unknown }
  /** A JSON Schema as JSON text (a ConfigMap key). */
  | { jsonSchemaText: string }
  /** A DTDL v2 or v3 model as JSON text (a ConfigMap key); with `component`, that component's properties apply. */
  | { dtdl: string; component?: string };

export interface SchemaOrigin {
  /** The field that holds the schema inline, or that names where its text is read from. */
  at: FieldPath;
  /**
   * For a schema not written in the resource, how messages name it: "ConfigMap thermostat-model, key model.json".
   * Its problems are then placed at `at`, with the place inside it in the message. Absent for an inline schema,
   * whose problems are placed inside it.
   */
  where?: string;
  /** The field that names the component: a component the model lacks is reported there (`at` otherwise). */
  componentAt?: FieldPath;
}

export interface TwinSchema {
  kind: 'jsonSchema' | 'dtdl';
  /** Problems of `properties` (the desired properties of a twin, or of its component), placed under `at`. */
  judge(properties: unknown, at?: FieldPath): ModelProblem[];
  /** What the schema asks that is not checked (a format this operator does not know), placed like its problems. */
  warnings: ModelProblem[];
  /** For a DTDL model: its Properties (see writableProperties, isWritableProperty) and components. */
  model?: DtdlModel;
}

export type CompiledTwinSchema = { ok: true; schema: TwinSchema } | { ok: false; problems: ModelProblem[] };

type Judge = (properties: Record<string, unknown>, at: FieldPath) => ModelProblem[];

interface Compiled {
  kind: 'jsonSchema' | 'dtdl';
  /** The text the source problems' paths refer to, when the source was text. */
  text?: string;
  problems: (SourceProblem | ComponentProblem)[];
  judge?: Judge;
  warnings: SourceProblem[];
  model?: DtdlModel;
}

const cache = new Map<string, Compiled>();

/** Schemas and models compiled (not taken from the cache) since the process started: see twinSchemaCompilations. */
let compilations = 0;

/**
 * How many schemas and models this process has compiled: the costly part of judging a TwinConfig (up to half a
 * second for the largest schema allowed, on the event loop). Read by the metrics and by tests that prove a steady
 * controller compiles nothing.
 */
export function twinSchemaCompilations(): number {
  return compilations;
}

function remember(content: string, compile: () => Compiled): Compiled {
  // A hash rather than the text: keys of a megabyte each would cost more than what they keep.
  const key = createHash('sha256').update(content).digest('base64');
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const compiled = compile();
  cache.set(key, compiled);
  if (cache.size > COMPILED_SCHEMA_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return compiled;
}

function compileJsonValue(schema: unknown, text?: string): Compiled {
  compilations++;
  const compiled = compileJsonSchema(schema);
  if (!compiled.ok) return { kind: 'jsonSchema', text, problems: compiled.problems, warnings: [] };
  const { validate } = compiled;
  const judge: Judge = (properties, at) =>
    validate(properties) ? [] : describeValueErrors(validate.errors ?? [], at);
  return { kind: 'jsonSchema', text, problems: [], judge, warnings: compiled.warnings };
}

function compileSource(source: TwinSchemaSource): Compiled {
  if ('jsonSchema' in source) {
    const shape = checkShape(source.jsonSchema, 'the schema');
    if (shape) return { kind: 'jsonSchema', problems: [error(shape.path, shape.message)], warnings: [] };
    return remember(`json\0${JSON.stringify(source.jsonSchema)}`, () => compileJsonValue(source.jsonSchema));
  }
  if ('jsonSchemaText' in source) {
    const text = source.jsonSchemaText;
    if (text.length > MAX_JSON_SCHEMA_BYTES) return compileJsonText(text);
    return remember(`text\0${text}`, () => compileJsonText(text));
  }
  const { dtdl, component } = source;
  if (dtdl.length > MAX_MODEL_BYTES) return compileDtdl(dtdl, component);
  return remember(`dtdl\0${component ?? ''}\0${dtdl}`, () => compileDtdl(dtdl, component));
}

function compileJsonText(text: string): Compiled {
  const parsed = parseBoundedJson(text, MAX_JSON_SCHEMA_BYTES, 'the schema');
  if (!parsed.ok) {
    return {
      kind: 'jsonSchema',
      text,
      problems: [{ ...error([], parsed.message), offset: parsed.offset }],
      warnings: [],
    };
  }
  return compileJsonValue(parsed.value, text);
}

function compileDtdl(text: string, component: string | undefined): Compiled {
  compilations++;
  const read = readDtdlModel(text, component);
  if (!read.ok) return { kind: 'dtdl', text, problems: read.problems, warnings: [] };
  const { model } = read;
  return {
    kind: 'dtdl',
    text,
    problems: [],
    warnings: [],
    model,
    judge: (p, at) => judgeDtdlProperties(model, p, at),
  };
}

function place(problem: SourceProblem | ComponentProblem, origin: SchemaOrigin, text?: string): ModelProblem {
  const { severity, message } = problem;
  if ('about' in problem) return { severity, path: origin.componentAt ?? origin.at, message };
  if (origin.where === undefined) return { severity, path: [...origin.at, ...problem.path], message };
  const position =
    text === undefined ? undefined : lineAndColumn(text, problem.offset ?? offsetOfPath(text, problem.path));
  const place = position ? `, line ${position.line}, column ${position.column}` : '';
  const inside = problem.path.length > 0 ? ` (${formatFieldPath(problem.path)})` : '';
  const placed: ModelProblem = {
    severity,
    path: origin.at,
    message: `${origin.where}${place}${inside}: ${message}`,
  };
  if (position) placed.textPosition = position;
  return placed;
}

function boundedProperties(properties: unknown, at: FieldPath): ModelProblem | undefined {
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) {
    return {
      severity: 'error',
      path: at,
      message: 'the properties must be an object of property names to values',
    };
  }
  const shape = checkShape(properties, 'the properties');
  if (shape) return { severity: 'error', path: [...at, ...shape.path], message: shape.message };
  const bytes = Buffer.byteLength(JSON.stringify(properties), 'utf8');
  if (bytes > MAX_PROPERTIES_BYTES) {
    return {
      severity: 'error',
      path: at,
      message: `the properties are ${formatBytes(bytes)} as JSON; IoT Hub keeps at most ${formatBytes(MAX_PROPERTIES_BYTES)} of desired properties in a twin`,
    };
  }
  return undefined;
}

function judgeWithin(judge: Judge, properties: unknown, at: FieldPath): ModelProblem[] {
  const refused = boundedProperties(properties, at);
  if (refused) return [refused];
  let problems: ModelProblem[];
  try {
    problems = withPatternBudget(MAX_PATTERN_STEPS, () => judge(properties as Record<string, unknown>, at));
  } catch (e) {
    // A stack overflow: references that lead through more schemas than the stack holds, for these values.
    if (e instanceof RangeError) {
      return [
        {
          severity: 'error',
          path: at,
          message: "the schema's references nest too deep to judge these properties",
        },
      ];
    }
    if (!(e instanceof PatternBudgetExceeded)) throw e;
    return [
      {
        severity: 'error',
        path: at,
        message: `the values take more than ${MAX_PATTERN_STEPS.toLocaleString('en-US')} steps to check against the schema's patterns; shorten the long strings or the patterns`,
      },
    ];
  }
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [
    ...problems.slice(0, MAX_PROBLEMS),
    { severity: 'error', path: at, message: `only the first ${MAX_PROBLEMS} problems are shown` },
  ];
}

/**
 * Compiles a TwinConfig's schema into a judge of its properties, or says why it cannot: each problem placed
 * with `origin`. The same content compiles once (kept by content, the most recently used first).
 */
export function compileTwinSchema(source: TwinSchemaSource, origin: SchemaOrigin): CompiledTwinSchema {
  const compiled = compileSource(source);
  const placed = (list: (SourceProblem | ComponentProblem)[]) =>
    list.map((p) => place(p, origin, compiled.text));
  if (!compiled.judge) return { ok: false, problems: placed(compiled.problems) };
  const judge = compiled.judge;
  const schema: TwinSchema = {
    kind: compiled.kind,
    judge: (properties, at = []) => judgeWithin(judge, properties, at),
    warnings: placed(compiled.warnings),
  };
  if (compiled.model) schema.model = compiled.model;
  return { ok: true, schema };
}
