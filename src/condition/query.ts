import type { Expression } from './ast.js';
import { isReservedWord, pathProblem } from './dialect.js';
import { type ConditionError, fail, SyntaxFailure, toConditionError } from './errors.js';
import { formatCondition, formatName, formatPath } from './format.js';
import { Lexer, type Token } from './lexer.js';
import { MAX_QUERY_LENGTH } from './limits.js';
import { ExpressionParser, isKeyword, isSymbol, unexpected } from './parser.js';

export type Collection = 'devices' | 'devices.modules';

/** `*`, a list of dotted field paths, or `COUNT() AS alias`. */
export type Selection = '*' | readonly string[] | { readonly count: string };

/** A twin query as the SDK sends it to `POST /devices/query`. */
export interface HubQuery {
  readonly select: Selection;
  readonly from: Collection;
  readonly where?: Expression;
}

export type QueryParseResult =
  | { readonly ok: true; readonly query: HubQuery }
  | { readonly ok: false; readonly error: ConditionError };

/**
 * Parses `SELECT * | fields | COUNT() AS alias FROM devices | devices.modules [WHERE condition]`.
 * The condition uses the `hubQuery` dialect. GROUP BY, TOP, ORDER BY and devices.jobs are rejected:
 * nothing in the operator needs them.
 */
export function parseQuery(text: string): QueryParseResult {
  try {
    if (typeof text !== 'string') fail(0, (at) => `the query must be a string (${at})`);
    if (text.length > MAX_QUERY_LENGTH) {
      fail(
        MAX_QUERY_LENGTH,
        (at) =>
          `the query has ${text.length} characters, more than the hub's limit of ${MAX_QUERY_LENGTH} (${at})`,
      );
    }
    const lexer = new Lexer(text);
    expectKeyword(lexer, 'SELECT');
    const select = parseSelection(lexer);
    expectKeyword(lexer, 'FROM');
    const from = parseCollection(lexer);
    let where: Expression | undefined;
    if (isKeyword(lexer.peek(), 'WHERE')) {
      lexer.next();
      where = new ExpressionParser(lexer, 'hubQuery').parseExpression();
    }
    expectEnd(
      lexer,
      where === undefined ? 'WHERE or the end of the query' : 'AND, OR or the end of the query',
    );
    return { ok: true, query: where === undefined ? { select, from } : { select, from, where } };
  } catch (error) {
    if (error instanceof SyntaxFailure) return { ok: false, error: toConditionError(text, error) };
    throw error;
  }
}

/** Canonical query text; `parseQuery(formatQuery(q))` gives back `q`. */
export function formatQuery(query: HubQuery): string {
  const where = query.where === undefined ? '' : ` WHERE ${formatCondition(query.where)}`;
  return `SELECT ${formatSelection(query.select)} FROM ${query.from}${where}`;
}

function formatSelection(select: Selection): string {
  if (select === '*') return '*';
  if ('count' in select) return `COUNT() AS ${formatName(select.count)}`;
  return select.map((field) => formatPath({ kind: 'path', segments: field.split('.') })).join(', ');
}

function parseSelection(lexer: Lexer): Selection {
  const first = lexer.peek();
  if (isSymbol(first, '*')) {
    lexer.next();
    return '*';
  }
  if (isKeyword(first, 'TOP')) {
    fail(
      first.offset,
      (at) => `TOP ${at} is not supported; page through results with the continuation token`,
    );
  }
  if (first.kind === 'path' && first.segments.length === 1 && isSymbol(lexer.peek(1), '('))
    return parseCount(lexer);

  const fields: string[] = [];
  const outputNames = new Map<string, string>();
  for (;;) {
    const token = lexer.next();
    if (token.kind !== 'path' || (token.segments.length === 1 && isReservedWord(token.segments[0]))) {
      unexpected(token, "'*', COUNT() or a twin field to select");
    }
    const problem = pathProblem(token.segments, 'hubQuery', { allowContainers: true });
    if (problem !== undefined) fail(token.offset, problem);
    const path = token.segments.join('.');
    // The hub names each projected field by its last key, so two fields ending in the same name collide.
    const outputName = token.segments[token.segments.length - 1].toLowerCase();
    const earlier = outputNames.get(outputName);
    if (earlier !== undefined) {
      fail(
        token.offset,
        (at) => `'${path}' ${at} and '${earlier}' would both be returned as '${outputName}'; select one`,
      );
    }
    outputNames.set(outputName, path);
    fields.push(path);
    const next = lexer.peek();
    if (isKeyword(next, 'AS')) fail(next.offset, (at) => `aliases ${at} are supported only for COUNT()`);
    if (!isSymbol(next, ',')) return fields;
    lexer.next();
  }
}

function parseCount(lexer: Lexer): Selection {
  const name = lexer.next();
  if (!isKeyword(name, 'COUNT')) {
    const written = name.kind === 'path' ? name.segments[0] : '';
    fail(name.offset, (at) => `unsupported function '${written}' ${at} in SELECT; only COUNT() is supported`);
  }
  lexer.next();
  const close = lexer.next();
  if (!isSymbol(close, ')')) unexpected(close, "')': COUNT takes no arguments");
  const as = lexer.next();
  if (!isKeyword(as, 'AS')) unexpected(as, 'AS and a name for the count, as in COUNT() AS numberOfDevices');
  const alias = lexer.next();
  if (alias.kind !== 'path' || alias.segments.length !== 1 || isReservedWord(alias.segments[0])) {
    unexpected(alias, 'a name for the count, such as numberOfDevices');
  }
  return { count: alias.segments[0] };
}

function parseCollection(lexer: Lexer): Collection {
  const token = lexer.next();
  if (token.kind !== 'path') unexpected(token, 'devices or devices.modules');
  const name = token.segments.join('.');
  const collection = name.toLowerCase();
  if (collection !== 'devices' && collection !== 'devices.modules') {
    fail(token.offset, (at) => `unsupported collection '${name}' ${at}; use devices or devices.modules`);
  }
  return collection;
}

function expectKeyword(lexer: Lexer, word: string): void {
  const token = lexer.next();
  if (!isKeyword(token, word)) unexpected(token, word);
}

function expectEnd(lexer: Lexer, expected: string): void {
  const token: Token = lexer.peek();
  if (token.kind === 'eof') return;
  for (const clause of ['GROUP', 'ORDER']) {
    if (isKeyword(token, clause)) fail(token.offset, (at) => `${clause} BY ${at} is not supported`);
  }
  if (isSymbol(token, ')')) fail(token.offset, (at) => `unexpected ')' ${at}; it closes no '('`);
  unexpected(token, expected);
}
