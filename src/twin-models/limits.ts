// How much of a schema or model is read and how much work judging may take: limits that keep the controller,
// which judges the same schemas for many resources, in bounded time and memory whatever a ConfigMap holds.
// Each is named in the message that refuses an input.

/** A ConfigMap holds at most 1 MiB, and DTDL v3 limits an Interface to 1 MiB: no real model is larger. */
export const MAX_MODEL_BYTES = 1024 * 1024;

/** Text of a JSON Schema: room for long descriptions and enums; what it costs to compile is bounded below. */
export const MAX_JSON_SCHEMA_BYTES = 256 * 1024;

/**
 * Keywords in all the subschemas of a JSON Schema: Ajv generates code for each, and 4,000 compile in about half a
 * second (measured: 1,000 subschemas of 7 keywords, 0.9 s). A twin of 100 typed properties needs some 300.
 */
export const MAX_SCHEMA_KEYWORDS = 4_000;

/** Nesting of JSON objects and arrays in a schema or model; DTDL's own limit on schemas is 5 levels. */
export const MAX_DOCUMENT_DEPTH = 64;

/** JSON values (objects, arrays, strings, numbers...) in a schema or model, whatever their size in bytes. */
export const MAX_DOCUMENT_VALUES = 100_000;

/**
 * Instructions of one compiled `pattern`: matching costs at most this many steps per character of a value.
 * `^[a-z][a-z0-9-]{0,62}$` needs 130; repetition counts multiply, so `(a{100}){100}` is refused.
 */
export const MAX_PATTERN_INSTRUCTIONS = 2_000;

/** Instructions of all the patterns of one schema together. */
export const MAX_SCHEMA_PATTERN_INSTRUCTIONS = 20_000;

/**
 * IoT Hub keeps at most 32 KiB of desired properties in a twin (standard tier): properties larger than that
 * can never be written, and refusing them first bounds the work of judging them.
 */
export const MAX_PROPERTIES_BYTES = 32 * 1024;

/** Problems reported for one properties object; more would only repeat the same mistake. */
export const MAX_PROBLEMS = 50;

/**
 * Compiled schemas kept, by a hash of their content: a cluster uses a handful of models for many TwinConfigs.
 * The largest schema or model allowed keeps about 2 MB once compiled (measured), so the cache stays under 64 MB.
 */
export const COMPILED_SCHEMA_CACHE_ENTRIES = 32;

/**
 * Steps of pattern matching for one judging of a properties object: a step advances one thread of a pattern over
 * one character. A 100-character value costs at most 200,000 steps against the largest pattern allowed.
 */
export const MAX_PATTERN_STEPS = 5_000_000;
