// Reads resources from YAML files (multi-document), each document looked at before it is composed so that no
// file, however written, takes unbounded time, memory or stack; what cannot be read is a problem of its file.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Composer, CST, type Document, Lexer, LineCounter, Parser } from 'yaml';
import { FileProblems, parserMessage, type SyntaxProblem } from './file-problems.js';
import { MAX_DOCUMENTS_PER_FILE, MAX_NESTING_DEPTH, MAX_SYNTAX_PROBLEMS_PER_FILE } from './input-limits.js';
import { readResourceText } from './resource-text.js';
import { makeDocument, type SourceDocument } from './source-document.js';
import { aliasProblem, documentSizeProblem, nestedTooDeep, nestingProblem } from './yaml-guards.js';

export type { SyntaxProblem } from './file-problems.js';
export type { SourceDocument, SourcePosition } from './source-document.js';

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

export function loadResourceFile(file: string): LoadedFiles {
  const read = readResourceText(file);
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
  const composer = new Composer({ prettyErrors: false, uniqueKeys: true, version: '1.1' });
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

export function loadResourceFiles(files: readonly string[]): LoadedFiles {
  const out: LoadedFiles = { documents: [], syntaxProblems: [] };
  for (const file of files) {
    const loaded = loadResourceFile(file);
    // One at a time: a spread of 100,000 documents overflows the stack.
    for (const document of loaded.documents) out.documents.push(document);
    for (const problem of loaded.syntaxProblems) out.syntaxProblems.push(problem);
  }
  return out;
}
