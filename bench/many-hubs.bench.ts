// `make bench-many-hubs`: one operator rolling out to many hubs at once, each hub a quota domain of its own. A cold
// operator finds N IoTHubs (one per namespace, each an emulated hub with its own twin update quota, both enforced by
// the emulator and told to the operator by spec.rateLimits) and a SecurityModuleConfig on each; the figure is the
// time from the first request any hub received (the operator's process start and cache sync before it are printed
// apart) to every resource Ready, against the slowest hub's quota floor (its twin updates at
// its update rate, plus its snapshot's query pages). Hubs are separate quotas, so that floor is the least the whole
// fleet can take, whatever the number of hubs; what the operator shares between hubs is its process's CPU.
//
// Each scenario runs with `--max-concurrent-hubs 4` (the default before it had no cap: a hub's reconcile held one of
// four workers for its whole rollout step, so the hubs converged in waves of four) and with the default (no cap).
// The runs of a scenario start from identical fleets (fresh emulators, same seeds; a fresh control plane), one after
// the other. The machine's load average is printed with each run: on a shared machine it says what CPU the operator
// and the emulators (this process) had.
//
// BENCH_SCENARIOS (`20x500@50,100x100@10`: hubs x devices per hub @ twin updates/s per hub; both default scenarios
// ask 1,000 twin updates/s of the machine as a whole, and have a 10 s floor), BENCH_CAPS (`4,0`: the
// --max-concurrent-hubs values to run; 0 is no cap), BENCH_OPERATOR_REPO (another checkout whose src/cli/main.ts is
// run instead of this one's, e.g. to measure main's code). Writes bench/results/many-hubs.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type RunningControlPlane, startControlPlane } from '../src/demo/local-control-plane.js';
import type { RunningEmulator } from '../src/emulator/index.js';
import { REPO, runNode } from './rollout/contenders.js';
import { benchHub } from './rollout/harness.js';
import { applyObjects, commitOf, hubNamespace, installCrds, readyTimes } from './rollout/operator-cluster.js';

interface Scenario {
  hubs: number;
  devices: number;
  updatesPerS: number;
}

interface Result {
  scenario: string;
  cap: string;
  operator: string;
  hubs: number;
  devicesPerHub: number;
  updatesPerSPerHub: number;
  /** The slowest hub's floor: its twin updates at its rate, plus its snapshot's query pages. */
  floorS: number;
  /** From the operator's start to the first request any hub received (process start, informers' sync). */
  startupS: number;
  /** From that first request to the first resource Ready, half of them, all of them. */
  firstReadyS: number;
  halfReadyS: number;
  allReadyS: number;
  ratio: number;
  /** Hubs that had received their first twin write when the first hub received its last. */
  overlapping: number;
  updates: number;
  throttled: number;
  cpuS: number;
  rssMb: number;
  /** The machine's 1-minute load average at the operator's start and when all were Ready (2 cores here, shared). */
  load: [number, number];
  note?: string;
}

const SCENARIOS: Scenario[] = (process.env.BENCH_SCENARIOS ?? '20x500@50,100x100@10').split(',').map((s) => {
  const match = /^(\d+)x(\d+)@(\d+(?:\.\d+)?)$/.exec(s.trim());
  if (!match) throw new Error(`BENCH_SCENARIOS: '${s}' is not HUBSxDEVICES@UPDATES_PER_S`);
  return { hubs: Number(match[1]), devices: Number(match[2]), updatesPerS: Number(match[3]) };
});
const CAPS = (process.env.BENCH_CAPS ?? '4,0').split(',').map((c) => Number(c.trim()));
const OPERATOR_REPO = process.env.BENCH_OPERATOR_REPO ?? REPO;
const RESULTS = join(REPO, 'bench/results');
/** The security agents' module twins and the devices: two query collections, 1,000 twins a page. */
const COLLECTIONS = 2;
/** S3 with one unit: 1,000 queries a minute. */
const QUERIES_PER_S = 1000 / 60;

function label(s: Scenario): string {
  return `${s.hubs} hubs x ${s.devices} devices @ ${s.updatesPerS} updates/s`;
}

/** When any of the hubs first received a request (polled every 5 ms), from `origin`. */
function firstRequest(emulators: RunningEmulator[], origin: number): { at: () => number; stop: () => void } {
  let at = Number.NaN;
  const timer = setInterval(() => {
    if (Number.isNaN(at) && emulators.some((e) => e.hub.stats.count('query') > 0))
      at = (performance.now() - origin) / 1000;
  }, 5);
  return { at: () => at, stop: () => clearInterval(timer) };
}

async function run(s: Scenario, cap: number): Promise<Result> {
  const emulators: RunningEmulator[] = [];
  let controlPlane: RunningControlPlane | undefined;
  try {
    for (let i = 0; i < s.hubs; i++)
      emulators.push(
        await benchHub(s.devices, {
          units: 1,
          seed: 7 + i,
          quotas: { twinUpdate: { limit: s.updatesPerS, windowMs: 1000 } },
        }),
      );
    controlPlane = await startControlPlane();
    const { kubeconfig } = controlPlane.info;
    await installCrds(kubeconfig);
    // One hub per namespace, its quota told to the operator by spec.rateLimits.
    const spec = { tier: 'S3', units: 1, rateLimits: { twinUpdatesPerSecond: s.updatesPerS } };
    await applyObjects(
      kubeconfig,
      emulators.flatMap((e, i) => hubNamespace(e, `hub-${String(i).padStart(3, '0')}`, spec)),
    );
    for (const e of emulators) e.hub.stats.reset();

    const loadBefore = loadavg()[0];
    const origin = performance.now();
    const first = firstRequest(emulators, origin);
    const operator = runNode(
      [
        '--import',
        'tsx',
        join(OPERATOR_REPO, 'src/cli/main.ts'),
        'run',
        '--kubeconfig',
        kubeconfig,
        '--max-concurrent-hubs',
        String(cap),
        '--metrics-bind-address',
        '0',
        '--health-probe-bind-address',
        '0',
      ],
      {},
    );
    // Ten times the slowest floor of four waves: a run that takes longer has failed.
    const deadline = origin + 1000 * Math.max(600, 40 * (s.devices / s.updatesPerS));
    const fromStart = await readyTimes(kubeconfig, s.hubs, origin, deadline);
    first.stop();
    const startupS = first.at();
    const times = fromStart.map((t) => t - startupS);
    const loadAfter = loadavg()[0];
    operator.kill('SIGTERM');
    const figures = await operator.done;

    const spans = emulators.map((e) => e.hub.stats.twinUpdateSpan());
    const firstDone = Math.min(...spans.map((span) => span?.lastAt ?? Number.POSITIVE_INFINITY));
    const overlapping = spans.filter((span) => span !== undefined && span.firstAt <= firstDone).length;
    const updatesOf = (e: RunningEmulator) => e.hub.stats.count('twinUpdate', 200);
    const slowest = Math.max(...emulators.map(updatesOf));
    const floorS = slowest / s.updatesPerS + (COLLECTIONS * Math.ceil(s.devices / 1000)) / QUERIES_PER_S;
    const allReadyS = times.length === s.hubs ? times[times.length - 1] : Number.NaN;
    const result: Result = {
      scenario: label(s),
      cap: cap === 0 ? 'none (default)' : String(cap),
      operator:
        OPERATOR_REPO === REPO
          ? `this checkout (${commitOf(REPO)})`
          : `${OPERATOR_REPO} (${commitOf(OPERATOR_REPO)})`,
      hubs: s.hubs,
      devicesPerHub: s.devices,
      updatesPerSPerHub: s.updatesPerS,
      floorS,
      startupS,
      firstReadyS: times[0] ?? Number.NaN,
      halfReadyS: times[Math.floor((s.hubs - 1) / 2)] ?? Number.NaN,
      allReadyS,
      ratio: allReadyS / floorS,
      overlapping,
      updates: emulators.reduce((sum, e) => sum + updatesOf(e), 0),
      throttled: emulators.reduce((sum, e) => sum + e.hub.stats.count('twinUpdate', 429), 0),
      cpuS: figures.cpuSeconds,
      rssMb: figures.peakRssMb,
      load: [loadBefore, loadAfter],
      note:
        times.length === s.hubs ? undefined : `only ${times.length} of ${s.hubs} Ready before the deadline`,
    };
    console.log(
      `${result.scenario} | cap ${result.cap}: operator started ${startupS.toFixed(1)} s; then all Ready ${allReadyS.toFixed(1)} s (first ${result.firstReadyS.toFixed(1)} s, half ${result.halfReadyS.toFixed(1)} s), floor ${floorS.toFixed(1)} s, ${result.ratio.toFixed(2)}x; ${overlapping}/${s.hubs} hubs writing when the first finished; ${result.updates} updates, ${result.throttled} 429s; operator cpu ${result.cpuS.toFixed(1)} s, rss ${result.rssMb.toFixed(0)} MB; load ${loadBefore.toFixed(1)} to ${loadAfter.toFixed(1)}${result.note ? ` (${result.note})` : ''}`,
    );
    return result;
  } finally {
    await controlPlane?.stop();
    for (const e of emulators) await e.close();
  }
}

function table(results: Result[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.scenario} | ${r.cap} | ${r.floorS.toFixed(1)} s | ${r.firstReadyS.toFixed(1)} s | ${r.halfReadyS.toFixed(1)} s | ${r.allReadyS.toFixed(1)} s (${r.ratio.toFixed(2)}x) | ${r.overlapping} of ${r.hubs} | ${r.cpuS.toFixed(1)} s | ${r.rssMb.toFixed(0)} MB | ${r.load.map((l) => l.toFixed(1)).join(' to ')} |`,
  );
  return [
    '| scenario | --max-concurrent-hubs | slowest hub floor | first Ready | half Ready | all Ready (x floor) | hubs writing when the first finished | operator CPU | peak RSS | load average |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  const results: Result[] = [];
  for (const s of SCENARIOS) for (const cap of CAPS) results.push(await run(s, cap));
  console.log(`\n${table(results)}`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'many-hubs.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(RESULTS, 'many-hubs.md'), `${table(results)}\n`);
}

await main();
