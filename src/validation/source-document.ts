// A YAML document of a resource file with the way back from a field path to its line and column: where a
// field is written, where a missing one would go, where a character inside a scalar (a target condition) is.
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Scalar,
} from 'yaml';
import type { FieldPath } from './issues.js';

export interface SourcePosition {
  line: number;
  column: number;
}

export interface SourceDocument {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  value: unknown;
  /** Where a field is written; for a missing field, its nearest parent that is. */
  locate(path: FieldPath, options?: { offsetInValue?: number; atKey?: boolean }): SourcePosition;
  /** The source text of the unquoted scalar at `path`, if that is what is written there. */
  plainScalarText(path: FieldPath): string | undefined;
  /**
   * Where line `line`, column `column` (1-based) of the text held at `path` is written: exact in a literal block
   * scalar (`|`), whose lines are the text's; otherwise where the value starts.
   */
  locateInText(path: FieldPath, line: number, column: number): SourcePosition;
}

/**
 * The node at `path`. When the path is not all there, `exact` is false and `node`/`key` are the deepest part
 * that is: the parent mapping (or sequence) and the key it is written under (none for the document's root or a
 * sequence item).
 */
function nodeAt(document: Document, path: FieldPath): { node: Node | null; key?: Node; exact: boolean } {
  let node: Node | null = document.contents;
  let key: Node | undefined;
  for (const [index, segment] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) return { node, key, exact: false };
      key = pair.key as Node;
      const value = (pair.value as Node | null) ?? null;
      // `field:` with no value (an empty null scalar): the key is all there is to show.
      if (!value || (isScalar(value) && value.range && value.range[0] === value.range[1]))
        return { node: key, key, exact: index === path.length - 1 };
      node = value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      key = undefined;
      node = node.items[segment] as Node;
    } else {
      return { node, key, exact: false };
    }
  }
  return { node, key, exact: true };
}

const DOUBLE_QUOTED_ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_ESCAPE_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

/** A piece of a scalar's source (one character, or one escape) and the value text it stands for. */
interface SourceUnit {
  start: number;
  end: number;
  value: string;
}

/** The source of a scalar's content split into units, `from`..`to` being offsets in the file. */
function sourceUnits(text: string, from: number, to: number, type: Scalar['type']): SourceUnit[] {
  const units: SourceUnit[] = [];
  let i = from;
  while (i < to) {
    const ch = text[i];
    if (type === 'QUOTE_SINGLE' && ch === "'" && text[i + 1] === "'") {
      units.push({ start: i, end: i + 2, value: "'" });
      i += 2;
    } else if (type === 'QUOTE_DOUBLE' && ch === '\\') {
      const code = text[i + 1] ?? '';
      const hex = HEX_ESCAPE_LENGTH[code];
      if (hex !== undefined) {
        const digits = text.slice(i + 2, i + 2 + hex);
        const point = Number.parseInt(digits, 16);
        const value = /^[0-9a-fA-F]+$/.test(digits) && point <= 0x10ffff ? String.fromCodePoint(point) : '';
        units.push({ start: i, end: i + 2 + hex, value });
        i += 2 + hex;
      } else if (code === '\n' || code === '\r') {
        // An escaped line break: nothing in the value.
        const end = code === '\r' && text[i + 2] === '\n' ? i + 3 : i + 2;
        units.push({ start: i, end, value: '' });
        i = end;
      } else {
        units.push({ start: i, end: i + 2, value: DOUBLE_QUOTED_ESCAPES[code] ?? code });
        i += 2;
      }
    } else {
      const width = (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
      units.push({ start: i, end: i + width, value: text.slice(i, i + width) });
      i += width;
    }
  }
  return units;
}

const isBlank = (ch: string) => /\s/.test(ch);

/**
 * Where in the file the character at `offset` of a scalar's value is written, for values whose source is not
 * their text verbatim: block scalars (`|`, `>`), values over several lines, quoted values with escapes.
 * Line folding and indentation change only whitespace, and escapes are decoded, so the value's other
 * characters are matched in order with the source's; `undefined` when they do not line up.
 */
function offsetInScalarSource(text: string, node: Scalar, offset: number): number | undefined {
  const [start, end] = node.range ?? [0, 0];
  const value = String(node.value);
  let from = start;
  let to = end;
  if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
    // The content begins on the line after the header (`|`, `>-`, `|2`, maybe a comment).
    const lineEnd = text.indexOf('\n', start);
    if (lineEnd < 0 || lineEnd >= end) return undefined;
    from = lineEnd + 1;
  } else if (node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE') {
    from = start + 1;
    to = end - 1;
  }
  const shown = sourceUnits(text, from, to, node.type).flatMap((unit) =>
    [...unit.value].filter((ch) => !isBlank(ch)).map((ch) => ({ ch, unit })),
  );
  const wanted = [...value].filter((ch) => !isBlank(ch));
  if (shown.length !== wanted.length || shown.some((s, i) => s.ch !== wanted[i])) return undefined;
  // How many visible characters come before the offset; the offset itself is at the next one, or (on
  // whitespace or at the end, as for "unexpected end of input") just after the last.
  const before = [...value.slice(0, offset)].filter((ch) => !isBlank(ch)).length;
  const at = value[offset];
  if (at !== undefined && !isBlank(at) && before < shown.length) return shown[before].unit.start;
  if (before > 0) return shown[before - 1].unit.end;
  return shown[0]?.unit.start ?? from;
}

/**
 * The offset in the file of line `line`, column `column` of a literal block scalar's text, or undefined when its
 * source does not show that line as it is (another style, or an indentation this does not follow).
 */
function offsetInLiteralBlock(text: string, node: Scalar, line: number, column: number): number | undefined {
  if (node.type !== 'BLOCK_LITERAL' || !node.range) return undefined;
  const wanted = String(node.value).split('\n')[line - 1];
  const headerEnd = text.indexOf('\n', node.range[0]);
  if (wanted === undefined || headerEnd < 0 || headerEnd >= node.range[1]) return undefined;
  let lineStart = headerEnd + 1;
  for (let i = 1; i < line; i++) {
    const next = text.indexOf('\n', lineStart);
    if (next < 0) return undefined;
    lineStart = next + 1;
  }
  // The block's indentation is that of its first line with content (no indentation indicator is followed).
  const firstLine = /^( *)\S/m.exec(text.slice(headerEnd + 1, node.range[1]));
  if (!firstLine) return undefined;
  const contentStart = lineStart + firstLine[1].length;
  const lineEnd = text.indexOf('\n', lineStart);
  const shown = text.slice(contentStart, lineEnd < 0 ? text.length : lineEnd).replace(/\r$/, '');
  return shown === wanted && column - 1 <= wanted.length ? contentStart + column - 1 : undefined;
}

export function makeDocument(
  file: string,
  index: number,
  document: Document,
  lines: LineCounter,
  text: string,
): SourceDocument {
  const position = (offset: number): SourcePosition => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const documentStart = document.contents?.range?.[0] ?? 0;
  return {
    file,
    index,
    // Bounded by aliasProblem, which counts expansions as the values hold them (the library counts otherwise).
    value: document.toJS({ maxAliasCount: -1 }),
    plainScalarText(path) {
      const found = nodeAt(document, path);
      if (!found.exact || !isScalar(found.node) || found.node.type !== 'PLAIN' || !found.node.range)
        return undefined;
      return text.slice(found.node.range[0], found.node.range[1]);
    },
    locateInText(path, line, column) {
      const found = nodeAt(document, path);
      const start = found.node?.range?.[0] ?? documentStart;
      if (!found.exact || !isScalar(found.node)) return position(start);
      return position(offsetInLiteralBlock(text, found.node, line, column) ?? start);
    },
    locate(path, { offsetInValue, atKey } = {}) {
      const found = nodeAt(document, path);
      if (!found.exact) {
        // A missing field: the key of its nearest parent that is written, the document for a top-level one.
        return position(found.key?.range?.[0] ?? found.node?.range?.[0] ?? documentStart);
      }
      const start = found.node?.range?.[0] ?? documentStart;
      // An unknown field is best shown at its key; a value can point inside itself.
      if (found.key && offsetInValue === undefined && (atKey || !isScalar(found.node))) {
        return position(found.key.range?.[0] ?? start);
      }
      if (offsetInValue !== undefined && isScalar(found.node)) {
        const type = found.node.type;
        const quoted = type === 'QUOTE_SINGLE' || type === 'QUOTE_DOUBLE';
        const raw = text.slice(start, found.node.range?.[1] ?? start);
        if (
          (type === 'PLAIN' || quoted) &&
          !raw.includes('\n') &&
          !raw.includes("''") &&
          !raw.includes('\\')
        ) {
          return position(start + (quoted ? 1 : 0) + offsetInValue);
        }
        return position(offsetInScalarSource(text, found.node, offsetInValue) ?? start);
      }
      return position(start);
    },
  };
}
