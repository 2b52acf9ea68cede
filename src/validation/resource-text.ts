// The text of a resource file, read only when it can be judged in bounded time and memory: a regular file
// (or standard input) of at most MAX_FILE_BYTES, in UTF-8. Anything else is a problem of the file, said before
// any of it is parsed, in one line that quotes none of its bytes.
import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { formatBytes, MAX_FILE_BYTES } from './input-limits.js';
import type { SourcePosition } from './source-document.js';

export type ResourceText =
  | { ok: true; text: string }
  | { ok: false; position: SourcePosition; message: string };

const START: SourcePosition = { line: 1, column: 1 };

/** An input that is not read, and why. */
export function refused(message: string, position = START): ResourceText {
  return { ok: false, position, message: `${message}; it is not read` };
}

/** Why a file system call failed, in words (the code's meaning, not Node's whole sentence). */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return code ?? (error as Error).message;
  }
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

/** Line and column of the byte at `offset`, counted as the YAML positions are (UTF-16 units). */
function positionOfByte(bytes: Buffer, offset: number): SourcePosition {
  const before = bytes.subarray(0, offset).toString('utf8');
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: before.length - lineStart + 1 };
}

/** The offset of the first byte that is no part of a valid UTF-8 sequence (U+FFFD where decoding fails). */
function firstInvalidUtf8(bytes: Buffer): number {
  const text = bytes.toString('utf8');
  let offset = 0;
  let from = 0;
  for (let at = text.indexOf('\ufffd'); at >= 0; at = text.indexOf('\ufffd', at + 1)) {
    offset += Buffer.byteLength(text.slice(from, at), 'utf8');
    // A U+FFFD written in the file is three valid bytes; one made by the decoder stands for invalid ones.
    if (bytes[offset] !== 0xef || bytes[offset + 1] !== 0xbf || bytes[offset + 2] !== 0xbd) return offset;
    offset += 3;
    from = at + 1;
  }
  return offset;
}

/** `bytes` as resource text, or why they are not: UTF-16, binary, not UTF-8. */
export function resourceTextOf(bytes: Buffer): ResourceText {
  return contentProblem(bytes) ?? { ok: true, text: bytes.toString('utf8') };
}

/** Why `bytes` are not resource text, or undefined when they are UTF-8 text. */
function contentProblem(bytes: Buffer): ResourceText | undefined {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return refused('UTF-16 text: resource files are UTF-8 (convert it, e.g. with iconv -f UTF-16 -t UTF-8)');
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    return refused(
      'binary content (a NUL byte here): resource files are UTF-8 text',
      positionOfByte(bytes, nul),
    );
  }
  if (isUtf8(bytes)) return undefined;
  const invalid = firstInvalidUtf8(bytes);
  return refused(
    `not UTF-8 text (the byte 0x${bytes[invalid].toString(16).padStart(2, '0')} here is no part of a UTF-8 character)`,
    positionOfByte(bytes, invalid),
  );
}

export function readResourceText(file: string): ResourceText {
  let fd: number;
  try {
    // Non-blocking, so that a named pipe is refused rather than waited on.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return refused(`cannot be opened: ${describeFileError(error)}`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return refused('not a regular file');
    // The size is known before anything is read; the read is bounded too, for a file that grows meanwhile.
    const tooLarge = (bytes: number) =>
      refused(`the file is ${formatBytes(bytes)}, more than the limit of ${formatBytes(MAX_FILE_BYTES)}`);
    if (stats.size > MAX_FILE_BYTES) return tooLarge(stats.size);
    const bytes = readAtMost(fd, MAX_FILE_BYTES);
    if (bytes.length > MAX_FILE_BYTES) return tooLarge(bytes.length);
    return resourceTextOf(bytes);
  } catch (error) {
    return refused(`cannot be read: ${describeFileError(error)}`);
  } finally {
    closeSync(fd);
  }
}
