// How problem messages name a value and a JSON type, the same in every validator (resources, JSON Schemas, DTDL).

/** A value as a message shows it: a string quoted and cut at `maxChars`, a composite by its kind. */
export function showValue(value: unknown, maxChars = 60): string {
  if (typeof value === 'string')
    return `'${value.length > maxChars ? `${value.slice(0, maxChars)}…` : value}'`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** A JSON Schema type in words. */
export const JSON_TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};
