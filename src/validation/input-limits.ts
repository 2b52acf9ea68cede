// How much of a resource file is read and judged: limits that keep `validate`, `sync` and `sync --watch` in
// bounded time and memory whatever a file holds. Each is named in the message that refuses an input.

/** Files over this are refused before they are read: the examples are 1 KB, a 10,000-device list 250 KB. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** etcd's default request limit, which bounds every Kubernetes object: no resource can be bigger. */
export const MAX_DOCUMENT_BYTES = 1.5 * 1024 * 1024;

/** Alias resolutions per document, nested ones counted as a full expansion would make them (alias bombs). */
export const MAX_ALIAS_EXPANSIONS = 100;

/** Documents per file: composing one costs 30 us and 3 KB even when it is `{}`. */
export const MAX_DOCUMENTS_PER_FILE = 10_000;

/** Nesting of mappings and sequences; a resource needs 6, and the YAML composer recurses once per level. */
export const MAX_NESTING_DEPTH = 100;

/** Problems of a file's YAML shown; a garbled file would otherwise print one line per character. */
export const MAX_SYNTAX_PROBLEMS_PER_FILE = 20;

/** Longest message taken from the YAML parser, which may quote a whole line of the file. */
export const MAX_ECHOED_MESSAGE_LENGTH = 200;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
