// The package as users get it: `npm pack` (its prepack build included) from a copy of the sources, `npm install -g`
// of the tarball into a fresh prefix, and the installed bin run as a user's shell would run it. Every process
// has a deadline, so that a registry that cannot be reached fails the test with npm's words instead of hanging.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from './kube.js';
import { type ProcessResult, runToEnd } from './run-to-end.js';
import { keepOutput } from './suite-output.js';

/** What `npm pack` reads: the package's own files and what its prepack build needs. */
const PACK_INPUTS = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.package.json',
  'scripts/build-package.sh',
  'src',
  'schemas',
  'crds',
  'examples',
  'README.md',
  'LICENSE',
  'CHANGELOG.md',
];

/** Runs `file` to its end, killed at `timeoutMs`, its output kept for the suite's secrets scan. */
async function runToEndKept(
  file: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ProcessResult> {
  const result = await runToEnd(file, args, options);
  keepOutput(`installed-${args[0] ?? file}`, `${result.stdout}\n${result.stderr}`);
  return result;
}

/** npm's environment: this process's, without what would let a module resolve from elsewhere. */
function npmEnv(): NodeJS.ProcessEnv {
  const { NODE_PATH: _path, NODE_OPTIONS: _options, ...env } = process.env;
  return env;
}

/** The last lines of a process's output, for a failure message. */
export function tail(result: ProcessResult, lines = 30): string {
  return `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-lines).join('\n');
}

export interface PackedPackage {
  tarball: string;
  /** Paths inside the package, as `npm pack --json` lists them. */
  files: string[];
  /** Removes the copy and the tarball. */
  remove(): void;
}

/** `npm pack` of a copy of the repository's package sources (the copy builds; the repository's dist/ is left alone). */
export async function packPackage(): Promise<PackedPackage> {
  const stage = mkdtempSync(join(tmpdir(), 'npm-pack-'));
  for (const input of PACK_INPUTS) cpSync(join(REPO, input), join(stage, input), { recursive: true });
  // The build's TypeScript compiler and types, as a clone has them after `npm ci`.
  symlinkSync(join(REPO, 'node_modules'), join(stage, 'node_modules'));
  const out = join(stage, 'out');
  mkdirSync(out);
  const pack = await runToEndKept('npm', ['pack', '--json', '--pack-destination', out], {
    cwd: stage,
    env: npmEnv(),
    timeoutMs: 5 * 60_000,
  });
  if (pack.code !== 0) throw new Error(`npm pack failed (exit ${pack.code}):\n${tail(pack)}`);
  // The prepack build's output comes before the JSON report.
  const report = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[\n'))) as {
    filename: string;
    files: { path: string }[];
  }[];
  return {
    tarball: join(out, report[0].filename),
    files: report[0].files.map((f) => f.path),
    remove: () => rmSync(stage, { recursive: true, force: true }),
  };
}

export interface InstalledPackage {
  prefix: string;
  /** The installed package's folder (PREFIX/lib/node_modules/iot-security-operator). */
  root: string;
  bin: string;
  /** Runs the installed bin from an empty folder, with nothing in reach but the prefix and node. */
  run(args: string[], env?: Record<string, string>, timeoutMs?: number): Promise<ProcessResult>;
  /** The environment `run` gives the bin, for a process started otherwise. */
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Removes the prefix (about 160 MB with its dependencies) and the working folder. */
  remove(): void;
}

/**
 * `npm install -g` of the tarball into a fresh prefix. Its production dependencies come from npm's cache when it
 * holds them (--prefer-offline), else from the registry, each fetch bounded. --engine-strict: an `engines` range
 * that left out the Node running the test would refuse the install.
 */
export async function installGlobally(tarball: string): Promise<InstalledPackage> {
  const prefix = mkdtempSync(join(tmpdir(), 'npm-prefix-'));
  const cwd = mkdtempSync(join(tmpdir(), 'npm-user-'));
  const install = await runToEndKept(
    'npm',
    [
      'install',
      '--global',
      '--prefix',
      prefix,
      '--engine-strict',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--fetch-timeout=20000',
      '--fetch-retries=1',
      tarball,
    ],
    { cwd, env: npmEnv(), timeoutMs: 5 * 60_000 },
  );
  if (install.code !== 0) {
    throw new Error(
      `npm install -g of the packed tarball failed (exit ${install.code}); its production dependencies come from npm's cache or the registry ${process.env.npm_config_registry ?? "'npm config get registry' names"}:\n${tail(install)}`,
    );
  }
  const bin = join(prefix, 'bin', 'iot-security-operator');
  // A user's shell: the prefix's bin and node on PATH, no NODE_PATH, NODE_OPTIONS or npm variables.
  const env: NodeJS.ProcessEnv = {
    PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: process.env.HOME,
    TMPDIR: tmpdir(),
  };
  return {
    prefix,
    root: join(prefix, 'lib', 'node_modules', 'iot-security-operator'),
    bin,
    env,
    cwd,
    run: (args, extra = {}, timeoutMs = 60_000) =>
      runToEndKept(bin, args, { cwd, env: { ...env, ...extra }, timeoutMs }),
    remove: () => {
      rmSync(prefix, { recursive: true, force: true });
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
