// How the benchmark runs each contender, each as a process of its own (its CPU time and peak memory measured with
// a preloaded reporter): `sync --wait` as a user runs it, the operator against the local control plane, the hand-written
// SDK script.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { securityModuleConfig } from '../../test/support/resources.js';
import type { ControllerResource } from './controller-run.js';

export const REPO = resolve(import.meta.dirname, '../..');
const CLI = join(REPO, 'dist/src/cli/main.js');

export interface ProcessFigures {
  /** What the process printed on standard output. */
  stdout: string;
  stderr: string;
  code: number | null;
  cpuSeconds: number;
  peakRssMb: number;
}

export interface RunningProcess {
  done: Promise<ProcessFigures>;
  /** What the process has printed on standard output so far. */
  stdoutSoFar(): string;
  kill(signal?: NodeJS.Signals): void;
  /** Its resident memory now (Linux: VmRSS in /proc), to tell what it keeps from what it peaked at. */
  currentRssMb(): number;
  /** The CPU (user + system) it has used so far (Linux: /proc), to split a long run into phases. */
  cpuSecondsSoFar(): number;
}

/** Clock ticks a second, the unit of the CPU times in /proc/PID/stat. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const USAGE_REPORTER = join(REPO, 'bench/rollout/usage-reporter.mjs');

/** Runs `node args...`; a preloaded module reports its CPU time and peak RSS when it exits. */
export function runNode(args: string[], env: Record<string, string>): RunningProcess {
  const usageFile = join(mkdtempSync(join(tmpdir(), 'bench-usage-')), 'usage.json');
  const child = spawn(process.execPath, ['--import', USAGE_REPORTER, ...args], {
    env: { ...process.env, LOG_LEVEL: 'error', BENCH_USAGE_FILE: usageFile, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<ProcessFigures>((resolvePromise) =>
    child.once('exit', (code) => {
      let usage = { cpuSeconds: 0, peakRssMb: 0 };
      try {
        usage = JSON.parse(readFileSync(usageFile, 'utf8'));
      } catch {}
      resolvePromise({ stdout, stderr, code, ...usage });
    }),
  );
  const currentRssMb = () => {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
    return Number(kb) / 1024;
  };
  const cpuSecondsSoFar = () => {
    // utime and stime are the 14th and 15th fields; the 2nd (the command name) may hold spaces, so count after it.
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  };
  return {
    done,
    stdoutSoFar: () => stdout,
    kill: (signal = 'SIGTERM') => child.kill(signal),
    currentRssMb,
    cpuSecondsSoFar,
  };
}

/** A folder with one SecurityModuleConfig: the baseline every contender rolls out. */
/**
 * `sync --wait` of the files in `dir` to an emulated hub at S3 x`units` as the fleet benches run it (the connection
 * string goes in the environment), after `cli` (node's arguments that start the command).
 */
export function syncWaitArgs(cli: string[], dir: string, caFile: string, units: number): string[] {
  return [...cli, 'sync', '-f', dir, '--ca-file', caFile, '--tier', 'S3', '--units', String(units), '--wait'];
}

/** Node flags for an operator the benches start (BENCH_OPERATOR_NODE_ARGS, space-separated: e.g. a heap cap). */
export const OPERATOR_NODE_ARGS = (process.env.BENCH_OPERATOR_NODE_ARGS ?? '').split(' ').filter(Boolean);

export function baselineFiles(settings: Record<string, unknown>, namespace = 'bench'): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-files-'));
  writeBaseline(dir, settings, namespace);
  return dir;
}

/** The baseline SecurityModuleConfig: every device with a site tag gets `settings`. */
export function baselineObject(settings: Record<string, unknown>, namespace: string): object {
  return securityModuleConfig(
    'baseline',
    { target: { condition: 'IS_DEFINED(tags.site)' }, agentConfiguration: settings },
    { namespace },
  );
}

export function writeBaseline(dir: string, settings: Record<string, unknown>, namespace = 'bench'): void {
  writeFileSync(join(dir, 'baseline.yaml'), JSON.stringify(baselineObject(settings, namespace)));
}

/** `sync -f DIR --wait` (or --watch), as a user runs it against this hub. */
export function runSync(
  emulator: RunningEmulator,
  dir: string,
  tier: { tier: string; units: number },
  extra: string[] = [],
): RunningProcess {
  const caFile = join(mkdtempSync(join(tmpdir(), 'bench-ca-')), 'ca.pem');
  writeFileSync(caFile, emulator.caCert);
  return runNode(
    [
      CLI,
      'sync',
      '-f',
      dir,
      '--ca-file',
      caFile,
      '--tier',
      tier.tier,
      '--units',
      String(tier.units),
      '--output',
      'json',
      ...extra,
    ],
    { IOTHUB_CONNECTION_STRING: emulator.connectionString },
  );
}

/** The hand-written SDK script (bench/contenders/sdk-script.ts). */
export function runScript(emulator: RunningEmulator, settings: Record<string, unknown>): RunningProcess {
  const caFile = join(mkdtempSync(join(tmpdir(), 'bench-ca-')), 'ca.pem');
  writeFileSync(caFile, emulator.caCert);
  return runNode(['--import', 'tsx', join(REPO, 'bench/contenders/sdk-script.ts')], {
    IOTHUB_CONNECTION_STRING: emulator.connectionString,
    CA_FILE: caFile,
    SETTINGS: JSON.stringify(settings),
  });
}

/** What a contender's heap holds at one moment, as `process.memoryUsage()` and V8's heap spaces give it (MB). */
export interface HeapFigures {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  /** Resident memory by kind of mapping (anonymous: V8's heap and malloc's; files: the binary and libraries). */
  mappings: Record<string, number>;
  /** The same after a full garbage collection: what is still reachable. */
  afterGc: Omit<HeapFigures, 'afterGc' | 'spaces' | 'snapshot'>;
  /** Per V8 heap space: its size and what of it is used, after the collection. */
  spaces: Record<string, { sizeMb: number; usedMb: number }>;
  /** The heap snapshot written, when one was asked for. */
  snapshot?: string;
}

// Preloaded into a contender with --expose-gc: on SIGUSR2 it writes its memory figures (before and after a full
// collection) to BENCH_MEMORY_FILE and, when BENCH_HEAP_SNAPSHOT names a folder, a heap snapshot there. Kept here as
// text (written to a temporary file) so that the contender's own code is untouched.
const MEMORY_PROBE = String.raw`
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
const mb = (b) => b / 1048576;
const usage = () => {
  const m = process.memoryUsage();
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external), arrayBuffersMb: mb(m.arrayBuffers) };
};
// Resident memory by mapping (Linux): V8's heap and malloc's arenas are anonymous; the rest is mapped files
// (the node binary, shared libraries).
const mappings = () => {
  const out = {};
  let kind = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) kind = head[1] === '' ? 'anonymous' : head[1].startsWith('/') ? 'files' : head[1];
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] = (out[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  return out;
};
process.on('SIGUSR2', () => {
  const before = { ...usage(), mappings: mappings() };
  globalThis.gc();
  const afterGc = { ...usage(), mappings: mappings() };
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { sizeMb: mb(s.space_size), usedMb: mb(s.space_used_size) }]));
  const dir = process.env.BENCH_HEAP_SNAPSHOT;
  const snapshot = dir ? writeHeapSnapshot(join(dir, 'operator-' + process.pid + '-' + Date.now() + '.heapsnapshot')) : undefined;
  writeFileSync(process.env.BENCH_MEMORY_FILE + '.tmp', JSON.stringify({ ...before, afterGc, spaces, snapshot }));
  renameSync(process.env.BENCH_MEMORY_FILE + '.tmp', process.env.BENCH_MEMORY_FILE);
});
`;

/**
 * Asks a contender started with `memoryProbe()` for its memory figures (and a heap snapshot when BENCH_HEAP_SNAPSHOT
 * is set), waiting until it has written them; a heap snapshot of a large fleet takes tens of seconds.
 */
export async function probeMemory(contender: RunningProcess, probe: { file: string }): Promise<HeapFigures> {
  contender.kill('SIGUSR2');
  for (;;) {
    if (existsSync(probe.file)) return JSON.parse(readFileSync(probe.file, 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Node arguments and environment that preload the memory probe into a contender (see MEMORY_PROBE). */
export function memoryProbe(): { args: string[]; env: Record<string, string>; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  const module = join(dir, 'memory-probe.mjs');
  writeFileSync(module, MEMORY_PROBE);
  const file = join(dir, 'memory.json');
  return { args: ['--expose-gc', '--import', module], env: { BENCH_MEMORY_FILE: file }, file };
}

/** The operator (`run`) against a cluster, watching one namespace; `cli` runs another build or checkout's sources. */
export function runOperator(
  kubeconfig: string,
  namespace: string,
  cli: string[] = [CLI],
  env: Record<string, string> = {},
): RunningProcess {
  return runNode(
    [
      ...cli,
      'run',
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      namespace,
      '--metrics-bind-address',
      '0',
      '--health-probe-bind-address',
      '0',
    ],
    env,
  );
}

/** The baseline as the controller contender applies it. */
export const baselineResource: ControllerResource = {
  plural: 'securitymoduleconfigs',
  name: 'baseline',
  object: (settings, namespace) => baselineObject(settings as Record<string, unknown>, namespace),
};
