// Reads resources from YAML files (multi-document) and maps field paths back to lines and columns.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
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
}

export interface SyntaxProblem {
  file: string;
  position: SourcePosition;
  message: string;
}

export interface LoadedFiles {
  documents: SourceDocument[];
  syntaxProblems: SyntaxProblem[];
}

const YAML_FILE = /\.ya?ml$/i;

/** The YAML files named by `paths`, directories searched recursively in name order. Throws on a missing path. */
export function collectYamlFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const visit = (path: string, explicit: boolean) => {
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(path);
    } catch {
      throw new Error(`${path}: no such file or directory`);
    }
    if (stats.isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        if (entry.startsWith('.') || entry === 'node_modules') continue;
        const child = join(path, entry);
        if (statSync(child).isDirectory() || YAML_FILE.test(entry)) visit(child, false);
      }
    } else if (explicit || YAML_FILE.test(path)) {
      files.push(path);
    }
  };
  for (const path of paths) visit(path, true);
  return files;
}

function nodeAt(document: Document, path: FieldPath): { node: Node | null; key?: Node; exact: boolean } {
  let node: Node | null = document.contents;
  let key: Node | undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) return { node, key, exact: false };
      key = pair.key as Node;
      node = (pair.value as Node | null) ?? null;
      if (!node) return { node: key, key, exact: true };
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      key = undefined;
      node = node.items[segment] as Node;
    } else {
      return { node, key, exact: false };
    }
  }
  return { node, key, exact: true };
}

function makeDocument(
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
  return {
    file,
    index,
    value: document.toJS({ maxAliasCount: 100 }),
    locate(path, { offsetInValue, atKey } = {}) {
      const found = nodeAt(document, path);
      const start = found.node?.range?.[0] ?? document.contents?.range?.[0] ?? 0;
      // An unknown field is best shown at its key; a value on a single line can point inside itself.
      if (found.exact && found.key && offsetInValue === undefined && (atKey || !isScalar(found.node))) {
        return position(found.key.range?.[0] ?? start);
      }
      if (found.exact && offsetInValue !== undefined && isScalar(found.node)) {
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
      }
      return position(start);
    },
  };
}

export function loadResourceFile(file: string): LoadedFiles {
  const text = readFileSync(file, 'utf8');
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const documents: SourceDocument[] = [];
  const syntaxProblems: SyntaxProblem[] = [];
  const all = Array.isArray(parsed) ? parsed : [];
  all.forEach((document, index) => {
    if (document.errors.length) {
      for (const error of document.errors) {
        const { line, col } = lines.linePos(error.pos[0]);
        syntaxProblems.push({ file, position: { line, column: col }, message: error.message.split('\n')[0] });
      }
      return;
    }
    if (document.contents === null) return; // an empty document (e.g. after a trailing ---)
    documents.push(makeDocument(file, index, document, lines, text));
  });
  return { documents, syntaxProblems };
}

export function loadResourceFiles(files: readonly string[]): LoadedFiles {
  const out: LoadedFiles = { documents: [], syntaxProblems: [] };
  for (const file of files) {
    const loaded = loadResourceFile(file);
    out.documents.push(...loaded.documents);
    out.syntaxProblems.push(...loaded.syntaxProblems);
  }
  return out;
}
