// `iot-security-operator validate PATH...`: judges resources as the agent and the API server would.
import { parseArgs } from 'node:util';
import { githubAnnotation } from '../../validation/github-annotations.js';
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
import { readStandardInput, STANDARD_INPUT } from '../../validation/standard-input.js';
import {
  type FilesValidation,
  formatProblem,
  type NamedText,
  validateFiles,
} from '../../validation/validate-files.js';
import { type CommandIo, UsageError } from '../command-io.js';

const OUTPUTS = ['text', 'json', 'github'] as const;
type Output = (typeof OUTPUTS)[number];

export const VALIDATE_USAGE = `Usage: iot-security-operator validate [--output text|json|github] [--allow-missing-configmaps] PATH...

Validates IoTHub, SecurityModuleConfig and TwinConfig resources in YAML files or directories (recursive,
.yaml/.yml, multi-document); '-' reads standard input, named ${STANDARD_INPUT} in problems. Prints one line per
problem: FILE:LINE:COLUMN: error|warning: KIND/NAME: FIELD: MESSAGE. A TwinConfig's properties are judged by its
schema: inline, or the key of a ConfigMap (apiVersion v1) that must be among the same files.
  --output json     one JSON report of every problem
  --output github   GitHub Actions workflow commands (::error file=F,line=L,col=C,...::MESSAGE): annotations
                    on the pull request's lines, paths relative to GITHUB_WORKSPACE
  --allow-missing-configmaps
                    a TwinConfig whose ConfigMap is not among the files is a warning, not an error (its
                    properties are then checked as IoT Hub takes them, not against the schema)
A file that cannot be judged safely is one problem of its own: over ${formatBytes(MAX_FILE_BYTES)}, a document over ${formatBytes(MAX_DOCUMENT_BYTES)},
more than ${MAX_DOCUMENTS_PER_FILE} documents, nesting deeper than ${MAX_NESTING_DEPTH}, more than ${MAX_ALIAS_EXPANSIONS} alias expansions, not UTF-8 text,
a dangling link.
Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error (a path that does not exist).`;

export async function runValidateCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o', default: 'text' },
      'allow-missing-configmaps': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(VALIDATE_USAGE);
    return 0;
  }
  const output = values.output as Output;
  if (!OUTPUTS.includes(output))
    throw new UsageError(`--output must be text, json or github, not '${output}'`);
  if (positionals.length === 0) throw new UsageError("validate needs at least one file or directory, or '-'");
  const fromStandardInput = positionals.filter((p) => p === '-').length;
  if (fromStandardInput > 1) throw new UsageError("'-' (standard input) can be given only once");
  const texts: NamedText[] = [];
  if (fromStandardInput) texts.push({ name: STANDARD_INPUT, text: await readStandardInput(io.stdin ?? []) });
  let result: FilesValidation;
  try {
    result = validateFiles(
      positionals.filter((p) => p !== '-'),
      texts,
      { missingConfigMaps: values['allow-missing-configmaps'] ? 'warning' : 'error' },
    );
  } catch (error) {
    // A path that cannot be used is how the command was called; anything else is no usage error.
    if (error instanceof PathError) throw new UsageError(error.message);
    throw error;
  }
  printResult(result, output, io);
  return result.valid ? 0 : 1;
}

function printResult(result: FilesValidation, output: Output, io: CommandIo): void {
  const resources = result.documents.filter((d) => d.validation.ours).length;
  if (output === 'json') {
    const report = { valid: result.valid, files: result.files.length, resources, problems: result.problems };
    io.out(printableJson(JSON.stringify(report, null, 2)));
    return;
  }
  const workspace = process.env.GITHUB_WORKSPACE;
  for (const problem of result.problems)
    io.out(output === 'github' ? githubAnnotation(problem, { workspace }) : formatProblem(problem));
  const errors = result.problems.filter((p) => p.severity === 'error').length;
  const warnings = result.problems.length - errors;
  io.err(
    `${result.valid ? 'valid' : 'invalid'}: ${resources} resource${resources === 1 ? '' : 's'} in ${result.files.length} file${result.files.length === 1 ? '' : 's'}, ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
  );
}
