// How a command was called wrongly: printed with the usage hint, exit status 2.
export type { CommandIo } from '../observability/command-output.js';
export { processIo } from '../observability/command-output.js';

/** A mistake in how the command was called: printed with the usage hint, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
