// The lexical rules of DTDL v2 and v3 that this reader checks: contexts, identifiers (DTMIs), names, types.
import { didYouMean, listNames } from '../did-you-mean.js';
import type { DtdlVersion } from './dtdl-types.js';

export const DTDL_CONTEXTS: Record<string, DtdlVersion> = {
  'dtmi:dtdl:context;2': 2,
  'dtmi:dtdl:context;3': 3,
};

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The DTDL version a `@context` sets, or why it sets none: the DTDL context must come first (spec, Context). */
export function contextVersion(context: unknown): DtdlVersion | string {
  const first = Array.isArray(context) ? context[0] : context;
  if (typeof first !== 'string') {
    return 'the @context must be "dtmi:dtdl:context;2" or "dtmi:dtdl:context;3" (first, when it lists several)';
  }
  const version = DTDL_CONTEXTS[first];
  if (version !== undefined) return version;
  if (/^dtmi:dtdl:context;\d+$/.test(first)) {
    return `${first} is a DTDL version this operator does not read; it reads DTDL v2 (dtmi:dtdl:context;2) and v3 (dtmi:dtdl:context;3)`;
  }
  return `'${first}' is not a DTDL context; the first @context must be "dtmi:dtdl:context;2" or "dtmi:dtdl:context;3"`;
}

const SEGMENT = '[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?';
const DTMI_V2 = new RegExp(`^dtmi:${SEGMENT}(?::${SEGMENT})*;[1-9][0-9]{0,8}$`);
// v3: the version may be left out, or have a minor part (spec v3, Digital Twin Model Identifier).
const DTMI_V3 = new RegExp(`^dtmi:${SEGMENT}(?::${SEGMENT})*(?:;[1-9][0-9]{0,8}(?:\\.[1-9][0-9]{0,5})?)?$`);
const MAX_DTMI_LENGTH = 2048;
export const MAX_INTERFACE_DTMI_LENGTH = 128;

/** Whether `text` is a user DTMI as the version writes them (system segments, starting with _, are refused). */
export function isDtmi(text: string, version: DtdlVersion): boolean {
  return text.length <= MAX_DTMI_LENGTH && (version === 2 ? DTMI_V2 : DTMI_V3).test(text);
}

/** Looks like an identifier rather than a schema's name: used to tell a missing definition from a typo. */
export function looksLikeDtmi(text: string): boolean {
  return text.startsWith('dtmi:');
}

const NAME = /^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$/;

/** Why `name` cannot be the name of an element, or undefined when it can. */
export function nameProblem(name: unknown, version: DtdlVersion): string | undefined {
  if (typeof name !== 'string') return 'the name must be a string';
  const max = version === 2 ? 64 : 512;
  if (name.length > max) return `the name '${name.slice(0, 40)}…' is longer than ${max} characters`;
  if (!NAME.test(name)) {
    return `'${name}' is not a DTDL name: letters, digits and underscores, starting with a letter and not ending with an underscore`;
  }
  return undefined;
}

/** The `@type` of an element as a list (it may have co-types), or undefined when it is not a string or list. */
export function typesOf(node: JsonObject): string[] | undefined {
  const type = node['@type'];
  if (typeof type === 'string') return [type];
  if (Array.isArray(type) && type.length > 0 && type.every((t) => typeof t === 'string')) return type;
  return undefined;
}

/**
 * The one DTDL type of `types` among `expected`; the others are co-types (semantic types, extensions, or
 * undefined ones, which DTDL permits). A message when none or several are there.
 */
export function mainType<T extends string>(
  types: string[] | undefined,
  expected: readonly T[],
): { type: T } | { message: string } {
  if (types === undefined)
    return {
      message: `@type must be ${expected.map((e) => `'${e}'`).join(', ')} or a list with one of them`,
    };
  const found = types.filter((t): t is T => (expected as readonly string[]).includes(t));
  if (found.length === 1) return { type: found[0] };
  if (found.length > 1)
    return { message: `@type lists ${found.join(' and ')}; an element has only one of them` };
  const shown = types.length === 1 ? `'${types[0]}'` : `[${listNames(types, 'types')}]`;
  const hint = types.map((t) => didYouMean(t, expected)).find((h) => h !== '') ?? '';
  return {
    message: `@type ${shown} is not ${expected.length === 1 ? `'${expected[0]}'` : `one of ${expected.join(', ')}`}${hint}`,
  };
}
