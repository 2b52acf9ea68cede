// `make bench-twin-config`: a TwinConfig rolled out to IoT Plug and Play devices against the quota floor, beside a
// SecurityModuleConfig rolled out to security agents, in one run, so that the two ratios can be compared.
//
// The same hub, quotas and contenders as rollout.bench.ts (S3 x2: 500 twin updates/s, 2,000 queries/min; devices
// answer in 5 to 30 ms): the SecurityModuleConfig baseline on N devices with security agents (their module twins),
// and a TwinConfig setting targetTemperature 21.5 on N thermostats (device twins, targeted by modelId, judged by
// the DTDL model in a ConfigMap; a value every firmware accepts, so none rejects it), each converged when the last
// device answered it (for the thermostats: acknowledged with ac 200 at the version written), by `sync --wait` and
// by the controller on the local control plane. floor = twin updates / update rate + snapshot query pages / query
// rate (the module twins' snapshot reads 2 x ceil(N/1000) pages, the device twins' ceil(N/1000)).
//
// BENCH_DEVICES (10,000), BENCH_ROUNDS (1: each round runs every pair again, interleaved, and the table gives the
// median with the range), BENCH_CONTENDERS=sync,controller. Writes bench/results/twin-config.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningEmulator } from '../src/emulator/index.js';
import { baselineFiles, baselineResource, REPO, runSync } from './rollout/contenders.js';
import { type ControllerResource, controllerRun, stopControlPlane } from './rollout/controller-run.js';
import {
  agentReports,
  type ConvergenceJudge,
  ConvergenceTracker,
  pnpAcknowledges,
} from './rollout/convergence.js';
import { benchHub, measure, type Row, TIER, UPDATES_PER_S } from './rollout/harness.js';
import { SETPOINT, thermostatsFiles, thermostatsResource } from './rollout/thermostats.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const CONTENDERS = (['sync --wait', 'controller'] as const).filter(
  (c) =>
    !process.env.BENCH_CONTENDERS || process.env.BENCH_CONTENDERS.split(',').some((w) => c.startsWith(w)),
);
const RESULTS = join(REPO, 'bench/results');

/** A kind of resource and the fleet it configures. */
interface Kind {
  kind: 'SecurityModuleConfig' | 'TwinConfig';
  hub(): Promise<RunningEmulator>;
  judge: ConvergenceJudge;
  files(): string;
  resource: ControllerResource;
  value: unknown;
  /** Query collections its snapshot reads (see floorS). */
  collections: number;
}

const BASELINE = { snapshotFrequency: 'PT11H' };
const KINDS: Kind[] = [
  {
    kind: 'SecurityModuleConfig',
    hub: () => benchHub(DEVICES),
    judge: agentReports('snapshotFrequency', BASELINE.snapshotFrequency),
    files: () => baselineFiles(BASELINE),
    resource: baselineResource,
    value: BASELINE,
    collections: 2,
  },
  {
    kind: 'TwinConfig',
    // Thermostats only, none slow (a slow device takes 2 to 5 s: the floor would not be what is measured); a
    // quarter on the legacy firmware, which accepts 21.5 all the same.
    hub: () => benchHub(0, { pnpDevices: DEVICES, pnpControllerRatio: 0, pnpSlowRatio: 0 }),
    judge: pnpAcknowledges('targetTemperature', SETPOINT),
    files: () => thermostatsFiles(SETPOINT),
    resource: thermostatsResource,
    value: SETPOINT,
    collections: 1,
  },
];

interface Result extends Row {
  kind: Kind['kind'];
  round: number;
}

async function rollout(kind: Kind, contender: (typeof CONTENDERS)[number], round: number): Promise<Result> {
  const emulator = await kind.hub();
  try {
    const tracker = new ConvergenceTracker(emulator, kind.judge);
    const common = {
      scenario: `cold rollout, ${kind.kind}`,
      contender,
      emulator,
      tracker,
      devices: DEVICES,
      updates: DEVICES,
      collections: kind.collections,
    };
    let measured: Awaited<ReturnType<typeof measure>>;
    if (contender === 'sync --wait') {
      const dir = kind.files();
      measured = await measure({
        ...common,
        start: () => runSync(emulator, dir, TIER, ['--wait', '--timeout', '10m']),
      });
    } else {
      const run = await controllerRun(emulator, kind.resource);
      measured = await measure({
        ...common,
        start: async () => {
          await run.apply(kind.value);
          const done = run.ready().then(() => {
            run.operator.kill('SIGTERM');
            return run.operator.done;
          });
          return { done };
        },
      });
    }
    const rejected = Object.entries(emulator.hub.stats.snapshot().pnpAcknowledgements)
      .filter(([ac]) => Number(ac) >= 300)
      .reduce((n, [, count]) => n + count, 0);
    const row: Result = { ...measured.row, firstWriteS: measured.firstWriteS, kind: kind.kind, round };
    if (rejected) row.note = `${row.note ?? ''} ${rejected} acknowledgements rejected`.trim();
    return row;
  } finally {
    await emulator.close();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** `median (min-max)` of a figure over the rounds, or the one value. */
function spread(values: number[], digits: number): string {
  if (values.length === 1) return values[0].toFixed(digits);
  return `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)})`;
}

function markdown(results: Result[]): string {
  const lines = [
    `Hub: tier ${TIER.tier}, ${TIER.units} units (${UPDATES_PER_S} twin updates/s); ${DEVICES.toLocaleString('en')} devices; ${ROUNDS} round(s): median (min-max).`,
    '',
    '| contender | kind | wall s | first write s | converged s | floor s | ratio (wall / floor) | converged / floor | twin updates | queries | twin reads | 429s | CPU s | note |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const ratios = new Map<string, number>();
  for (const contender of CONTENDERS)
    for (const { kind } of KINDS) {
      const of = results.filter((r) => r.contender === contender && r.kind === kind);
      if (!of.length) continue;
      const last = of[of.length - 1];
      ratios.set(`${contender}/${kind}`, median(of.map((r) => r.ratio ?? 0)));
      lines.push(
        `| ${contender} | ${kind} | ${spread(
          of.map((r) => r.wallS),
          2,
        )} | ${spread(
          of.map((r) => r.firstWriteS ?? Number.NaN),
          2,
        )} | ${spread(
          of.map((r) => r.convergedS ?? Number.NaN),
          2,
        )} | ${last.floorS?.toFixed(2)} | ${spread(
          of.map((r) => r.ratio ?? Number.NaN),
          3,
        )} | ${spread(
          of.map((r) => (r.convergedS ?? Number.NaN) / (r.floorS ?? 1)),
          3,
        )} | ${last.calls.twinUpdate ?? 0} | ${last.calls.query ?? 0} | ${last.calls.twinRead ?? 0} | ${last.throttled} | ${last.cpuS.toFixed(1)} | ${of
          .map((r) => r.note)
          .filter(Boolean)
          .join('; ')} |`,
      );
    }
  lines.push('');
  for (const contender of CONTENDERS) {
    const smc = ratios.get(`${contender}/SecurityModuleConfig`);
    const tc = ratios.get(`${contender}/TwinConfig`);
    if (smc && tc)
      lines.push(
        `- ${contender}: TwinConfig ${tc.toFixed(3)}x the floor, SecurityModuleConfig ${smc.toFixed(3)}x: TwinConfig ${(Math.abs(tc / smc - 1) * 100).toFixed(1)}% ${tc >= smc ? 'higher' : 'lower'} (target: at most 5% higher)`,
      );
  }
  return `${lines.join('\n')}\n`;
}

const results: Result[] = [];
mkdirSync(RESULTS, { recursive: true });
try {
  for (let round = 1; round <= ROUNDS; round++)
    for (const contender of CONTENDERS)
      for (const kind of KINDS) results.push(await rollout(kind, contender, round));
} finally {
  await stopControlPlane();
}
writeFileSync(
  join(RESULTS, 'twin-config.json'),
  `${JSON.stringify({ tier: TIER, devices: DEVICES, rounds: ROUNDS, rows: results }, null, 2)}\n`,
);
writeFileSync(join(RESULTS, 'twin-config.md'), markdown(results));
console.log(`\n${markdown(results)}`);
console.log(`written: ${RESULTS}/twin-config.json, twin-config.md`);
