// The operator as users run it: a separate `node dist/src/cli/main.js run` process, its log in a file.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './kube.js';
import { logFolder } from './suite-output.js';

export const OPERATOR_MAIN = join(REPO, 'dist/src/cli/main.js');

export interface OperatorProcess {
  process: ChildProcess;
  logFile: string;
  log(): string;
  /** SIGTERM (a clean stop) and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
  /** The metrics and probe addresses it listens on, from its "starting" log line. */
  endpoints(): Promise<{ metrics: string; probes: string }>;
}

export function startOperatorProcess(args: string[], env: Record<string, string> = {}): OperatorProcess {
  if (!existsSync(OPERATOR_MAIN)) throw new Error(`${OPERATOR_MAIN} is missing: run 'make build' first`);
  const logFile = join(logFolder('operator-'), 'operator.log');
  const log = openSync(logFile, 'a');
  // Plain HTTP metrics unless a test asks for --metrics-secure=true (a later value wins): the tests that scrape
  // read counts, and test/observability/secure-metrics.apiserver.test.ts proves the secure serving.
  const endpoints = [
    '--health-probe-bind-address',
    '127.0.0.1:0',
    '--metrics-bind-address',
    '127.0.0.1:0',
    '--metrics-secure=false',
  ];
  const child = spawn(process.execPath, [OPERATOR_MAIN, 'run', ...endpoints, ...args], {
    stdio: ['ignore', log, log],
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    logFile,
    log: () => readFileSync(logFile, 'utf8'),
    exited,
    async endpoints() {
      for (let i = 0; i < 200; i++) {
        const line = readFileSync(logFile, 'utf8')
          .split('\n')
          .find((l) => l.includes('"message":"starting"'));
        if (line) {
          const [probes, metrics] = (JSON.parse(line) as { endpoints: string[] }).endpoints;
          return { probes, metrics };
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(
        `the operator did not log its endpoints: ${readFileSync(logFile, 'utf8').slice(-2000)}`,
      );
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
