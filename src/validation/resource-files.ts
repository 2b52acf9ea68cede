// Reads resources from YAML files (multi-document), each document looked at before it is composed so that no
// file, however written, takes unbounded time, memory or stack; what cannot be read is a problem of its file.
import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Composer, CST, type Document, Lexer, LineCounter, Parser } from 'yaml';
import { FileProblems, parserMessage, type SyntaxProblem } from './file-problems.js';
import { MAX_DOCUMENTS_PER_FILE, MAX_NESTING_DEPTH, MAX_SYNTAX_PROBLEMS_PER_FILE } from './input-limits.js';
import { describeFileError, type ResourceText, readResourceText } from './resource-text.js';
import { makeDocument, type SourceDocument } from './source-document.js';
import { aliasProblem, documentSizeProblem, nestedTooDeep, nestingProblem } from './yaml-guards.js';

export type { SyntaxProblem } from './file-problems.js';
export type { SourceDocument, SourcePosition } from './source-document.js';

export interface LoadedFiles {
  documents: SourceDocument[];
  syntaxProblems: SyntaxProblem[];
}

const YAML_FILE = /\.ya?ml$/i;

/** A path given to `validate` or `sync` that cannot be used: a usage error. */
export class PathError extends Error {
  override name = 'PathError';
}

export interface FoundFiles {
  /** The YAML files, in the order they are read. */
  files: string[];
  /** Entries of the directories that look like YAML files but cannot be followed (a dangling link). */
  problems: SyntaxProblem[];
}

/** Why a directory entry that `statSync` cannot follow is no file: a link to nothing, or no right to look. */
function unreachableEntry(path: string, error: unknown): string {
  try {
    if (lstatSync(path).isSymbolicLink()) {
      const target = readlinkSync(path);
      return (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `a symbolic link to ${target}, which does not exist`
        : `a symbolic link to ${target}, which cannot be followed: ${describeFileError(error)}`;
    }
  } catch {
    // Not even the entry itself can be looked at: say why its target could not.
  }
  return `cannot be read: ${describeFileError(error)}`;
}

/**
 * The YAML files named by `paths`, directories searched recursively in name order (each directory once,
 * whatever links lead to it again). Throws a PathError for a path given that cannot be used.
 */
export function findResourceFiles(paths: readonly string[]): FoundFiles {
  const found: FoundFiles = { files: [], problems: [] };
  const seenDirectories = new Set<string>();
  const problem = (path: string, message: string) =>
    found.problems.push({ file: path, position: { line: 1, column: 1 }, message, field: '(file)' });
  const visit = (path: string, explicit: boolean) => {
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(path);
    } catch (error) {
      if (explicit) throw new PathError(`${path}: ${describeFileError(error)}`);
      problem(path, unreachableEntry(path, error));
      return;
    }
    if (!stats.isDirectory()) {
      if (explicit || YAML_FILE.test(path)) found.files.push(path);
      return;
    }
    const identity = `${stats.dev}:${stats.ino}`;
    if (seenDirectories.has(identity)) return;
    seenDirectories.add(identity);
    let entries: string[];
    try {
      entries = readdirSync(path).sort();
    } catch (error) {
      if (explicit) throw new PathError(`${path}: ${describeFileError(error)}`);
      problem(path, `a directory that cannot be listed: ${describeFileError(error)}`);
      return;
    }
    for (const entry of entries) {
      if (entry.startsWith('.') || entry === 'node_modules') continue;
      const child = join(path, entry);
      // Other entries matter only if they are directories; one that cannot be followed is passed over.
      if (YAML_FILE.test(entry) || isDirectory(child)) visit(child, false);
    }
  };
  for (const path of paths) visit(path, true);
  return found;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The YAML files of `paths` that can be looked at (see findResourceFiles). */
export function collectYamlFiles(paths: readonly string[]): string[] {
  return findResourceFiles(paths).files;
}

/** The resources of `file`; `read` is its text when it came from elsewhere (standard input). */
export function loadResourceFile(file: string, read: ResourceText = readResourceText(file)): LoadedFiles {
  if (!read.ok) {
    return {
      documents: [],
      syntaxProblems: [{ file, position: read.position, message: read.message, field: '(file)' }],
    };
  }
  const text = read.text;
  const lines = new LineCounter();
  const problems = new FileProblems(file, lines);
  const documents: SourceDocument[] = [];

  // What parseAllDocuments does, one document at a time, each looked at before it is composed.
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  // YAML 1.1, as kubectl and the API server read manifests: an unquoted Off, On, Yes or No is a boolean there.
  // Log level 'error': the library would print its warnings (a key that is a list) as Node process warnings.
  const composer = new Composer({ logLevel: 'error', prettyErrors: false, uniqueKeys: true, version: '1.1' });
  /** Documents refused before composing; the composer is given an empty one in their place. */
  const refused = new Set<number>();
  let documentTokens = 0;
  let errorTokens = 0;
  let composed = 0;
  const take = (document: Document.Parsed) => {
    const index = composed++;
    if (refused.has(index)) return;
    if (document.errors.length) {
      for (const error of document.errors) problems.add(error.pos[0], parserMessage(error.message));
      return;
    }
    if (document.contents === null) return; // an empty document (e.g. after a trailing ---)
    const aliases = aliasProblem(document);
    if (aliases) {
      problems.add(aliases.offset, aliases.message);
      return;
    }
    documents.push(makeDocument(file, index, document, lines, text));
  };

  /** A document token looked at before it is composed: refused when too big, nested too deep, or one too many. */
  const next = (token: CST.Token, end: number): boolean => {
    if (token.type === 'error' && ++errorTokens > MAX_SYNTAX_PROBLEMS_PER_FILE) {
      problems.stop(token.offset, `more than ${MAX_SYNTAX_PROBLEMS_PER_FILE} syntax errors`);
      return false;
    }
    if (token.type === 'document') {
      if (documentTokens === MAX_DOCUMENTS_PER_FILE) {
        problems.stop(token.offset, `more than ${MAX_DOCUMENTS_PER_FILE} documents in this file, the limit`);
        return false;
      }
      const refusal = documentSizeProblem(text, token.offset, end) ?? nestingProblem(token);
      if (refusal) {
        problems.add(refusal.offset, refusal.message, refusal.field);
        refused.add(documentTokens);
        token = emptyDocument(token);
      }
      documentTokens++;
    }
    for (const document of composer.next(token)) take(document);
    return true;
  };
  parseTokens(text, parser, next, problems);
  for (const document of composer.end()) take(document);
  for (const error of composer.streamInfo().errors) problems.add(error.pos[0], parserMessage(error.message));
  return { documents, syntaxProblems: problems.all() };
}

/**
 * Lexes and parses `text`, giving each token to `next` until it returns false. Flow collections (`[`, `{`)
 * are counted as they are lexed: the parser holds a kilobyte per open one, so four million '[' would take it
 * 18 s and 3.6 GB before the document could be looked at.
 */
function parseTokens(
  text: string,
  parser: Parser,
  /** `end`: where the parser is, just after the token (for a document: where the next one starts). */
  next: (token: CST.Token, end: number) => boolean,
  problems: FileProblems,
): void {
  let flowDepth = 0;
  for (const lexeme of new Lexer().lex(text)) {
    if (lexeme === '[' || lexeme === '{') {
      if (++flowDepth > MAX_NESTING_DEPTH) {
        problems.stop(parser.offset, nestedTooDeep);
        return;
      }
    } else if (lexeme === ']' || lexeme === '}') {
      flowDepth = Math.max(0, flowDepth - 1);
    } else if (lexeme === CST.DOCUMENT || lexeme === CST.FLOW_END) {
      flowDepth = 0;
    }
    for (const token of parser.next(lexeme)) if (!next(token, parser.offset)) return;
  }
  for (const token of parser.end()) if (!next(token, text.length)) return;
}

/** A document with nothing in it, at the place of one that is refused. */
function emptyDocument(token: CST.Document): CST.Document {
  return { type: 'document', offset: token.offset, start: [] };
}

/** The resources of `files`, each read from disk unless `texts` holds its text (standard input). */
export function loadResourceFiles(
  files: readonly string[],
  texts: ReadonlyMap<string, ResourceText> = new Map(),
): LoadedFiles {
  const out: LoadedFiles = { documents: [], syntaxProblems: [] };
  for (const file of files) {
    const loaded = loadResourceFile(file, texts.get(file));
    // One at a time: a spread of 100,000 documents overflows the stack.
    for (const document of loaded.documents) out.documents.push(document);
    for (const problem of loaded.syntaxProblems) out.syntaxProblems.push(problem);
  }
  return out;
}
