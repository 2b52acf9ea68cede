// Fleet memory and CPU benchmark (issue 18): `sync --wait` of one emulated hub of 100,000 devices (BENCH_DEVICES)
// at S3 x10 (BENCH_UNITS: 2,500 twin updates/s), cold (every twin to write) and then steady (a second pass on the
// converged hub, nothing to write). `sync` runs as a process of its own, from the sources (tsx), so that its wall
// time, CPU (user + system) and peak RSS are its own and not the emulator's, which runs in this process. Also
// prints what the command costs doing nothing (`--help`: node and tsx). BENCH_CPU_PROF=DIR writes a V8 CPU profile
// of each pass there (node --cpu-prof), to see where the time goes. BENCH_HEAP_CAP_MB=N runs both passes with the
// heap capped (--max-old-space-size=N): peak RSS is mostly garbage V8 has yet to collect, and a process that still
// runs capped shows what it needs (as in a container with a memory limit, which Node sizes its heap by).
// BENCH_SYNC_REPOS (comma-separated checkouts, this one by default, e.g. `/work/wt/before-18,.`) runs both passes of
// each checkout's `sync` in turn, each on a fresh hub of the same seed, to compare older code in the same run.
// First, on a fresh hub of its own, the floor the required library sets (bench/contenders/sdk-floor.ts): the CPU of
// azure-iothub alone reading every twin, writing each once and reading them all again, which no pass can go below
// while it reads whole twins through the SDK (BENCH_SDK_FLOOR=0 leaves it out).
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { baselineFiles, REPO, runNode, syncWaitArgs } from './rollout/contenders.js';
import { benchHub } from './rollout/harness.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 100_000);
const UNITS = Number(process.env.BENCH_UNITS ?? 10);
const PROFILE_DIR = process.env.BENCH_CPU_PROF;
const HEAP_CAP = process.env.BENCH_HEAP_CAP_MB
  ? [`--max-old-space-size=${process.env.BENCH_HEAP_CAP_MB}`]
  : [];
const REPOS = (process.env.BENCH_SYNC_REPOS ?? REPO).split(',').map((r) => resolve(r.trim()));
const cliOf = (repo: string) => ['--import', 'tsx', join(repo, 'src/cli/main.ts')];

function commitOf(repo: string): string {
  try {
    return execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const SETTINGS = { snapshotFrequency: 'PT11H' };
const dir = baselineFiles(SETTINGS);

/** The SDK alone on a fresh hub: CPU a device to read every twin, to write each once, and to read them again. */
async function sdkFloor(): Promise<void> {
  const emulator = await benchHub(DEVICES, { units: UNITS });
  try {
    const run = runNode(['--import', 'tsx', join(REPO, 'bench/contenders/sdk-floor.ts')], {
      IOTHUB_CONNECTION_STRING: emulator.connectionString,
      CA_FILE: emulator.caFile,
      SETTINGS: JSON.stringify(SETTINGS),
    });
    const figures = await run.done;
    if (figures.code !== 0) throw new Error(`the SDK floor client failed: ${figures.stderr.slice(-600)}`);
    const phases = JSON.parse(figures.stdout) as Record<'readCpuS' | 'writeCpuS' | 'rereadCpuS', number>;
    const each = (s: number) => `${s.toFixed(1)} s (${((1000 * s) / DEVICES).toFixed(2)} ms a device)`;
    console.log(
      `the SDK alone (floor): read ${each(phases.readCpuS)}, write ${each(phases.writeCpuS)}, read again ${each(phases.rereadCpuS)}; process ${figures.cpuSeconds.toFixed(1)} s CPU, peak RSS ${Math.round(figures.peakRssMb)} MB`,
    );
  } finally {
    await emulator.close();
  }
}

if (process.env.BENCH_SDK_FLOOR !== '0') await sdkFloor();

async function sync(
  emulator: Awaited<ReturnType<typeof benchHub>>,
  cli: string[],
  label: string,
): Promise<void> {
  const profile = PROFILE_DIR
    ? [
        '--cpu-prof',
        '--cpu-prof-dir',
        PROFILE_DIR,
        '--cpu-prof-name',
        `${label.replace(' ', '-')}.cpuprofile`,
      ]
    : [];
  emulator.hub.stats.reset();
  const started = performance.now();
  const run = runNode(
    [
      ...syncWaitArgs([...profile, ...HEAP_CAP, ...cli], dir, emulator.caFile, UNITS),
      '--output',
      'json',
      '--timeout',
      '15m',
    ],
    { IOTHUB_CONNECTION_STRING: emulator.connectionString },
  );
  const figures = await run.done;
  const wallS = (performance.now() - started) / 1000;
  const updates = emulator.hub.stats.count('twinUpdate', 200);
  // The floor at this tier: S3 x UNITS allows 250 x UNITS updates/s and 1,000 x UNITS queries/min.
  const floor = updates / (250 * UNITS) + (2 * Math.ceil(DEVICES / 1000)) / ((1000 * UNITS) / 60);
  console.log(
    `${label}: exit ${figures.code}, ${wallS.toFixed(1)} s wall (floor ${floor.toFixed(1)} s), ${figures.cpuSeconds.toFixed(1)} s CPU, peak RSS ${Math.round(figures.peakRssMb)} MB; twin updates ${updates}, queries ${emulator.hub.stats.count('query')}, twin reads ${emulator.hub.stats.count('twinRead')}${figures.code === 0 ? '' : `\n${figures.stderr.slice(-600)}`}`,
  );
}

for (const repo of REPOS) {
  const cli = cliOf(repo);
  const name = REPOS.length > 1 ? `${commitOf(repo)} ` : '';
  const idle = await runNode([...cli, '--help'], {}).done;
  console.log(
    `fleet memory benchmark${name ? ` of ${name.trim()}` : ''}: ${DEVICES.toLocaleString('en-US')} devices, S3 x${UNITS}${HEAP_CAP.length ? `, ${HEAP_CAP[0]}` : ''}; the command doing nothing: ${idle.cpuSeconds.toFixed(1)} s CPU, ${Math.round(idle.peakRssMb)} MB`,
  );
  const emulator = await benchHub(DEVICES, { units: UNITS });
  try {
    await sync(emulator, cli, `${name}cold`);
    await emulator.agentsIdle();
    await sync(emulator, cli, `${name}steady`);
  } finally {
    await emulator.close();
  }
}
