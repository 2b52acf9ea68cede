// The text of a resource file, read only when it can be judged in bounded time and memory: a regular file
// of at most MAX_FILE_BYTES. Anything else is a problem of the file, said before any of it is parsed.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { formatBytes, MAX_FILE_BYTES } from './input-limits.js';
import type { SourcePosition } from './source-document.js';

export type ResourceText =
  | { ok: true; text: string }
  | { ok: false; position: SourcePosition; message: string };

const START: SourcePosition = { line: 1, column: 1 };

function tooLarge(bytes: number): ResourceText {
  return {
    ok: false,
    position: START,
    message: `the file is ${formatBytes(bytes)}, more than the limit of ${formatBytes(MAX_FILE_BYTES)}; it is not read`,
  };
}

/** At most `limit` + 1 bytes of an open file: enough to tell that it is over the limit. */
function readAtMost(fd: number, limit: number): Buffer {
  const buffer = Buffer.alloc(limit + 1);
  let length = 0;
  while (length < buffer.length) {
    const read = readSync(fd, buffer, length, buffer.length - length, null);
    if (read === 0) break;
    length += read;
  }
  return buffer.subarray(0, length);
}

export function readResourceText(file: string): ResourceText {
  const fd = openSync(file, 'r');
  try {
    const stats = fstatSync(fd);
    // The size is known before anything is read; the read is bounded too, for a file that grows meanwhile.
    if (stats.size > MAX_FILE_BYTES) return tooLarge(stats.size);
    const bytes = readAtMost(fd, MAX_FILE_BYTES);
    if (bytes.length > MAX_FILE_BYTES) return tooLarge(bytes.length);
    return { ok: true, text: bytes.toString('utf8') };
  } finally {
    closeSync(fd);
  }
}
