/** Where and why a condition or query was rejected. `line` and `column` are 1-based, `offset` 0-based. */
export interface ConditionError {
  readonly message: string;
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/**
 * Thrown inside the lexer and parser only, and turned into a `ConditionError` at the public boundary.
 * `describe` receives the position phrase ("at column 7") so every message names the place the same way.
 */
export class SyntaxFailure extends Error {
  constructor(
    readonly offset: number,
    readonly describe: (at: string) => string,
  ) {
    super('condition syntax failure');
  }
}

export function fail(offset: number, describe: (at: string) => string): never {
  throw new SyntaxFailure(offset, describe);
}

export function toConditionError(input: unknown, failure: SyntaxFailure): ConditionError {
  const text = typeof input === 'string' ? input : '';
  const { line, column } = lineAndColumn(text, failure.offset);
  const at = text.includes('\n') ? `at line ${line}, column ${column}` : `at column ${column}`;
  return { message: failure.describe(at), offset: failure.offset, line, column };
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** A character as a person can read it in a message: printable ones quoted, others as U+XXXX. */
export function showChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code <= 0x20 || (code >= 0x7f && code <= 0xa0) || (code >= 0xd800 && code <= 0xdfff)) {
    return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `'${ch}'`;
}
