// The syntax tree of a JSON Schema `pattern` in the subset that a linear-time matcher can run: ECMAScript
// regular expressions (with the `u` flag, as Ajv compiles them) without backreferences and lookaround, which is
// the subset the JSON Schema specification recommends for interoperability.

export type CodePointTest = (codePoint: string) => boolean;

export type PatternNode =
  | { t: 'char'; test: CodePointTest }
  | { t: 'seq'; items: PatternNode[] }
  | { t: 'alt'; options: PatternNode[] }
  | { t: 'repeat'; node: PatternNode; min: number; max: number }
  | { t: 'assert'; kind: 'start' | 'end' | 'wordBoundary' | 'notWordBoundary' };

export class PatternError extends Error {}

/** Groups nested in one pattern: the parser recurses once per level. */
const MAX_GROUP_NESTING = 50;

const LINE_TERMINATORS = new Set(['\n', '\r', '\u2028', '\u2029']);

/**
 * One code point of an atom (a class, an escape) is tested by the engine of the platform: a pattern that is a
 * single atom has nothing to backtrack over, so this is safe whatever the atom, and exact in its semantics.
 */
function nativeTest(atom: string): CodePointTest {
  const re = new RegExp(`^(?:${atom})$`, 'u');
  const seen = new Map<string, boolean>();
  return (cp) => {
    let result = seen.get(cp);
    if (result === undefined) {
      result = re.test(cp);
      if (seen.size < 4096) seen.set(cp, result);
    }
    return result;
  };
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly src: string) {}

  parse(): PatternNode {
    const node = this.alternation();
    if (this.i < this.src.length)
      throw new PatternError(`unexpected '${this.src[this.i]}' at character ${this.i + 1}`);
    return node;
  }

  private peek(): string | undefined {
    return this.src[this.i];
  }

  private alternation(): PatternNode {
    const options = [this.sequence()];
    while (this.peek() === '|') {
      this.i++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0] : { t: 'alt', options };
  }

  private sequence(): PatternNode {
    const items: PatternNode[] = [];
    while (this.i < this.src.length && this.peek() !== '|' && this.peek() !== ')')
      items.push(this.quantified());
    return items.length === 1 ? items[0] : { t: 'seq', items };
  }

  private quantified(): PatternNode {
    const atom = this.atom();
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Number.POSITIVE_INFINITY];
    else if (c === '+') [min, max] = [1, Number.POSITIVE_INFINITY];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i, this.i + 30));
      if (!m) return atom;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
      this.i += m[0].length - 1;
    } else {
      return atom;
    }
    this.i++;
    if (this.peek() === '?') this.i++; // lazy or greedy: the same for whether it matches at all
    return { t: 'repeat', node: atom, min, max };
  }

  private atom(): PatternNode {
    const c = this.src[this.i];
    if (c === '(') return this.group();
    if (c === '^' || c === '$') {
      this.i++;
      return { t: 'assert', kind: c === '^' ? 'start' : 'end' };
    }
    if (c === '.') {
      this.i++;
      return { t: 'char', test: (cp) => !LINE_TERMINATORS.has(cp) };
    }
    if (c === '[') return this.charClass();
    if (c === '\\') return this.escape();
    const cp = String.fromCodePoint(this.src.codePointAt(this.i)!);
    this.i += cp.length;
    return { t: 'char', test: (x) => x === cp };
  }

  private group(): PatternNode {
    const rest = this.src.slice(this.i, this.i + 4);
    if (/^\(\?(=|!|<=|<!)/.test(rest)) {
      throw new PatternError('lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported');
    }
    if (rest.startsWith('(?:')) this.i += 3;
    else if (rest.startsWith('(?<')) this.i = this.src.indexOf('>', this.i) + 1;
    else this.i += 1;
    if (++this.depth > MAX_GROUP_NESTING)
      throw new PatternError(`groups nest more than ${MAX_GROUP_NESTING} deep`);
    const node = this.alternation();
    this.depth--;
    if (this.peek() !== ')') throw new PatternError('a group is not closed');
    this.i++;
    return node;
  }

  private charClass(): PatternNode {
    const start = this.i;
    let j = this.i + 1;
    while (j < this.src.length && this.src[j] !== ']') j += this.src[j] === '\\' ? 2 : 1;
    this.i = j + 1;
    return { t: 'char', test: nativeTest(this.src.slice(start, this.i)) };
  }

  private escape(): PatternNode {
    const start = this.i;
    const c = this.src[this.i + 1];
    if (c === undefined) throw new PatternError('the pattern ends with a lone backslash');
    if (/[1-9]/.test(c) || c === 'k') throw new PatternError(`backreferences (\\${c}) are not supported`);
    if (c === 'b' || c === 'B') {
      this.i += 2;
      return { t: 'assert', kind: c === 'b' ? 'wordBoundary' : 'notWordBoundary' };
    }
    let text: string;
    if ((c === 'p' || c === 'P' || c === 'u') && this.src[this.i + 2] === '{') {
      text = this.src.slice(start, this.src.indexOf('}', this.i) + 1);
    } else if (c === 'u') {
      text = this.src.slice(start, start + 6);
      // A surrogate pair written as two escapes is one code point under the u flag.
      const pair = /^\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}/.exec(
        this.src.slice(start, start + 12),
      );
      if (pair) text = pair[0];
    } else if (c === 'x') {
      text = this.src.slice(start, start + 4);
    } else if (c === 'c') {
      text = this.src.slice(start, start + 3);
    } else {
      text = this.src.slice(
        start,
        start + 1 + String.fromCodePoint(this.src.codePointAt(this.i + 1)!).length,
      );
    }
    this.i = start + text.length;
    return { t: 'char', test: nativeTest(text) };
  }
}

/** Parses `pattern`; a PatternError says what is not supported or not valid. */
export function parsePattern(pattern: string): PatternNode {
  try {
    new RegExp(pattern, 'u');
  } catch (e) {
    throw new PatternError((e as Error).message.replace(/^Invalid regular expression: \/.*\/u: /s, ''));
  }
  return new Parser(pattern).parse();
}
