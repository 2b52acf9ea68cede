// Text taken from a resource file and printed on a terminal: names, field names, values quoted in messages,
// file names. Its control characters are shown as escapes, so that no input can clear the screen, colour
// the output, retitle the window, or break a problem line in two and forge a `FILE:LINE:COLUMN: error:` one.

// C0, DEL and C1 controls; the Unicode line and paragraph separators; the bidirectional marks, embeddings,
// overrides and isolates, which reorder what the line shows.
const UNPRINTABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with each control character written as `\n`, `\r`, `\t` or `\uXXXX`. */
export function printable(text: string): string {
  return text.replace(
    UNPRINTABLE,
    (ch) => NAMED[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

// What JSON.stringify leaves as it is: it escapes C0 controls only.
const UNPRINTABLE_IN_JSON = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON text (from JSON.stringify) with the controls it leaves written as `\uXXXX`: the same JSON value. */
export function printableJson(json: string): string {
  return json.replace(UNPRINTABLE_IN_JSON, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
