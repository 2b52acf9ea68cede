// Runs the command line in process and captures what a user would see.
import { runCli } from '../../src/cli/main.js';
import { keepOutput } from './suite-output.js';

export interface CliRun {
  code: number;
  stdout: string[];
  stderr: string[];
}

export async function runCliCaptured(argv: string[]): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(argv, {
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    isTerminal: false,
  });
  keepOutput(`cli-${argv[0] ?? 'none'}`, [...stdout, ...stderr].join('\n'));
  return { code, stdout, stderr };
}
