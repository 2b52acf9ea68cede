// Compiling a JSON Schema that someone else wrote, with Ajv, safely: a fresh Ajv per schema (nothing shared
// between sources), nothing loaded from elsewhere, patterns run by the linear-time matcher, references called
// rather than inlined (generated code stays linear in the schema), strict about unknown keywords (a misspelt
// keyword would otherwise be ignored and judge nothing), and every failure a located problem.
import { createRequire } from 'node:module';
import { Ajv, type AnySchemaObject, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { formatBytes } from '../../validation/input-limits.js';
import { pointerToPath } from '../../validation/issues.js';
import { didYouMean } from '../did-you-mean.js';
import { checkShape } from '../json-text.js';
import { MAX_JSON_SCHEMA_BYTES, MAX_PATTERN_INSTRUCTIONS, MAX_SCHEMA_KEYWORDS } from '../limits.js';
import { error, type FieldPath, type SourceProblem, warning } from '../problems.js';
import { compileSafePattern } from '../safe-pattern/pattern-machine.js';
import { CHECKED_FORMATS } from './schema-formats.js';
import { type SchemaScan, scanSchema } from './schema-scan.js';

export type CompiledJsonSchema =
  | { ok: true; validate: ValidateFunction; warnings: SourceProblem[] }
  | { ok: false; problems: SourceProblem[] };

function createAjv(scan: SchemaScan, warnings: SourceProblem[]): Ajv {
  // Patterns not in the scan are those of the draft's own meta-schema.
  const regExp = Object.assign(
    (pattern: string) => scan.patterns.get(pattern) ?? compileSafePattern(pattern, MAX_PATTERN_INSTRUCTIONS),
    { code: 'safePattern' },
  );
  const formats: Record<string, true | ((text: string) => boolean)> = {};
  for (const { name, path } of scan.formats) {
    const checked = CHECKED_FORMATS[name];
    if (checked) {
      formats[name] = checked.check;
    } else {
      formats[name] = true;
      warnings.push(
        warning(
          path,
          `the format '${name}' is not checked; the formats checked are ${Object.keys(CHECKED_FORMATS).join(', ')}`,
        ),
      );
    }
  }
  const options: Options = {
    allErrors: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    allowMatchingProperties: true,
    discriminator: true,
    inlineRefs: false,
    ownProperties: true,
    useDefaults: false,
    coerceTypes: false,
    verbose: true,
    logger: false,
    code: { regExp },
    formats,
  };
  const ajv =
    scan.draft === '2020-12'
      ? new Ajv2020(options)
      : scan.draft === '2019-09'
        ? new Ajv2019(options)
        : new Ajv(options);
  if (scan.draft === 'draft-06') {
    ajv.addMetaSchema(
      createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject,
    );
  }
  for (const keyword of scan.extensionKeywords) ajv.addKeyword(keyword);
  return ajv;
}

const TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];

/** A problem of the schema itself, as its draft's meta-schema finds it. */
function describeMetaErrors(errors: ErrorObject[], schema: unknown): SourceProblem[] {
  const byPath = new Map<string, SourceProblem>();
  for (const e of errors) {
    if (byPath.has(e.instancePath)) continue;
    const path = pointerToPath(e.instancePath);
    const keyword = path[path.length - 1];
    let value: unknown = schema;
    for (const segment of path) value = (value as Record<string | number, unknown>)?.[segment];
    let message: string;
    if (keyword === 'type' && typeof value === 'string') {
      message = `'${value}' is not a JSON Schema type${didYouMean(value, TYPES) || `; the types are ${TYPES.join(', ')}`}`;
    } else {
      message = `${typeof keyword === 'string' ? `${keyword} ` : ''}${e.message ?? 'is not valid'}`;
    }
    byPath.set(e.instancePath, error(path, message));
  }
  return [...byPath.values()];
}

/** Ajv names an unknown keyword without saying where: the first schema object that holds it is where. */
function locateKeyword(scan: SchemaScan, keyword: string): FieldPath {
  const found = scan.schemaNodes.find(({ node }) => Object.hasOwn(node, keyword));
  return found ? [...found.path, keyword] : [];
}

function describeCompileError(e: unknown, scan: SchemaScan, ajv: Ajv): SourceProblem {
  const message = e instanceof Error ? e.message : String(e);
  const missing = (e as { missingRef?: string }).missingRef;
  if (missing !== undefined) {
    const at = scan.references.find((r) => r.ref === missing || missing.endsWith(r.ref));
    return error(at?.path ?? [], `'${at?.ref ?? missing}' does not point to anything in this schema`);
  }
  const unknown = /^strict mode: unknown keyword: "(.*)"$/.exec(message);
  if (unknown) {
    const keyword = unknown[1];
    const known = Object.keys(ajv.RULES.keywords);
    return error(
      locateKeyword(scan, keyword),
      `unknown keyword '${keyword}'${didYouMean(keyword, known)}; an extension keyword starts with 'x-'`,
    );
  }
  if (e instanceof RangeError) {
    return error([], 'the schema does not compile: its references lead through too many schemas in a row');
  }
  return error([], `the schema does not compile: ${message.replace(/^strict mode: /, '')}`);
}

/** Compiles `schema` (a parsed JSON value), or says why it does not. */
export function compileJsonSchema(schema: unknown): CompiledJsonSchema {
  const shape = checkShape(schema, 'the schema');
  if (shape) return { ok: false, problems: [error(shape.path, shape.message)] };
  const bytes = Buffer.byteLength(JSON.stringify(schema) ?? '', 'utf8');
  if (bytes > MAX_JSON_SCHEMA_BYTES) {
    return {
      ok: false,
      problems: [
        error(
          [],
          `the schema is ${formatBytes(bytes)}; at most ${formatBytes(MAX_JSON_SCHEMA_BYTES)} is compiled`,
        ),
      ],
    };
  }
  const scan = scanSchema(schema);
  if (scan.problems.length > 0) return { ok: false, problems: scan.problems };
  const keywords = scan.schemaNodes.reduce((n, { node }) => n + Object.keys(node).length, 0);
  if (keywords > MAX_SCHEMA_KEYWORDS) {
    return {
      ok: false,
      problems: [
        error([], `the schema has ${keywords} keywords in all; at most ${MAX_SCHEMA_KEYWORDS} are compiled`),
      ],
    };
  }
  const warnings: SourceProblem[] = [];
  const ajv = createAjv(scan, warnings);
  try {
    if (!ajv.validateSchema(schema as object)) {
      return { ok: false, problems: describeMetaErrors(ajv.errors ?? [], schema) };
    }
    return { ok: true, validate: ajv.compile(schema as object), warnings };
  } catch (e) {
    return { ok: false, problems: [describeCompileError(e, scan, ajv)] };
  }
}
