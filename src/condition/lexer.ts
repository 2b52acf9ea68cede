import { fail, showChar } from './errors.js';

export type SymbolText = '(' | ')' | '[' | ']' | ',' | '*' | '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=';

interface Span {
  readonly offset: number;
  readonly end: number;
}

/** A dotted name. Keywords (AND, IN, SELECT, ...) arrive as one-segment paths; the parser tells them apart. */
export interface PathToken extends Span {
  readonly kind: 'path';
  readonly segments: readonly string[];
}

export type Token =
  | PathToken
  | (Span & { readonly kind: 'string'; readonly value: string })
  | (Span & { readonly kind: 'number'; readonly value: number })
  | (Span & { readonly kind: 'symbol'; readonly value: SymbolText })
  | (Span & { readonly kind: 'eof' });

/**
 * Property names are ASCII letters, digits and '_' (plus a leading '$' for system properties such as
 * `$version`). Twin keys may hold other characters, but in the query language '-' is subtraction and the
 * hub's bracket escape (`tags.[[group]]`) is outside our subset, so such keys cannot be targeted.
 */
const isNameStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isNamePart = (c: number) => isNameStart(c) || isDigit(c);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

const NAME_RULE = "property names may use only letters, digits and '_'";

/** Scans lazily so the first error reported is the leftmost one the parser reaches. */
export class Lexer {
  private pos = 0;
  private readonly lookahead: Token[] = [];

  constructor(private readonly text: string) {}

  peek(ahead = 0): Token {
    while (this.lookahead.length <= ahead) this.lookahead.push(this.scan());
    return this.lookahead[ahead];
  }

  next(): Token {
    const token = this.peek();
    this.lookahead.shift();
    return token;
  }

  private scan(): Token {
    const text = this.text;
    while (this.pos < text.length && isSpace(text.charCodeAt(this.pos))) this.pos++;
    const start = this.pos;
    if (start >= text.length) return { kind: 'eof', offset: start, end: start };
    const c = text.charCodeAt(start);
    const next = text.charCodeAt(start + 1);

    if (isNameStart(c) || c === 36) return this.scanPath();
    if (isDigit(c) || (c === 45 && isDigit(next))) return this.scanNumber();
    if (c === 39 || c === 34) return this.scanString();

    switch (c) {
      case 40:
      case 41:
      case 91:
      case 93:
      case 44:
      case 42:
        return this.symbol(text[start] as SymbolText, 1);
      case 61:
        if (next === 61) fail(start, (at) => `'==' ${at} is not an operator; use '=' to compare`);
        return this.symbol('=', 1);
      case 33:
        if (next === 61) return this.symbol('!=', 2);
        return fail(start, (at) => `unexpected '!' ${at}; use NOT to negate or '!=' to compare`);
      case 60:
        if (next === 61) return this.symbol('<=', 2);
        if (next === 62) return this.symbol('<>', 2);
        return this.symbol('<', 1);
      case 62:
        if (next === 61) return this.symbol('>=', 2);
        return this.symbol('>', 1);
      case 45:
        if (next === 45) fail(start, (at) => `comments are not allowed: '--' ${at}`);
        return fail(
          start,
          (at) => `unexpected '-' ${at}; ${NAME_RULE}, and arithmetic is not supported in conditions`,
        );
      case 47:
        if (next === 42) fail(start, (at) => `comments are not allowed: '/*' ${at}`);
        return fail(start, (at) => `unexpected '/' ${at}; arithmetic is not supported in conditions`);
      case 43:
      case 37:
        return fail(
          start,
          (at) => `unexpected '${text[start]}' ${at}; arithmetic is not supported in conditions`,
        );
      case 59:
        return fail(start, (at) => `unexpected ';' ${at}; a condition is a single expression without ';'`);
      default:
        return fail(start, (at) => `unexpected character ${showChar(charAt(text, start))} ${at}`);
    }
  }

  private symbol(value: SymbolText, length: number): Token {
    const offset = this.pos;
    this.pos += length;
    return { kind: 'symbol', value, offset, end: this.pos };
  }

  private scanPath(): PathToken {
    const text = this.text;
    const offset = this.pos;
    const segments: string[] = [];
    for (;;) {
      const segmentStart = this.pos;
      if (text.charCodeAt(this.pos) === 36) this.pos++;
      if (!isNameStart(text.charCodeAt(this.pos))) {
        const bad = this.pos;
        if (bad > segmentStart) {
          fail(
            bad,
            (at) =>
              `unexpected ${describeCharAt(text, bad)} ${at}; ${NAME_RULE} and start with a letter or '_'`,
          );
        }
        fail(
          bad,
          (at) => `expected a property name after '.' ${at}; ${NAME_RULE} and start with a letter or '_'`,
        );
      }
      while (isNamePart(text.charCodeAt(this.pos))) this.pos++;
      segments.push(text.slice(segmentStart, this.pos));
      if (text.charCodeAt(this.pos) !== 46) break;
      this.pos++;
    }
    const after = text.charCodeAt(this.pos);
    if (after === 45) {
      const bad = this.pos;
      fail(bad, (at) => `unexpected '-' ${at}; ${NAME_RULE} (the hub reads '-' as subtraction)`);
    }
    if (after === 36 || after > 127) {
      const bad = this.pos;
      fail(bad, (at) => `unexpected ${describeCharAt(text, bad)} ${at}; ${NAME_RULE}`);
    }
    return { kind: 'path', segments, offset, end: this.pos };
  }

  private scanNumber(): Token {
    const text = this.text;
    const offset = this.pos;
    if (text.charCodeAt(this.pos) === 45) this.pos++;
    while (isDigit(text.charCodeAt(this.pos))) this.pos++;
    if (text.charCodeAt(this.pos) === 46 && isDigit(text.charCodeAt(this.pos + 1))) {
      this.pos++;
      while (isDigit(text.charCodeAt(this.pos))) this.pos++;
    }
    const after = text.charCodeAt(this.pos);
    if (isNamePart(after) || after === 46 || after === 36) {
      let end = this.pos;
      while (end < text.length && (isNamePart(text.charCodeAt(end)) || text.charCodeAt(end) === 46)) end++;
      const written = text.slice(offset, end);
      fail(
        offset,
        (at) => `malformed number '${written}' ${at}; write numbers as plain decimals such as 42, -7 or 0.25`,
      );
    }
    const written = text.slice(offset, this.pos);
    const value = Number(written);
    if (!Number.isFinite(value)) fail(offset, (at) => `number ${at} is too large`);
    // -0 and 0 are the same number to the hub; one spelling keeps parse(format(x)) exact.
    return { kind: 'number', value: value === 0 ? 0 : value, offset, end: this.pos };
  }

  /** Quotes and escapes as the hub documents them: '...' or "...", with \' \" \\ and \uXXXX. */
  private scanString(): Token {
    const text = this.text;
    const offset = this.pos;
    const quote = text.charCodeAt(offset);
    let value = '';
    let chunkStart = ++this.pos;
    for (;;) {
      if (this.pos >= text.length) {
        fail(offset, (at) => `unterminated string starting ${at}; close it with ${quote === 39 ? "'" : '"'}`);
      }
      const c = text.charCodeAt(this.pos);
      if (c === quote) break;
      if (c < 0x20 || c === 0x7f) {
        const bad = this.pos;
        fail(
          bad,
          (at) => `control character ${showChar(text[bad])} inside a string ${at}; write it as \\u${hex4(c)}`,
        );
      }
      if (c !== 92) {
        this.pos++;
        continue;
      }
      value += text.slice(chunkStart, this.pos);
      const escaped = text.charCodeAt(this.pos + 1);
      if (escaped === 39 || escaped === 34 || escaped === 92) {
        value += text[this.pos + 1];
        this.pos += 2;
      } else if (escaped === 117 && [2, 3, 4, 5].every((i) => isHex(text.charCodeAt(this.pos + i)))) {
        value += String.fromCharCode(Number.parseInt(text.slice(this.pos + 2, this.pos + 6), 16));
        this.pos += 6;
      } else {
        const bad = this.pos;
        const shown = text.slice(bad, bad + 2);
        fail(bad, (at) => `unsupported escape '${shown}' ${at}; strings allow \\', \\", \\\\ and \\uXXXX`);
      }
      chunkStart = this.pos;
    }
    value += text.slice(chunkStart, this.pos);
    this.pos++;
    return { kind: 'string', value, offset, end: this.pos };
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function charAt(text: string, offset: number): string {
  return String.fromCodePoint(text.codePointAt(offset) ?? 0);
}

function describeCharAt(text: string, offset: number): string {
  return offset >= text.length ? 'end of input' : showChar(charAt(text, offset));
}

function hex4(code: number): string {
  return code.toString(16).padStart(4, '0');
}
