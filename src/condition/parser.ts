import type { ComparisonOperator, Expression, LiteralValue, Operand, PathOperand } from './ast.js';
import { type Dialect, isReservedWord, pathProblem } from './dialect.js';
import { type ConditionError, fail, SyntaxFailure, toConditionError } from './errors.js';
import { formatString } from './format.js';
import { Lexer, type PathToken, type SymbolText, type Token } from './lexer.js';
import { MAX_CONDITION_LENGTH, MAX_NESTING_DEPTH } from './limits.js';

export interface ParseOptions {
  /** Which twin fields the condition may name; `deviceTarget` unless told otherwise. */
  readonly dialect?: Dialect;
}

export type ConditionParseResult =
  | { readonly ok: true; readonly expression: Expression }
  | { readonly ok: false; readonly error: ConditionError };

/**
 * Parses a WHERE-clause condition. Accepts only the subset described in `ast.ts`: the text is later
 * embedded in hub queries, so anything else (other functions, comments, ';', trailing text) is an error.
 */
export function parseCondition(text: string, options: ParseOptions = {}): ConditionParseResult {
  try {
    // Conditions arrive from custom resources; a YAML number or list must not reach the lexer.
    if (typeof text !== 'string') fail(0, (at) => `the condition must be a string (${at})`);
    if (text.length > MAX_CONDITION_LENGTH) {
      fail(
        MAX_CONDITION_LENGTH,
        (at) =>
          `the condition has ${text.length} characters, more than the limit of ${MAX_CONDITION_LENGTH} (${at})`,
      );
    }
    const lexer = new Lexer(text);
    if (lexer.peek().kind === 'eof') {
      fail(0, (at) => `the condition is empty (${at}); write one such as tags.site = 'lab'`);
    }
    const parser = new ExpressionParser(lexer, options.dialect ?? 'deviceTarget');
    const expression = parser.parseExpression();
    const rest = lexer.peek();
    if (rest.kind !== 'eof') {
      if (isSymbol(rest, ')')) fail(rest.offset, (at) => `unexpected ')' ${at}; it closes no '('`);
      unexpected(rest, 'AND, OR or the end of the condition');
    }
    return { ok: true, expression };
  } catch (error) {
    if (error instanceof SyntaxFailure) return { ok: false, error: toConditionError(text, error) };
    throw error;
  }
}

const FUNCTIONS = ['IS_DEFINED', 'STARTSWITH', 'ENDSWITH'] as const;
type FunctionName = (typeof FUNCTIONS)[number];

const COMPARISONS: Partial<Record<SymbolText, ComparisonOperator>> = {
  '=': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

/**
 * Recursive descent over the lexer's tokens; precedence NOT > AND > OR. Stops at the first token that
 * cannot continue the expression, so `parseQuery` can reuse it for the WHERE clause.
 */
export class ExpressionParser {
  private depth = 0;

  constructor(
    private readonly lexer: Lexer,
    private readonly dialect: Dialect,
  ) {}

  parseExpression(): Expression {
    return this.parseOr();
  }

  private parseOr(): Expression {
    const operands = [this.parseAnd()];
    while (this.acceptKeyword('OR')) operands.push(this.parseAnd());
    return operands.length === 1 ? operands[0] : { kind: 'or', operands };
  }

  private parseAnd(): Expression {
    const operands = [this.parseUnary()];
    while (this.acceptKeyword('AND')) operands.push(this.parseUnary());
    return operands.length === 1 ? operands[0] : { kind: 'and', operands };
  }

  private parseUnary(): Expression {
    const token = this.lexer.peek();
    if (!isKeyword(token, 'NOT')) return this.parsePrimary();
    this.lexer.next();
    this.enter(token);
    const operand = this.parseUnary();
    this.depth--;
    return { kind: 'not', operand };
  }

  private parsePrimary(): Expression {
    const token = this.lexer.peek();
    if (isSymbol(token, '(')) {
      this.lexer.next();
      this.enter(token);
      const inner = this.parseOr();
      this.expectSymbol(')', "AND, OR or ')'");
      this.depth--;
      return inner;
    }
    if (token.kind === 'path' && token.segments.length === 1 && isSymbol(this.lexer.peek(1), '(')) {
      return this.parseFunction(token);
    }
    return this.parsePredicate();
  }

  private parseFunction(nameToken: PathToken): Expression {
    const written = nameToken.segments[0];
    const name = written.toUpperCase() as FunctionName;
    if (!FUNCTIONS.includes(name)) {
      fail(
        nameToken.offset,
        (at) => `unknown function '${written}' ${at}; supported: ${FUNCTIONS.join(', ')}`,
      );
    }
    this.lexer.next();
    this.lexer.next();
    const path = this.expectPath(`a property path as the argument of ${name}`);
    if (name === 'IS_DEFINED') {
      this.expectSymbol(')', `')' after the argument of ${name}`);
      return { kind: 'isDefined', path };
    }
    this.expectSymbol(',', `',' and a string after the property path in ${name}`);
    const text = this.lexer.next();
    if (text.kind !== 'string') unexpected(text, `a quoted string as the second argument of ${name}`);
    this.expectSymbol(')', `')' after the arguments of ${name}`);
    return { kind: name === 'STARTSWITH' ? 'startsWith' : 'endsWith', path, value: text.value };
  }

  private parsePredicate(): Expression {
    const leftToken = this.lexer.peek();
    const left = this.parseOperand("a condition: a property path, a value, a function or '('");
    const next = this.lexer.peek();
    const operator = next.kind === 'symbol' ? COMPARISONS[next.value] : undefined;
    if (operator !== undefined) {
      this.lexer.next();
      const right = this.parseOperand('a value');
      if (left.kind === 'literal' && right.kind === 'literal') {
        fail(
          leftToken.offset,
          (at) => `the comparison ${at} compares two constants; one side must be a property path`,
        );
      }
      return { kind: 'compare', operator, left, right };
    }
    const membership = isKeyword(next, 'IN') ? 'in' : isKeyword(next, 'NIN') ? 'nin' : undefined;
    if (membership !== undefined && left.kind === 'path') {
      this.lexer.next();
      return { kind: membership, path: left, values: this.parseList(membership.toUpperCase()) };
    }
    const shown = describe(leftToken);
    if (left.kind === 'literal') unexpected(next, `a comparison operator after ${shown}`);
    return unexpected(next, `a comparison operator, IN or NIN after ${shown}`);
  }

  private parseOperand(expected: string): Operand {
    const token = this.lexer.peek();
    if (token.kind === 'path') {
      const constant = keywordConstant(token);
      if (constant !== undefined) {
        this.lexer.next();
        return { kind: 'literal', value: constant.value };
      }
      return this.expectPath(expected);
    }
    this.lexer.next();
    if (token.kind === 'string' || token.kind === 'number') return { kind: 'literal', value: token.value };
    return unexpected(token, expected);
  }

  private parseList(operator: string): LiteralValue[] {
    this.expectSymbol('[', `'[' and a list of values after ${operator}`);
    const opening = this.lexer.peek();
    if (isSymbol(opening, ']')) {
      fail(opening.offset, (at) => `the list after ${operator} is empty ${at}; give at least one value`);
    }
    const values: LiteralValue[] = [];
    for (;;) {
      values.push(this.parseConstant());
      const separator = this.lexer.next();
      if (isSymbol(separator, ']')) return values;
      if (!isSymbol(separator, ',')) unexpected(separator, "',' or ']' in the list of values");
    }
  }

  private parseConstant(): LiteralValue {
    const token = this.lexer.next();
    if (token.kind === 'string' || token.kind === 'number') return token.value;
    const constant = token.kind === 'path' ? keywordConstant(token) : undefined;
    if (constant !== undefined) return constant.value;
    return unexpected(token, 'a constant: a quoted string, a number, true, false or null');
  }

  /** A path token that is not a keyword and names a field the dialect allows. */
  private expectPath(expected: string): PathOperand {
    const token = this.lexer.next();
    if (token.kind !== 'path' || (token.segments.length === 1 && isReservedWord(token.segments[0]))) {
      unexpected(token, expected);
    }
    const problem = pathProblem(token.segments, this.dialect);
    if (problem !== undefined) fail(token.offset, problem);
    return { kind: 'path', segments: token.segments };
  }

  private expectSymbol(symbol: SymbolText, expected: string): void {
    const token = this.lexer.next();
    if (!isSymbol(token, symbol)) unexpected(token, expected);
  }

  private acceptKeyword(word: string): boolean {
    if (!isKeyword(this.lexer.peek(), word)) return false;
    this.lexer.next();
    return true;
  }

  private enter(token: Token): void {
    if (++this.depth > MAX_NESTING_DEPTH) {
      fail(
        token.offset,
        (at) =>
          `the condition nests deeper than ${MAX_NESTING_DEPTH} levels of '(' and NOT ${at}; simplify it`,
      );
    }
  }
}

/** Keywords are case-insensitive, like the rest of the hub's SQL-like language. */
export function isKeyword(token: Token, word: string): boolean {
  return token.kind === 'path' && token.segments.length === 1 && token.segments[0].toUpperCase() === word;
}

export function isSymbol(token: Token, symbol: SymbolText): boolean {
  return token.kind === 'symbol' && token.value === symbol;
}

function keywordConstant(token: PathToken): { value: boolean | null } | undefined {
  if (isKeyword(token, 'TRUE')) return { value: true };
  if (isKeyword(token, 'FALSE')) return { value: false };
  if (isKeyword(token, 'NULL')) return { value: null };
  return undefined;
}

export function unexpected(token: Token, expected: string): never {
  return fail(token.offset, (at) => `unexpected ${describe(token)} ${at}, expected ${expected}`);
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of input';
    case 'path':
      return `'${token.segments.join('.')}'`;
    case 'symbol':
      return `'${token.value}'`;
    case 'number':
      return `number ${token.value}`;
    case 'string': {
      const shown = token.value.length > 20 ? `${token.value.slice(0, 20)}...` : token.value;
      return `string ${formatString(shown)}`;
    }
  }
}
