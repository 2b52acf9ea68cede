// Resources piped to `validate -`: read as a file is, within the same limit, and named STANDARD_INPUT in
// problems. Reading stops at the limit, so that an endless producer cannot fill the memory.
import { formatBytes, MAX_FILE_BYTES } from './input-limits.js';
import { type ResourceText, refused, resourceTextOf } from './resource-text.js';

/** The name problems give the file read from standard input. */
export const STANDARD_INPUT = '<stdin>';

/** The text of `input`, or why it is not read (over MAX_FILE_BYTES, not UTF-8 text). */
export async function readStandardInput(
  input: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
): Promise<ResourceText> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    size += bytes.length;
    // Leaving the loop closes the stream: the producer gets EPIPE rather than an endless wait.
    if (size > MAX_FILE_BYTES)
      return refused(`standard input holds more than the limit of ${formatBytes(MAX_FILE_BYTES)}`);
    chunks.push(bytes);
  }
  return resourceTextOf(Buffer.concat(chunks, size));
}
