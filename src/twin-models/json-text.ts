// JSON read from a ConfigMap key, within limits, with the place of a problem given as a line and column of the
// text: the path of a value is found again in the text rather than kept for every value while parsing.
import { formatBytes } from '../validation/input-limits.js';
import { MAX_DOCUMENT_DEPTH, MAX_DOCUMENT_VALUES } from './limits.js';
import type { FieldPath } from './problems.js';

export type ParsedJson = { ok: true; value: unknown } | { ok: false; message: string; offset?: number };

/** Parses `text` as JSON, refusing it unread when larger than `maxBytes` and when it nests or counts too much. */
export function parseBoundedJson(text: string, maxBytes: number, what: string): ParsedJson {
  // A string of more characters than maxBytes has at least as many bytes: no need to count them all.
  const bytes = text.length > maxBytes ? text.length : Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    return {
      ok: false,
      message: `${what} is ${text.length > maxBytes ? 'over ' : ''}${formatBytes(bytes)}; at most ${formatBytes(maxBytes)} is read`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // V8 quotes the text around the error and gives its position only for some errors: the position is
    // found again here, and the quotation left out (it may be long).
    const message = (e as Error).message
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/, (".*"|\.\.\.".*) is not valid JSON$/s, '')
      .replace(/^("|\.\.\.").* is not valid JSON$/s, 'not valid JSON');
    return { ok: false, message: `${what} is not valid JSON: ${message}`, offset: jsonErrorOffset(text) };
  }
  const shape = checkShape(value, what);
  return shape ? { ok: false, message: shape.message } : { ok: true, value };
}

interface WalkNode {
  value: unknown;
  depth: number;
  parent?: WalkNode;
  key?: string | number;
}

function pathOf(node: WalkNode): FieldPath {
  const path: FieldPath = [];
  for (let n: WalkNode | undefined = node; n?.key !== undefined; n = n.parent) path.unshift(n.key);
  return path;
}

/**
 * Refuses a value that nests deeper than MAX_DOCUMENT_DEPTH or holds more than MAX_DOCUMENT_VALUES values.
 * Works on values from YAML too, where aliases may make a structure that contains itself: it then nests too deep.
 */
export function checkShape(root: unknown, what: string): { message: string; path: FieldPath } | undefined {
  const stack: WalkNode[] = [{ value: root, depth: 0 }];
  let count = 1;
  const tooMany = () => ({ message: `${what} holds more than ${MAX_DOCUMENT_VALUES} JSON values`, path: [] });
  while (stack.length > 0) {
    const node = stack.pop()!;
    const { value, depth } = node;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_DOCUMENT_DEPTH) {
      return { message: `${what} nests more than ${MAX_DOCUMENT_DEPTH} levels deep`, path: pathOf(node) };
    }
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? value.map((item, index) => [index, item])
      : Object.entries(value);
    count += entries.length;
    if (count > MAX_DOCUMENT_VALUES) return tooMany();
    for (const [key, item] of entries) stack.push({ value: item, depth: depth + 1, parent: node, key });
  }
  return undefined;
}

/**
 * Offset of the first syntax error in `text`, which JSON.parse refused: a scan of its tokens, with a stack of
 * the open objects and lists (no recursion, whatever the nesting).
 */
export function jsonErrorOffset(text: string): number {
  const stack: ('{' | '[')[] = [];
  // What may come next: a value, a key (or '}'), a ':' , a ',' or the end of the container.
  let expect = 'value' as 'value' | 'firstValue' | 'key' | 'firstKey' | 'colon' | 'after';
  let i = skipWhitespace(text, 0);
  while (i < text.length) {
    const c = text[i];
    if (expect === 'after') {
      const top = stack[stack.length - 1];
      if (top === undefined) return i;
      if (c === ',') expect = top === '{' ? 'key' : 'value';
      else if ((c === '}' && top === '{') || (c === ']' && top === '[')) stack.pop();
      else return i;
      i = skipWhitespace(text, i + 1);
      continue;
    }
    if (expect === 'colon') {
      if (c !== ':') return i;
      expect = 'value';
      i = skipWhitespace(text, i + 1);
      continue;
    }
    if ((c === '}' && expect === 'firstKey') || (c === ']' && expect === 'firstValue')) {
      stack.pop();
      expect = 'after';
      i = skipWhitespace(text, i + 1);
      continue;
    }
    if (c === '"') {
      const end = endOfStringChecked(text, i);
      if (end < 0) return -end - 1;
      expect = expect === 'key' || expect === 'firstKey' ? 'colon' : 'after';
      i = skipWhitespace(text, end);
      continue;
    }
    if (expect === 'key' || expect === 'firstKey') return i;
    if (c === '{' || c === '[') {
      stack.push(c);
      expect = c === '{' ? 'firstKey' : 'firstValue';
      i = skipWhitespace(text, i + 1);
      continue;
    }
    const word = ({ t: 'true', f: 'false', n: 'null' } as Record<string, string | undefined>)[c];
    const end = word ? endOfWord(text, i, word) : endOfNumber(text, i);
    if (end < 0) return -end - 1;
    expect = 'after';
    i = skipWhitespace(text, end);
  }
  return i;
}

/** End of the string at `at`, or -(offset + 1) of the character where it stops being one. */
function endOfStringChecked(text: string, at: number): number {
  let i = at + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') return i + 1;
    if (c < ' ') return -i - 1;
    if (c === '\\') {
      const e = text[i + 1];
      if (e === 'u') {
        for (let k = i + 2; k < i + 6; k++) if (!/[0-9a-fA-F]/.test(text[k] ?? '')) return -k - 1;
        i += 6;
        continue;
      }
      if (e === undefined || !'"\\/bfnrt'.includes(e)) return -(i + 1) - 1;
      i += 2;
      continue;
    }
    i++;
  }
  return -text.length - 1;
}

function endOfWord(text: string, at: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (text[at + k] !== word[k]) return -(at + k) - 1;
  return at + word.length;
}

/** End of the number at `at`, or -(offset + 1) of the character where it stops being one. */
function endOfNumber(text: string, at: number): number {
  const digits = (from: number): number => {
    let j = from;
    while (j < text.length && text[j] >= '0' && text[j] <= '9') j++;
    return j;
  };
  let i = text[at] === '-' ? at + 1 : at;
  if (text[i] === '0') i++;
  else if (text[i] >= '1' && text[i] <= '9') i = digits(i);
  else return -i - 1;
  if (text[i] === '.') {
    const end = digits(i + 1);
    if (end === i + 1) return -end - 1;
    i = end;
  }
  if (text[i] === 'e' || text[i] === 'E') {
    const start = text[i + 1] === '+' || text[i + 1] === '-' ? i + 2 : i + 1;
    const end = digits(start);
    if (end === start) return -end - 1;
    i = end;
  }
  return i;
}

function skipWhitespace(text: string, at: number): number {
  let i = at;
  while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  return i;
}

function endOfString(text: string, at: number): number {
  let i = at + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** End of the JSON value starting at `at` in valid JSON text. */
function endOfValue(text: string, at: number): number {
  if (text[at] === '"') return endOfString(text, at);
  if (text[at] !== '{' && text[at] !== '[') {
    let i = at;
    while (i < text.length && !',]} \t\r\n'.includes(text[i])) i++;
    return i;
  }
  let depth = 0;
  let i = at;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = endOfString(text, i);
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return i;
}

/** Offset in valid JSON `text` of the value at `path` (of its key when `atKey`), or of its deepest existing parent. */
export function offsetOfPath(text: string, path: FieldPath, atKey = false): number {
  let at = skipWhitespace(text, 0);
  for (let depth = 0; depth < path.length; depth++) {
    const segment = path[depth];
    const last = depth === path.length - 1;
    let i = skipWhitespace(text, at + 1);
    let found: number | undefined;
    if (text[at] === '[' && typeof segment === 'number') {
      for (let index = 0; i < text.length && text[i] !== ']'; index++) {
        if (index === segment) {
          found = i;
          break;
        }
        i = skipWhitespace(text, endOfValue(text, i));
        i = skipWhitespace(text, text[i] === ',' ? i + 1 : i);
      }
    } else if (text[at] === '{') {
      while (i < text.length && text[i] === '"') {
        const keyEnd = endOfString(text, i);
        const key = JSON.parse(text.slice(i, keyEnd)) as string;
        const valueStart = skipWhitespace(text, skipWhitespace(text, keyEnd) + 1);
        if (key === String(segment)) {
          found = last && atKey ? i : valueStart;
          break;
        }
        i = skipWhitespace(text, endOfValue(text, valueStart));
        i = skipWhitespace(text, text[i] === ',' ? i + 1 : i);
      }
    }
    if (found === undefined) return at;
    at = found;
  }
  return at;
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
