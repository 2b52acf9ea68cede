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
    const message = (e as Error).message;
    const position = /at position (\d+)/.exec(message);
    return {
      ok: false,
      message: `${what} is not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '')}`,
      offset: position ? Number(position[1]) : undefined,
    };
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
