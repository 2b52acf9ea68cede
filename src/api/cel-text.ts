// Building blocks for the CEL rules of the CRDs: literals, messages made from the same functions validate words
// its issues with, and ISO 8601 durations read the way the security agents read them.
import { ISO_DURATION_PARTS } from '../profiles/security-agent/iso-duration.js';

/** A CEL expression, as opposed to literal text. */
export interface Cel {
  cel: string;
}

export const cel = (expression: string): Cel => ({ cel: expression });

/** A CEL string literal (JSON's escapes are CEL's). */
export const celString = (text: string): string => JSON.stringify(text);

/** The CEL of a string value shown in quotes, as messages show strings: 'PT0S'. */
export const celQuoted = (expression: string): Cel => cel(`"'" + ${expression} + "'"`);

/**
 * A messageExpression saying what `message` says, with CEL expressions in place of some of its arguments: the
 * message function runs once with placeholders, so its text is the one validate prints, word for word.
 */
export function celMessage<A extends string[]>(
  message: (...args: A) => string,
  ...args: (string | Cel)[]
): string {
  const placeholder = (i: number) => `\u0000${i}\u0000`;
  const text = message(...(args.map((arg, i) => (typeof arg === 'string' ? arg : placeholder(i))) as A));
  const pieces = text.split('\u0000');
  const terms = pieces
    .map((piece, i) =>
      i % 2 === 0 ? (piece ? celString(piece) : '') : `(${(args[Number(piece)] as Cel).cel})`,
    )
    .filter((term) => term !== '');
  return terms.join(' + ');
}

/** Whether an ISO 8601 duration that matches the schema's pattern is one (`P` and `PT` are not). */
export const celIsIsoDuration = (text: string): string => `${text} != 'P' && !${text}.endsWith('T')`;

/**
 * The milliseconds of an ISO 8601 duration, as a double: the parts parseIsoDuration adds, in its order and with its
 * units, so that both compute the same IEEE double and compare alike.
 */
export function celIsoDurationMillis(text: string): string {
  // No cel.bind on this API server: '0' before the part (a '0' of its own when absent) saves a second find.
  const terms = ISO_DURATION_PARTS.map(({ designator, inTime, ms }) => {
    const section = inTime ? `${text}.find('T.*')` : `${text}.find('^[^T]*')`;
    const part = `${section}.find('[0-9]+(\\\\.[0-9]+)?${designator}')`;
    return `double(('0' + ${part}).replace('${designator}', '')) * ${ms}.0`;
  });
  return `(0.0 + ${terms.join(' + ')})`;
}

/**
 * The decimal digits of a non-negative integer at most `max`. The API server estimates `string(int)` as a string
 * of unbounded size, which puts any message built with it far over its cost budget; digits picked from a list
 * have a known size.
 */
export function celDecimal(value: string, max: number): string {
  const digits = "['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']";
  const terms = [];
  for (let place = String(max).length - 1; place >= 0; place--) {
    const unit = 10n ** BigInt(place);
    const digit = `${digits}[${value} / ${unit} % 10]`;
    terms.push(place === 0 ? digit : `(${value} >= ${unit} ? ${digit} : '')`);
  }
  return terms.join(' + ');
}
