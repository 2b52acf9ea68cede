// What every rollout benchmark shares: the hub's tier and the floor its quotas set, a fresh emulated hub per run,
// the calls the hub saw, and the measurement of one contender's rollout (wall time from the hub's first request,
// time to the last device converged, CPU and memory of the contender's process).
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import type { ProcessFigures } from './contenders.js';
import type { ConvergenceTracker } from './convergence.js';

/** S3 with 2 units: the rates of an S2 hub with 40 units scaled up 2.5x (see rollout.bench.ts). */
export const TIER = { tier: 'S3', units: Number(process.env.BENCH_UNITS ?? 2) };
export const UPDATES_PER_S = 250 * TIER.units;
export const QUERIES_PER_S = (1000 * TIER.units) / 60;

/**
 * The least time the hub's quotas allow: the twin updates at the update rate, and the snapshot's query pages
 * (1,000 twins a page, `collections` of them per device: 2 for module twins, read beside the devices; 1 for device
 * twins, which come with the devices) at the query rate.
 */
export function floorS(updates: number, devices: number, collections = 2): number {
  return updates / UPDATES_PER_S + (collections * Math.ceil(devices / 1000)) / QUERIES_PER_S;
}

export interface Row {
  scenario: string;
  contender: string;
  devices: number;
  wallS: number;
  convergedS?: number;
  firstWriteS?: number;
  floorS?: number;
  ratio?: number;
  calls: Record<string, number>;
  throttled: number;
  cpuS: number;
  rssMb: number;
  note?: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh hub at the bench's tier, its devices settled (agents and PnP devices have reported), statistics reset. */
export async function benchHub(
  devices: number,
  extra: Partial<EmulatorOptions> = {},
): Promise<RunningEmulator> {
  const emulator = await startEmulator({
    devices,
    seed: 7,
    ...TIER,
    tier: 'S3',
    agentDelay: { min: 5, max: 30 },
    offlineRatio: 0,
    lowercaseRatio: 0.25,
    ...extra,
  });
  await emulator.agentsIdle();
  await emulator.pnpIdle();
  emulator.hub.stats.reset();
  return emulator;
}

export function callsOf(emulator: RunningEmulator): { calls: Record<string, number>; throttled: number } {
  const stats = emulator.hub.stats.snapshot();
  const calls = Object.fromEntries(
    Object.entries(stats.requests).map(([cls, byStatus]) => [
      cls,
      Object.values(byStatus).reduce((a, b) => a + b, 0),
    ]),
  );
  return { calls, throttled: Object.values(stats.throttled).reduce((a, b) => a + b, 0) };
}

/** When the hub saw the first request since `since` (polled every 2 ms). */
function firstRequest(emulator: RunningEmulator): { at: () => number | undefined; stop: () => void } {
  let at: number | undefined;
  const timer = setInterval(() => {
    if (at === undefined && emulator.hub.stats.snapshot().totalRequests > 0) at = performance.now();
  }, 2);
  return { at: () => at, stop: () => clearInterval(timer) };
}

export interface Measurement {
  scenario: string;
  contender: string;
  emulator: RunningEmulator;
  tracker: ConvergenceTracker;
  /** Starts the contender; its `done` resolves when it has finished (exited, or been stopped once converged). */
  start: () =>
    | { done: Promise<Pick<ProcessFigures, 'cpuSeconds' | 'peakRssMb' | 'code' | 'stderr'>> }
    | Promise<{ done: Promise<Pick<ProcessFigures, 'cpuSeconds' | 'peakRssMb' | 'code' | 'stderr'>> }>;
  devices: number;
  /** Twin updates the rollout needs. */
  updates: number;
  /** Query collections the snapshot reads per 1,000 devices (see floorS). */
  collections?: number;
}

/**
 * One contender's rollout, timed from the hub's first request: the row (ratio = wall time over the floor), the
 * devices converged over time and the first twin write, on the same clock. Prints one line.
 */
export async function measure(
  m: Measurement,
): Promise<{ row: Row; timeline: [number, number][]; firstWriteS?: number }> {
  const first = firstRequest(m.emulator);
  m.tracker.begin();
  const launched = performance.now();
  const contender = await m.start();
  const figures = await contender.done;
  const ended = performance.now();
  first.stop();
  m.tracker.stop();
  const origin = first.at() ?? launched;
  const lead = (origin - launched) / 1000;
  const { lastConvergedS, firstWriteS } = m.tracker.figures();
  const wallS = (ended - origin) / 1000;
  const firstWrite = firstWriteS === undefined ? undefined : firstWriteS - lead;
  const floor = floorS(m.updates, m.devices, m.collections);
  const row: Row = {
    scenario: m.scenario,
    contender: m.contender,
    devices: m.devices,
    wallS,
    convergedS: lastConvergedS === undefined ? undefined : lastConvergedS - lead,
    firstWriteS: firstWrite,
    floorS: floor,
    ratio: wallS / floor,
    ...callsOf(m.emulator),
    cpuS: figures.cpuSeconds,
    rssMb: figures.peakRssMb,
    note: figures.code === 0 ? undefined : `exit ${figures.code}: ${figures.stderr.slice(-300)}`,
  };
  if (m.tracker.converged < m.devices)
    row.note = `${row.note ?? ''} only ${m.tracker.converged} of ${m.devices} converged`.trim();
  console.log(
    `${m.scenario} | ${m.contender} | ${m.devices} devices: ${wallS.toFixed(2)} s (floor ${floor.toFixed(2)} s, ${(wallS / floor).toFixed(2)}x), first write ${firstWrite?.toFixed(2) ?? '-'} s, updates ${row.calls.twinUpdate ?? 0}, queries ${row.calls.query ?? 0}, reads ${row.calls.twinRead ?? 0}, 429s ${row.throttled}, cpu ${row.cpuS.toFixed(1)} s, rss ${row.rssMb.toFixed(0)} MB${row.note ? ` (${row.note})` : ''}`,
  );
  const timeline = m.tracker.timeline().map(([t, n]): [number, number] => [Math.max(0, t - lead), n]);
  return { row, timeline, firstWriteS: firstWrite };
}
