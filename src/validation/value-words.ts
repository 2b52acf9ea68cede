// How problem messages name a value and a JSON type, the same in every validator (resources, JSON Schemas, DTDL).

/** `text` if it has at most `maxChars` UTF-16 units, else its start and `mark`, never half of a surrogate pair. */
export function cutText(text: string, maxChars: number, mark = '...'): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars).replace(/[\uD800-\uDBFF]$/, '')}${mark}`;
}

/** A value as a message shows it: a string quoted and cut at `maxChars`, a composite by its kind. */
export function showValue(value: unknown, maxChars = 60): string {
  if (typeof value === 'string') return `'${cutText(value, maxChars, '…')}'`;
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
