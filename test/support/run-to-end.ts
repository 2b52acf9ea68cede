// Runs a program to its end and gives back what it printed: the one way tests run a tool that is not kubectl (helm,
// podman, Go tools, an installed package's bin). Never throws for the program's own failure: a program that cannot
// start exits 127, one killed at its deadline says so in its standard error.
import { execFile } from 'node:child_process';

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Its standard input (empty otherwise). */
  input?: string;
  /** Killed (SIGKILL) after this long; no deadline when absent. */
  timeoutMs?: number;
}

export function runToEnd(file: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((done) => {
    const child = execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: options.env,
        timeout: options.timeoutMs ?? 0,
        killSignal: 'SIGKILL',
        maxBuffer: 256 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (!error) return done({ code: 0, stdout, stderr });
        const failure = error as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        if (failure.code === 'ENOENT')
          return done({ code: 127, stdout, stderr: `${stderr}${failure.message}` });
        const killed = failure.killed && options.timeoutMs !== undefined;
        done({
          code: typeof failure.code === 'number' ? failure.code : 1,
          stdout,
          stderr: killed ? `${stderr}\n[killed: no end after ${options.timeoutMs! / 1000} s]` : stderr,
        });
      },
    );
    // The program may exit before it reads its input: the write then fails with EPIPE, and its exit code says why.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}
