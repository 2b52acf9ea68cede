import type { Expression, LiteralValue, Operand, PathOperand } from './ast.js';

/**
 * Canonical text for a condition: upper-case keywords, single-quoted strings, `!=` for `<>`, parentheses
 * only where the tree needs them. `parseCondition(formatCondition(e))` gives back `e` exactly.
 */
export function formatCondition(expression: Expression): string {
  switch (expression.kind) {
    case 'and':
    case 'or': {
      if (expression.operands.length < 2) {
        throw new RangeError(`${expression.kind.toUpperCase()} needs at least two operands`);
      }
      const keyword = expression.kind === 'and' ? ' AND ' : ' OR ';
      return expression.operands.map((operand) => formatChild(operand, expression.kind)).join(keyword);
    }
    case 'not':
      return `NOT ${formatChild(expression.operand, 'not')}`;
    case 'compare':
      return `${formatOperand(expression.left)} ${expression.operator} ${formatOperand(expression.right)}`;
    case 'in':
    case 'nin':
      if (expression.values.length === 0) {
        throw new RangeError(
          `${expression.kind.toUpperCase()} needs at least one value: the hub rejects an empty list`,
        );
      }
      return `${formatPath(expression.path)} ${expression.kind.toUpperCase()} [${expression.values.map(formatLiteral).join(', ')}]`;
    case 'isDefined':
      return `IS_DEFINED(${formatPath(expression.path)})`;
    case 'startsWith':
    case 'endsWith':
      return `${expression.kind.toUpperCase()}(${formatPath(expression.path)}, ${formatString(expression.value)})`;
  }
}

/**
 * Parentheses where precedence (NOT > AND > OR) needs them, and around an AND inside an AND or an OR inside
 * an OR: the parser flattens chains, so such nesting can only come from parentheses and must keep them.
 */
function formatChild(child: Expression, parent: 'and' | 'or' | 'not'): string {
  const text = formatCondition(child);
  const needsParentheses = child.kind === 'or' || (child.kind === 'and' && parent !== 'or');
  return needsParentheses ? `(${text})` : text;
}

/**
 * Trees built by code rather than by the parser are checked too, so formatted text never leaves the grammar:
 * a segment such as `a' OR 'x` would otherwise be pasted into the hub query as it is.
 */
export function formatPath(path: PathOperand): string {
  if (path.segments.length === 0) throw new RangeError('a property path needs at least one name');
  for (const segment of path.segments) formatName(segment);
  return path.segments.join('.');
}

export function formatName(name: string): string {
  if (!/^\$?[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new RangeError(`'${name}' cannot be written as a property name in a hub query`);
  }
  return name;
}

function formatOperand(operand: Operand): string {
  return operand.kind === 'path' ? formatPath(operand) : formatLiteral(operand.value);
}

export function formatLiteral(value: LiteralValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return formatString(value);
  if (typeof value === 'number') return formatNumber(value);
  return value ? 'true' : 'false';
}

/**
 * Single-quoted with the hub's escapes (\' and \\). Control characters, line separators and unpaired
 * surrogates are written as \uXXXX so the query text stays one clean line of valid UTF-16.
 */
export function formatString(value: string): string {
  let out = "'";
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 39 || code === 92) {
      out += `\\${value[i]}`;
    } else if (isHighSurrogate(code) && isLowSurrogate(value.charCodeAt(i + 1))) {
      out += value[i] + value[i + 1];
      i++;
    } else if (needsUnicodeEscape(code)) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else {
      out += value[i];
    }
  }
  return `${out}'`;
}

function needsUnicodeEscape(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    isHighSurrogate(code) ||
    isLowSurrogate(code)
  );
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/**
 * Plain decimal notation: the hub documents decimal and hexadecimal number literals, not exponents, so
 * `1e21` is written out in full. The digits are the shortest that read back as the same double.
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`${value} cannot be written in a hub query`);
  const shortest = String(value === 0 ? 0 : value);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(shortest);
  if (match === null) return shortest;
  const [, sign, lead, fraction = '', exponentText] = match;
  const digits = lead + fraction;
  const point = 1 + Number(exponentText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
