// `make bench`: the operator at the hub's quota floor, beside the script a user writes by hand, in one run.
//
// Every contender runs as its own process against a fresh emulated hub with its quotas on: tier S3 with 2 units
// (500 twin updates/s, 2,000 queries/min): the rates of an S2 hub with 40 units (200 updates/s, 800 queries/min)
// scaled up 2.5x so that a run takes seconds (higher, and a 2-core machine running the hub and the contender
// becomes the limit instead of the quota); what counts is the ratio to the floor. Agents answer 5 to 30 ms after
// a write.
// floor = twin updates needed / update rate + snapshot query pages (2 x ceil(N/1000)) / query rate.
//
// Scenarios: (1) cold rollout, 1,000 and 10,000 devices (BENCH_LARGE=1 adds 100,000); (2) steady state, a second
// pass on the converged hub; (3) an edit of one setting: time to the first twin write and to converged; (4) 50
// layered resources over 10,000 devices: planning time and memory; (5) the cold rollout with 5% injected 503s and
// query lag. Writes bench/results/{results.json,results.md,convergence.svg}.
// A TwinConfig's rollout beside this baseline's: bench/twin-config.bench.ts (helpers shared in bench/rollout/).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorOptions, RunningEmulator } from '../src/emulator/index.js';
import { createHubClient } from '../src/hub/hub-client.js';
import { SECURITY_MODULE_ID } from '../src/profiles/security-agent/profile.js';
import { convergenceChart, type Series } from './rollout/chart.js';
import {
  baselineFiles,
  baselineResource,
  REPO,
  type RunningProcess,
  runScript,
  runSync,
  writeBaseline,
} from './rollout/contenders.js';
import { controllerRun, requestReconcile, stopControlPlane } from './rollout/controller-run.js';
import { agentReports, ConvergenceTracker } from './rollout/convergence.js';
import {
  callsOf,
  floorS,
  benchHub as hub,
  measure as measureRollout,
  QUERIES_PER_S,
  type Row,
  sleep,
  TIER,
  UPDATES_PER_S,
} from './rollout/harness.js';

/** Only some contenders (BENCH_CONTENDERS=sync,controller,script) or scenarios (BENCH_SCENARIOS=cold,edit,faults,plan). */
const CONTENDERS = process.env.BENCH_CONTENDERS?.split(',');
const SCENARIOS = process.env.BENCH_SCENARIOS?.split(',');
const wanted = (scenario: string) => !SCENARIOS || SCENARIOS.includes(scenario);
/** Fleet sizes of the cold rollout (BENCH_SIZES=500,2000 for a quick run); the last is the one charted and
 * used for the edit, steady-state and fault scenarios. */
const SIZES = process.env.BENCH_SIZES
  ? process.env.BENCH_SIZES.split(',').map(Number)
  : process.env.BENCH_LARGE
    ? [1000, 10_000, 100_000]
    : [1000, 10_000];
const MAIN = process.env.BENCH_LARGE ? 10_000 : SIZES[SIZES.length - 1];
const RESULTS = join(REPO, 'bench/results');

const rows: Row[] = [];
const charts: Series[] = [];

/** One contender's rollout (see harness.ts), its row kept and, when `chart` is given, its line charted. */
async function measure(
  scenario: string,
  contender: string,
  emulator: RunningEmulator,
  tracker: ConvergenceTracker,
  start: () => RunningProcess | Promise<Pick<RunningProcess, 'done'>>,
  devices: number,
  updates: number,
  chart?: string,
): Promise<Row> {
  const { row, timeline } = await measureRollout({
    scenario,
    contender,
    emulator,
    tracker,
    start,
    devices,
    updates,
  });
  rows.push(row);
  if (chart) charts.push({ label: contender, points: timeline });
  return row;
}

// --- scenarios ---------------------------------------------------------------------------------------------

async function coldRollout(devices: number, faults: boolean): Promise<void> {
  const scenario = faults ? 'faults: 5% 503 + 1 s query lag' : 'cold rollout';
  const settings = { snapshotFrequency: 'PT11H' };
  const extra: Partial<EmulatorOptions> = faults
    ? { queryLagMs: 1000, faults: { all: { errorRatio: 0.05, errorStatuses: [503] } } }
    : {};
  const chart = !faults && devices === MAIN ? 'cold' : undefined;

  for (const contender of ['sync --wait', 'controller', 'sdk script'] as const) {
    if (CONTENDERS && !CONTENDERS.some((c) => contender.startsWith(c.replace('script', 'sdk')))) continue;
    const emulator = await hub(devices, extra);
    const foreign = faults ? await plantForeign(emulator, 200) : [];
    const tracker = new ConvergenceTracker(emulator, agentReports('snapshotFrequency', 'PT11H'));
    if (contender === 'sync --wait') {
      const dir = baselineFiles(settings);
      await measure(
        scenario,
        contender,
        emulator,
        tracker,
        () => runSync(emulator, dir, TIER, ['--wait', '--timeout', '10m']),
        devices,
        devices,
        chart,
      );
    } else if (contender === 'sdk script') {
      await measure(
        scenario,
        contender,
        emulator,
        tracker,
        () => runScript(emulator, settings),
        devices,
        devices,
        chart,
      );
    } else {
      const run = await controllerRun(emulator, baselineResource);
      await measure(
        scenario,
        contender,
        emulator,
        tracker,
        async () => {
          await run.apply(settings);
          const done = run.ready().then(() => {
            run.operator.kill('SIGTERM');
            return run.operator.done;
          });
          return { done };
        },
        devices,
        devices,
        chart,
      );
      if (devices === MAIN && !faults) {
        // (3) an edit under the running operator: time to the first twin write and to converged.
        emulator.hub.stats.reset();
        const again = await controllerRun(emulator, baselineResource, run.namespace);
        await again.apply(settings);
        await again.ready();
        await edit('edit', 'controller', emulator, async () => {
          await again.apply({ snapshotFrequency: 'PT10H' });
          await again.ready();
        });
        // (2) steady state: a reconcile of the converged hub requested by hand writes nothing.
        emulator.hub.stats.reset();
        await requestReconcile(again);
        await sleep(3000);
        const steady = callsOf(emulator);
        steadyRow('controller (reconcile requested)', devices, steady);
        again.operator.kill('SIGTERM');
        await again.operator.done;
      }
    }
    if (faults) {
      const kept = await foreignKept(emulator, foreign);
      const row = rows[rows.length - 1];
      if (kept < foreign.length)
        row.note = `${row.note ?? ''} ${foreign.length - kept} foreign properties lost`.trim();
      console.log(`  foreign desired properties intact: ${kept} of ${foreign.length}`);
    }
    await emulator.close();
  }
}

const FOREIGN = 'contoso:maintenanceWindow';

function clientOf(emulator: RunningEmulator) {
  return createHubClient({
    connectionString: emulator.connectionString,
    ca: emulator.caCert,
    ...TIER,
    rateLimits: { twinUpdatesPerSecond: 500 },
  });
}

/** Another writer's desired property on `count` twins, which must survive the rollout. */
async function plantForeign(emulator: RunningEmulator, count: number): Promise<string[]> {
  const client = clientOf(emulator);
  const ids = Array.from({ length: count }, (_, i) => `device-${String(i * 7 + 1).padStart(6, '0')}`);
  const twins = await client.readTwins(SECURITY_MODULE_ID, ids, { consistent: true });
  for (const [id, twin] of twins)
    await client.patchTwin(
      { slot: SECURITY_MODULE_ID, deviceId: id },
      { properties: { desired: { [FOREIGN]: { window: '02:00-04:00' } } } },
      twin.etag,
    );
  client.close();
  emulator.hub.stats.reset();
  return [...twins.keys()];
}

async function foreignKept(emulator: RunningEmulator, ids: string[]): Promise<number> {
  emulator.hub.faults.set({});
  let kept = 0;
  for (const id of ids) {
    const module = emulator.hub.store.requireModule(id, 'azureiotsecurity');
    if ((module.state.desired.value[FOREIGN] as { window?: string } | undefined)?.window === '02:00-04:00')
      kept++;
  }
  return kept;
}

function steadyRow(
  contender: string,
  devices: number,
  figures: { calls: Record<string, number>; throttled: number },
  cpuS = 0,
  rssMb = 0,
): void {
  const row: Row = { scenario: 'steady state', contender, devices, wallS: 0, ...figures, cpuS, rssMb };
  rows.push(row);
  console.log(
    `steady state | ${contender} | ${devices} devices: updates ${figures.calls.twinUpdate ?? 0}, queries ${figures.calls.query ?? 0} (target ${2 * Math.ceil(devices / 1000)}), reads ${figures.calls.twinRead ?? 0}`,
  );
}

async function edit(
  scenario: string,
  contender: string,
  emulator: RunningEmulator,
  change: () => Promise<void>,
): Promise<void> {
  const devices = emulator.hub.store.deviceCount;
  const tracker = new ConvergenceTracker(emulator, agentReports('snapshotFrequency', 'PT10H'));
  emulator.hub.stats.reset();
  tracker.begin();
  const started = performance.now();
  await change();
  const wallS = (performance.now() - started) / 1000;
  tracker.stop();
  const { firstWriteS, lastConvergedS } = tracker.figures();
  const floor = floorS(devices, devices) - (2 * Math.ceil(devices / 1000)) / QUERIES_PER_S;
  const row: Row = {
    scenario,
    contender,
    devices,
    wallS,
    firstWriteS,
    convergedS: lastConvergedS,
    floorS: floor,
    ratio: (lastConvergedS ?? wallS) / floor,
    ...callsOf(emulator),
    cpuS: 0,
    rssMb: 0,
  };
  rows.push(row);
  console.log(
    `${scenario} | ${contender}: first twin write ${firstWriteS?.toFixed(3)} s after the change, all converged ${lastConvergedS?.toFixed(2)} s (floor ${floor.toFixed(2)} s, ${row.ratio?.toFixed(2)}x)`,
  );
}

async function syncSteadyAndEdit(devices: number): Promise<void> {
  const emulator = await hub(devices);
  const dir = baselineFiles({ snapshotFrequency: 'PT11H' });
  await runSync(emulator, dir, TIER, ['--wait']).done;
  emulator.hub.stats.reset();
  const steady = await runSync(emulator, dir, TIER).done;
  steadyRow('sync (second pass)', devices, callsOf(emulator), steady.cpuSeconds, steady.peakRssMb);
  // --watch: the first pass, then the file saved with one setting changed.
  const watching = runSync(emulator, dir, TIER, ['--watch', '--wait', '--interval', '10m']);
  // The edit is saved once the first pass has ended (its JSON line printed), as a user edits a running watch.
  while (!watching.stdoutSoFar().includes('\n')) await sleep(20);
  await edit('edit', 'sync --watch', emulator, async () => {
    writeBaseline(dir, { snapshotFrequency: 'PT10H' });
    const tracker = new ConvergenceTracker(emulator, agentReports('snapshotFrequency', 'PT10H'));
    tracker.begin();
    while (tracker.converged < devices) await sleep(20);
  });
  watching.kill('SIGTERM');
  await watching.done;
  await emulator.close();
}

async function planning(): Promise<void> {
  const figures = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'bench/planner.bench.ts')], {
      env: { ...process.env, BENCH_DEVICES: '10000' },
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.once('exit', () => resolve(out));
  });
  console.log(figures.trim());
  rows.push({
    scenario: '50 layered resources',
    contender: 'planner',
    devices: 10_000,
    wallS: 0,
    calls: {},
    throttled: 0,
    cpuS: 0,
    rssMb: 0,
    note: figures.trim().split('\n').slice(1).join('; '),
  });
}

// --- report ------------------------------------------------------------------------------------------------

function targets(): string[] {
  const find = (scenario: string, contender: string, devices: number) =>
    rows.find((r) => r.scenario === scenario && r.contender === contender && r.devices === devices);
  const lines: string[] = [];
  const check = (ok: boolean, text: string) => lines.push(`- ${ok ? 'MET' : 'MISSED'}: ${text}`);
  const sync10 = find('cold rollout', 'sync --wait', MAIN);
  const script10 = find('cold rollout', 'sdk script', MAIN);
  const controller10 = find('cold rollout', 'controller', MAIN);
  if (sync10) {
    const calls = Object.values(sync10.calls).reduce((a, b) => a + b, 0);
    check(
      (sync10.ratio ?? 9) <= 1.05,
      `cold rollout of ${MAIN} within 1.05x of the floor: sync ${sync10.ratio?.toFixed(3)}x`,
    );
    check(
      sync10.throttled < calls / 100,
      `fewer than 1% of calls answered 429: ${sync10.throttled} of ${calls}`,
    );
    if (script10)
      check(
        sync10.wallS < script10.wallS,
        `ahead of the hand-written script: ${sync10.wallS.toFixed(2)} s vs ${script10.wallS.toFixed(2)} s`,
      );
  }
  if (sync10 && controller10)
    check(
      controller10.wallS <= sync10.wallS * 1.05,
      `the controller within 5% of sync: ${controller10.wallS.toFixed(2)} s vs ${sync10.wallS.toFixed(2)} s`,
    );
  for (const steady of rows.filter((r) => r.scenario === 'steady state'))
    check(
      (steady.calls.twinUpdate ?? 0) === 0 &&
        (steady.calls.query ?? 0) <= 2 * Math.ceil(steady.devices / 1000) &&
        !(steady.calls.twinRead ?? 0),
      `steady state (${steady.contender}): ${steady.calls.twinUpdate ?? 0} writes, ${steady.calls.query ?? 0} queries (target at most ${2 * Math.ceil(steady.devices / 1000)}), ${steady.calls.twinRead ?? 0} reads`,
    );
  for (const e of rows.filter((r) => r.scenario === 'edit')) {
    check(
      (e.firstWriteS ?? 9) < 1,
      `edit (${e.contender}): first twin write ${e.firstWriteS?.toFixed(3)} s after the change`,
    );
    check(
      (e.ratio ?? 9) <= 1.05,
      `edit (${e.contender}): converged in ${e.ratio?.toFixed(3)}x the floor for the devices it touches`,
    );
  }
  for (const f of rows.filter((r) => r.scenario.startsWith('faults')))
    check(!f.note, `faults (${f.contender}): every device converged (${f.ratio?.toFixed(2)}x the floor)`);
  return lines;
}

function markdown(): string {
  const header =
    '| scenario | contender | devices | wall s | converged s | floor s | ratio | twin updates | queries | twin reads | 429s | CPU s | peak RSS MB | note |';
  const lines = rows.map(
    (r) =>
      `| ${r.scenario} | ${r.contender} | ${r.devices} | ${r.wallS ? r.wallS.toFixed(2) : ''} | ${r.convergedS?.toFixed(2) ?? ''}${r.firstWriteS !== undefined ? ` (first write ${r.firstWriteS.toFixed(3)})` : ''} | ${r.floorS?.toFixed(2) ?? ''} | ${r.ratio?.toFixed(3) ?? ''} | ${r.calls.twinUpdate ?? ''} | ${r.calls.query ?? ''} | ${r.calls.twinRead ?? ''} | ${r.throttled || ''} | ${r.cpuS ? r.cpuS.toFixed(1) : ''} | ${r.rssMb ? r.rssMb.toFixed(0) : ''} | ${r.note ?? ''} |`,
  );
  return [
    `Hub: tier ${TIER.tier}, ${TIER.units} units (${UPDATES_PER_S} twin updates/s, ${(QUERIES_PER_S * 60).toFixed(0)} queries/min): S2 with 40 units scaled 2.5x. Agents answer in 5-30 ms.`,
    '',
    header,
    `|${header
      .split('|')
      .slice(1, -1)
      .map(() => '---')
      .join('|')}|`,
    ...lines,
    '',
    'Targets:',
    ...targets(),
    '',
  ].join('\n');
}

mkdirSync(RESULTS, { recursive: true });
try {
  if (wanted('cold')) for (const devices of SIZES) await coldRollout(devices, false);
  if (wanted('edit')) await syncSteadyAndEdit(MAIN);
  if (wanted('faults')) await coldRollout(MAIN, true);
  if (wanted('plan')) await planning();
} finally {
  await stopControlPlane();
}
writeFileSync(
  join(RESULTS, 'results.json'),
  `${JSON.stringify({ tier: TIER, updatesPerSecond: UPDATES_PER_S, queriesPerSecond: QUERIES_PER_S, rows }, null, 2)}\n`,
);
writeFileSync(join(RESULTS, 'results.md'), markdown());
writeFileSync(
  join(RESULTS, 'convergence.svg'),
  convergenceChart(
    `Cold rollout of ${MAIN.toLocaleString('en')} devices: devices converged over time`,
    charts,
    floorS(MAIN, MAIN),
    MAIN,
  ),
);
console.log(`\n${markdown()}`);
console.log(`written: ${RESULTS}/results.json, results.md, convergence.svg`);
