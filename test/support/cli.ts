// Runs the command line in process and captures what a user would see.
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { keepOutput } from './suite-output.js';

export interface CliRun {
  code: number;
  stdout: string[];
  stderr: string[];
}

/** `stdin`: what the command reads from standard input (chunks, in order); empty when not given. */
export async function runCliCaptured(
  argv: string[],
  options: { stdin?: Iterable<string | Uint8Array> } = {},
): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(argv, {
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    isTerminal: false,
    stdin: Readable.from(options.stdin ?? []),
  });
  keepOutput(`cli-${argv[0] ?? 'none'}`, [...stdout, ...stderr].join('\n'));
  return { code, stdout, stderr };
}
