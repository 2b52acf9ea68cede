// `iot-security-operator validate PATH...`: judges resources as the agent and the API server would.
import { parseArgs } from 'node:util';
import {
  formatBytes,
  MAX_ALIAS_EXPANSIONS,
  MAX_DOCUMENT_BYTES,
  MAX_DOCUMENTS_PER_FILE,
  MAX_FILE_BYTES,
  MAX_NESTING_DEPTH,
} from '../../validation/input-limits.js';
import { printableJson } from '../../validation/printable-text.js';
import { PathError } from '../../validation/resource-files.js';
import { formatProblem, validateFiles } from '../../validation/validate-files.js';
import { type CommandIo, UsageError } from '../command-io.js';

export const VALIDATE_USAGE = `Usage: iot-security-operator validate [--output text|json] PATH...

Validates IoTHub and SecurityModuleConfig resources in YAML files or directories (recursive, .yaml/.yml,
multi-document). Prints one line per problem: FILE:LINE:COLUMN: error|warning: KIND/NAME: FIELD: MESSAGE.
A file that cannot be judged safely is one problem of its own: over ${formatBytes(MAX_FILE_BYTES)}, a document over ${formatBytes(MAX_DOCUMENT_BYTES)},
more than ${MAX_DOCUMENTS_PER_FILE} documents, nesting deeper than ${MAX_NESTING_DEPTH}, more than ${MAX_ALIAS_EXPANSIONS} alias expansions, not UTF-8 text,
a dangling link.
Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error (a path that does not exist).`;

export function runValidateCommand(argv: string[], io: CommandIo): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o', default: 'text' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(VALIDATE_USAGE);
    return 0;
  }
  if (values.output !== 'text' && values.output !== 'json')
    throw new UsageError(`--output must be text or json, not '${values.output}'`);
  if (positionals.length === 0) throw new UsageError('validate needs at least one file or directory');
  let result: ReturnType<typeof validateFiles>;
  try {
    result = validateFiles(positionals);
  } catch (error) {
    // A path that cannot be used is how the command was called; anything else is no usage error.
    if (error instanceof PathError) throw new UsageError(error.message);
    throw error;
  }
  const resources = result.documents.filter((d) => d.validation.ours).length;
  if (values.output === 'json') {
    const report = { valid: result.valid, files: result.files.length, resources, problems: result.problems };
    io.out(printableJson(JSON.stringify(report, null, 2)));
  } else {
    for (const problem of result.problems) io.out(formatProblem(problem));
    const errors = result.problems.filter((p) => p.severity === 'error').length;
    const warnings = result.problems.length - errors;
    io.err(
      `${result.valid ? 'valid' : 'invalid'}: ${resources} resource${resources === 1 ? '' : 's'} in ${result.files.length} file${result.files.length === 1 ? '' : 's'}, ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
    );
  }
  return result.valid ? 0 : 1;
}
