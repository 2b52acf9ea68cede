// `make bench-million` (issue 18): a million devices in one operator. Ten emulated hubs (BENCH_HUBS) of 100,000
// devices each (BENCH_DEVICES_PER_HUB), every hub S3 x10 (BENCH_UNITS: 2,500 twin updates/s and 10,000 queries a
// minute, the largest S3 hub), each an emulator process of its own (a hub of 100,000 devices is about half a
// gigabyte, and this process stays small); the local control plane; one operator (`run`, from the sources, all
// namespaces, the default --max-concurrent-hubs) started cold once one namespace per hub holds its Secret, IoTHub
// and the baseline SecurityModuleConfig.
//
// It prints: the operator's startup (its start to its first request to a hub: process start, informers' sync), then
// the time from that request to every resource Ready against the slowest hub's floor (its twin
// updates at 2,500/s plus its snapshot's query pages at its query rate; hubs are separate quotas, so that is the
// least the fleet can take); the operator's CPU and peak RSS for that cold rollout; then a steady resync of all
// hubs at once (requested by hand), the operator's CPU for it, its RSS after it, and each hub's queries during it
// against its query quota (and any 429s), from each emulator's statistics over its admin API. Memory is sampled
// every second: each emulator's RSS, the operator's, and the machine's available memory at its lowest (24 GB
// here, shared with other work). Writes bench/results/million.{json,md}.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../src/demo/local-control-plane.js';
import type { EmulatorStatsSnapshot } from '../src/emulator/index.js';
import { quotaFor } from '../src/quotas/index.js';
import { until } from '../test/support/until.js';
import { OPERATOR_NODE_ARGS, REPO, runNode } from './rollout/contenders.js';
import { requestReconcile } from './rollout/controller-run.js';
import { countOf, type EmulatorProcess, startEmulatorProcess } from './rollout/emulator-process.js';
import {
  applyObjects,
  commitOf,
  customObjects,
  everythingReady,
  GROUP,
  hubNamespace,
  installCrds,
  readyTimes,
} from './rollout/operator-cluster.js';

const HUBS = Number(process.env.BENCH_HUBS ?? 10);
const DEVICES = Number(process.env.BENCH_DEVICES_PER_HUB ?? 100_000);
const UNITS = Number(process.env.BENCH_UNITS ?? 10);
/** Node flags for the operator, e.g. `--max-old-space-size=2048` as a Deployment would set. */
const NODE_ARGS = OPERATOR_NODE_ARGS;
const TIER = 'S3';
const UPDATES_PER_S = quotaFor(TIER, UNITS, 'twinUpdate').limit;
const QUERIES_PER_MIN = quotaFor(TIER, UNITS, 'query').limit;
/** The security agents' module twins and the devices: two query collections, 1,000 twins a page. */
const COLLECTIONS = 2;
/** Far above a cold rollout at full size (a few minutes of the operator's CPU): a run that takes longer failed. */
const DEADLINE_MS = 60 * 60_000;
const RESULTS = join(REPO, 'bench/results');

const mb = (n: number) => `${Math.round(n).toLocaleString('en-US')} MB`;
const namespaceOf = (i: number) => `hub-${String(i).padStart(2, '0')}`;

/** The machine's available memory (Linux: MemAvailable, what can be had without swapping), in MB. */
function availableMb(): number {
  const kb = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** Peaks of resident memory, sampled every second: each process's, and the machine's available memory at its lowest. */
function memorySampler(processes: Record<string, { currentRssMb(): number }>) {
  const peaks: Record<string, number> = Object.fromEntries(Object.keys(processes).map((k) => [k, 0]));
  let lowestAvailableMb = availableMb();
  const sample = () => {
    for (const [name, p] of Object.entries(processes)) {
      try {
        peaks[name] = Math.max(peaks[name], p.currentRssMb());
      } catch {} // it has exited
    }
    lowestAvailableMb = Math.min(lowestAvailableMb, availableMb());
  };
  const timer = setInterval(sample, 1000);
  return {
    peaks,
    lowestAvailableMb: () => lowestAvailableMb,
    stop: () => {
      sample();
      clearInterval(timer);
    },
  };
}

/**
 * When any hub first received a request, in seconds from `origin`: polled every 100 ms over the admin API until
 * then (the statistics are small before the first write), the operator's process start and cache sync before it.
 */
async function firstRequestS(
  emulators: EmulatorProcess[],
  origin: number,
  deadline: number,
): Promise<number> {
  while (performance.now() < deadline) {
    // Hub calls only: these admin calls are counted too, as class 'admin'.
    const hubCalls = (stats: EmulatorStatsSnapshot) =>
      Object.keys(stats.requests)
        .filter((operation) => operation !== 'admin')
        .reduce((sum, operation) => sum + countOf(stats, operation), 0);
    const totals = await Promise.all(emulators.map(async (e) => hubCalls(await e.stats())));
    if (totals.some((n) => n > 0)) return (performance.now() - origin) / 1000;
    await new Promise((r) => setTimeout(r, 100));
  }
  return Number.NaN;
}

interface HubResync {
  hub: string;
  queries: number;
  throttledQueries: number;
  twinUpdates: number;
  twinReads: number;
}

const totalMb = Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) / 1024;
console.log(
  `million benchmark: ${HUBS} hubs x ${DEVICES.toLocaleString('en-US')} devices (${(HUBS * DEVICES).toLocaleString('en-US')}), ${TIER} x${UNITS} each (${UPDATES_PER_S} twin updates/s, ${QUERIES_PER_MIN} queries/min)${NODE_ARGS.length ? `; operator node ${NODE_ARGS.join(' ')}` : ''}; machine ${mb(totalMb)}, ${mb(availableMb())} available, load ${loadavg()[0].toFixed(1)}`,
);

const emulators: EmulatorProcess[] = [];
const controlPlane = await startControlPlane();
const { kubeconfig } = controlPlane.info;
try {
  const seeding = performance.now();
  // Started together: seeding is CPU each, so this takes as long as one after the other would, but no longer.
  emulators.push(
    ...(await Promise.all(
      Array.from({ length: HUBS }, (_, i) =>
        startEmulatorProcess({ devices: DEVICES, tier: TIER, units: UNITS, seed: 7 + i }),
      ),
    )),
  );
  for (const e of emulators) await e.agentsSettled();
  for (const e of emulators) await e.resetStats();
  console.log(
    `${HUBS} emulators seeded and settled in ${((performance.now() - seeding) / 1000).toFixed(1)} s; RSS ${emulators.map((e) => Math.round(e.process.currentRssMb())).join(', ')} MB; ${mb(availableMb())} available`,
  );

  await installCrds(kubeconfig);
  await applyObjects(
    kubeconfig,
    emulators.flatMap((e, i) => hubNamespace(e, namespaceOf(i), { tier: TIER, units: UNITS })),
  );

  const loadBefore = loadavg()[0];
  const origin = performance.now();
  const operator = runNode(
    [
      ...NODE_ARGS,
      '--import',
      'tsx',
      join(REPO, 'src/cli/main.ts'),
      'run',
      '--kubeconfig',
      kubeconfig,
      '--metrics-bind-address',
      '0',
      '--health-probe-bind-address',
      '0',
    ],
    {},
  );
  const memory = memorySampler({
    operator,
    ...Object.fromEntries(emulators.map((e, i) => [namespaceOf(i), e.process])),
  });
  try {
    // Cold: from the operator's start (it has read nothing) to every baseline Ready, then every resource.
    const [startupS, times] = await Promise.all([
      firstRequestS(emulators, origin, origin + DEADLINE_MS),
      readyTimes(kubeconfig, HUBS, origin, origin + DEADLINE_MS),
    ]);
    if (times.length < HUBS) throw new Error(`only ${times.length} of ${HUBS} baselines Ready in time`);
    const allReadyS = times[times.length - 1];
    await until(
      async () => (await everythingReady(kubeconfig)).notReady.length === 0,
      60_000,
      'every IoTHub Ready',
    );
    const coldCpuS = operator.cpuSecondsSoFar();
    const coldPeakRssMb = memory.peaks.operator;
    const loadAfterCold = loadavg()[0];
    const coldStats = await Promise.all(emulators.map((e) => e.stats()));
    const updates = coldStats.map((s) => countOf(s, 'twinUpdate', 200));
    const floorS =
      Math.max(...updates) / UPDATES_PER_S +
      (COLLECTIONS * Math.ceil(DEVICES / 1000)) / (QUERIES_PER_MIN / 60);
    const rolloutS = allReadyS - startupS;
    const throttled = coldStats.reduce(
      (sum, s) => sum + Object.values(s.throttled).reduce((a, b) => a + b, 0),
      0,
    );
    console.log(
      `cold: the operator started ${startupS.toFixed(1)} s (its first request to a hub); then every resource Ready ${rolloutS.toFixed(1)} s (first hub ${(times[0] - startupS).toFixed(1)} s), slowest hub's floor ${floorS.toFixed(1)} s (${(rolloutS / floorS).toFixed(2)}x); ${updates.reduce((a, b) => a + b, 0)} twin updates, ${throttled} 429s; operator CPU ${coldCpuS.toFixed(1)} s, peak RSS ${mb(coldPeakRssMb)}; load ${loadBefore.toFixed(1)} to ${loadAfterCold.toFixed(1)}`,
    );

    // Steady: the agents have answered; a resync of every hub at once, nothing to write.
    for (const e of emulators) await e.agentsSettled();
    for (const e of emulators) await e.resetStats();
    const api = customObjects(kubeconfig);
    const cpuBefore = operator.cpuSecondsSoFar();
    const resyncStarted = performance.now();
    const requested = new Map<string, string>();
    for (let i = 0; i < HUBS; i++)
      requested.set(namespaceOf(i), await requestReconcile({ kubeconfig, namespace: namespaceOf(i) }));
    await until(
      async () => {
        const hubs = (await api.listClusterCustomObject({ ...GROUP, plural: 'iothubs' })) as { items: any[] };
        return (
          hubs.items.every((h) => h.status?.lastHandledReconcileAt === requested.get(h.metadata.namespace)) &&
          (await everythingReady(kubeconfig)).notReady.length === 0
        );
      },
      DEADLINE_MS,
      'every hub resynced and every resource Ready',
      250,
    );
    const resyncS = (performance.now() - resyncStarted) / 1000;
    const resyncCpuS = operator.cpuSecondsSoFar() - cpuBefore;
    const afterResyncRssMb = operator.currentRssMb();
    const resyncs: HubResync[] = (await Promise.all(emulators.map((e) => e.stats()))).map((s, i) => ({
      hub: namespaceOf(i),
      queries: countOf(s, 'query'),
      throttledQueries: s.throttled.query ?? 0,
      twinUpdates: countOf(s, 'twinUpdate'),
      twinReads: countOf(s, 'twinRead'),
    }));
    // A hub's query quota over the resync: its rate for the resync's length, and never less than one minute's
    // worth, the window the hub counts queries in.
    const allowed = Math.round(QUERIES_PER_MIN * Math.max(1, resyncS / 60));
    console.log(
      `steady resync of all ${HUBS} hubs: ${resyncS.toFixed(1)} s, operator CPU ${resyncCpuS.toFixed(1)} s, RSS after it ${mb(afterResyncRssMb)}; queries per hub ${resyncs.map((r) => r.queries).join(', ')} (quota ${allowed} in that time), query 429s ${resyncs.reduce((a, r) => a + r.throttledQueries, 0)}, twin updates ${resyncs.reduce((a, r) => a + r.twinUpdates, 0)}, twin reads ${resyncs.reduce((a, r) => a + r.twinReads, 0)}`,
    );

    operator.kill('SIGTERM');
    const figures = await operator.done;
    memory.stop();
    const emulatorRss = emulators.map((_, i) => memory.peaks[namespaceOf(i)]);
    const result = {
      operator: `this checkout (${commitOf(REPO)})`,
      hubs: HUBS,
      devicesPerHub: DEVICES,
      tier: `${TIER} x${UNITS}`,
      startupS,
      allReadyS: rolloutS,
      floorS,
      ratio: rolloutS / floorS,
      twinUpdates: updates.reduce((a, b) => a + b, 0),
      throttled,
      coldCpuS,
      coldPeakRssMb,
      resyncS,
      resyncCpuS,
      afterResyncRssMb,
      cpuS: figures.cpuSeconds,
      peakRssMb: figures.peakRssMb,
      resyncs,
      queryQuotaInResync: allowed,
      emulatorPeakRssMb: emulatorRss,
      lowestAvailableMb: memory.lowestAvailableMb(),
      totalMb,
      load: [loadBefore, loadAfterCold],
    };
    const md = [
      `${HUBS} hubs x ${DEVICES.toLocaleString('en-US')} devices, ${TIER} x${UNITS} each, one operator (${result.operator})`,
      '',
      "| operator start | then all Ready (x slowest floor) | operator CPU, cold | peak RSS | steady resync of all hubs | its CPU | RSS after it | queries per hub in it (quota) | query 429s | emulators' peak RSS | lowest available memory |",
      '|---|---|---|---|---|---|---|---|---|---|---|',
      `| ${startupS.toFixed(1)} s | ${rolloutS.toFixed(1)} s (${floorS.toFixed(1)} s, ${result.ratio.toFixed(2)}x) | ${coldCpuS.toFixed(1)} s | ${mb(figures.peakRssMb)} | ${resyncS.toFixed(1)} s | ${resyncCpuS.toFixed(1)} s | ${mb(afterResyncRssMb)} | ${Math.min(...resyncs.map((r) => r.queries))} to ${Math.max(...resyncs.map((r) => r.queries))} (${allowed}) | ${resyncs.reduce((a, r) => a + r.throttledQueries, 0)} | ${mb(Math.min(...emulatorRss))} to ${mb(Math.max(...emulatorRss))} each, ${mb(emulatorRss.reduce((a, b) => a + b, 0))} in all | ${mb(result.lowestAvailableMb)} of ${mb(totalMb)} |`,
    ].join('\n');
    console.log(`\n${md}`);
    await mkdir(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'million.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(RESULTS, 'million.md'), `${md}\n`);
  } finally {
    memory.stop();
    operator.kill('SIGKILL');
  }
} finally {
  await controlPlane.stop();
  for (const e of emulators) await e.stop();
}
