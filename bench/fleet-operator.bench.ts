// Fleet memory and CPU benchmark of the operator (issue 18): `run` rolling the baseline out to one emulated hub of
// 100,000 devices (BENCH_DEVICES) at S3 x10 (BENCH_UNITS), as bench/fleet-memory.bench.ts measures `sync --wait`.
// Per checkout (BENCH_OPERATOR_REPOS, comma-separated: checkouts whose src/cli/main.ts is run from the sources with
// tsx; this one by default, e.g. `/work/wt/before-18,.` to compare with older code in the same run), one after the
// other: a fresh emulated hub (same seed), a namespace of its own on one local control plane with the hub's Secret,
// IoTHub and the baseline SecurityModuleConfig applied, then the operator process started cold (it has read nothing);
// the figure is the time from its start to the baseline Ready. Then a resync is requested by hand (the
// reconcile-requested annotation) and, once the hub's status says it was handled and the baseline is Ready again,
// the operator's resident memory then (what it keeps) is read, with its heap figures (process.memoryUsage before
// and after a full collection, V8's heap spaces: what is reachable and what is heap V8 holds but does not use),
// before it is stopped for its CPU and peak RSS. BENCH_HEAP_SNAPSHOT=DIR also writes a heap snapshot of the
// operator there at that moment (tens of seconds at 100,000 devices). BENCH_OPERATOR_NODE_ARGS (space-separated) are
// passed to node for the operator, to measure V8 settings (e.g. `--max-old-space-size=256`). The heap figures are
// taken BENCH_IDLE_S (30) seconds after the resync, with the RSS then ("idle").
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { startControlPlane } from '../src/demo/local-control-plane.js';
import { until } from '../test/support/until.js';
import {
  type HeapFigures,
  memoryProbe,
  OPERATOR_NODE_ARGS,
  type ProcessFigures,
  probeMemory,
  REPO,
  type RunningProcess,
  runOperator,
} from './rollout/contenders.js';
import { requestReconcile } from './rollout/controller-run.js';
import { benchHub } from './rollout/harness.js';
import {
  applyObjects,
  commitOf,
  customObjects,
  GROUP,
  hubNamespace,
  installCrds,
  isReady,
} from './rollout/operator-cluster.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 100_000);
const UNITS = Number(process.env.BENCH_UNITS ?? 10);
const REPOS = (process.env.BENCH_OPERATOR_REPOS ?? REPO).split(',').map((r) => resolve(r.trim()));
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 30);
const NODE_ARGS = OPERATOR_NODE_ARGS;

interface Row {
  operator: string;
  readyS: number;
  cpuS: number;
  peakRssMb: number;
  resyncS: number;
  afterResyncRssMb: number;
  idleRssMb: number;
  heap: HeapFigures;
  updates: number;
  load: number;
}

const controlPlane = await startControlPlane();
const { kubeconfig } = controlPlane.info;
const api = customObjects(kubeconfig);
const get = (namespace: string, plural: string, name: string) =>
  api.getNamespacedCustomObject({ ...GROUP, namespace, plural, name }).catch(() => undefined) as Promise<any>;

/**
 * Waits on the API server's word, bounded far above a cold rollout of the fleet (about 2.5 min here); fails at once,
 * with what the operator printed, if it exits meanwhile (e.g. out of heap under BENCH_OPERATOR_NODE_ARGS).
 */
function waitFor(operator: RunningProcess, condition: () => Promise<boolean>, what: string): Promise<void> {
  let exited: ProcessFigures | undefined;
  operator.done.then((figures) => (exited = figures));
  return until(
    async () => {
      if (exited)
        throw new Error(
          `the operator exited (code ${exited.code}) before ${what}:\n${exited.stderr.slice(-2000)}`,
        );
      return condition();
    },
    30 * 60_000,
    what,
    250,
  );
}

async function run(repo: string, index: number): Promise<Row> {
  const emulator = await benchHub(DEVICES, { units: UNITS });
  const namespace = `fleet-${index}`;
  try {
    await applyObjects(
      kubeconfig,
      hubNamespace(emulator, namespace, { tier: 'S3', units: UNITS }, { snapshotFrequency: 'PT11H' }),
    );
    emulator.hub.stats.reset();
    const load = loadavg()[0];
    const started = performance.now();
    const probe = memoryProbe();
    const operator = runOperator(
      kubeconfig,
      namespace,
      [...probe.args, ...NODE_ARGS, '--import', 'tsx', join(repo, 'src/cli/main.ts')],
      {
        ...probe.env,
        ...(process.env.BENCH_HEAP_SNAPSHOT ? { BENCH_HEAP_SNAPSHOT: process.env.BENCH_HEAP_SNAPSHOT } : {}),
      },
    );
    try {
      await waitFor(
        operator,
        async () => isReady(await get(namespace, 'securitymoduleconfigs', 'baseline')),
        'the baseline Ready',
      );
      const readyS = (performance.now() - started) / 1000;
      const updates = emulator.hub.stats.count('twinUpdate', 200);
      await emulator.agentsIdle();
      const resyncStarted = performance.now();
      const requested = await requestReconcile({ kubeconfig, namespace });
      await waitFor(
        operator,
        async () => {
          const hub = await get(namespace, 'iothubs', 'hub');
          return (
            hub?.status?.lastHandledReconcileAt === requested &&
            isReady(hub) &&
            isReady(await get(namespace, 'securitymoduleconfigs', 'baseline'))
          );
        },
        'the resync handled and everything Ready',
      );
      const resyncS = (performance.now() - resyncStarted) / 1000;
      const afterResyncRssMb = operator.currentRssMb();
      // What it still holds once idle: V8 collects and gives memory back on its own schedule (its memory reducer
      // runs some seconds after the allocation rate falls), not when the pass ends.
      await new Promise((r) => setTimeout(r, IDLE_S * 1000));
      const idleRssMb = operator.currentRssMb();
      const heap = await probeMemory(operator, probe);
      operator.kill('SIGTERM');
      const figures = await operator.done;
      const row: Row = {
        operator: `${repo === REPO ? 'this checkout' : repo} (${commitOf(repo)})`,
        readyS,
        cpuS: figures.cpuSeconds,
        peakRssMb: figures.peakRssMb,
        resyncS,
        afterResyncRssMb,
        idleRssMb,
        heap,
        updates,
        load,
      };
      console.log(
        `${row.operator}: Ready ${readyS.toFixed(1)} s (${updates} twin updates), resync ${resyncS.toFixed(1)} s, RSS after it ${Math.round(afterResyncRssMb)} MB, ${IDLE_S} s later ${Math.round(idleRssMb)} MB; CPU ${row.cpuS.toFixed(1)} s, peak RSS ${Math.round(row.peakRssMb)} MB; load ${load.toFixed(1)}`,
      );
      const mb = (n: number) => Math.round(n);
      const g = heap.afterGc;
      console.log(
        `  ${IDLE_S} s after the resync: heapUsed ${mb(heap.heapUsedMb)} MB of heapTotal ${mb(heap.heapTotalMb)} MB, external ${mb(heap.externalMb)} MB (array buffers ${mb(heap.arrayBuffersMb)} MB); after a full GC: RSS ${mb(g.rssMb)} MB, heapUsed ${mb(g.heapUsedMb)} MB of ${mb(g.heapTotalMb)} MB, external ${mb(g.externalMb)} MB`,
      );
      const rss = (m: Record<string, number>) =>
        Object.entries(m)
          .filter(([, v]) => v >= 1)
          .map(([k, v]) => `${k} ${mb(v)}`)
          .join(', ');
      console.log(`  RSS by mapping (MB): ${rss(heap.mappings)}; after the GC: ${rss(g.mappings)}`);
      console.log(
        `  heap spaces after GC (used/size MB): ${Object.entries(heap.spaces)
          .map(([name, s]) => `${name} ${mb(s.usedMb)}/${mb(s.sizeMb)}`)
          .join(', ')}${heap.snapshot ? `\n  heap snapshot: ${heap.snapshot}` : ''}`,
      );
      return row;
    } finally {
      operator.kill('SIGKILL');
    }
  } finally {
    await emulator.close();
  }
}

try {
  await installCrds(kubeconfig);
  const rows: Row[] = [];
  for (const [i, repo] of REPOS.entries()) rows.push(await run(repo, i));
  console.log(
    [
      `\noperator benchmark: ${DEVICES.toLocaleString('en-US')} devices, S3 x${UNITS}, cold rollout then a resync${NODE_ARGS.length ? ` (node ${NODE_ARGS.join(' ')})` : ''}`,
      '| operator | cold rollout to Ready | twin updates | CPU | peak RSS | resync | RSS after the resync | RSS idle | heap used (after GC) / total | load average |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.operator} | ${r.readyS.toFixed(1)} s | ${r.updates} | ${r.cpuS.toFixed(1)} s | ${Math.round(r.peakRssMb)} MB | ${r.resyncS.toFixed(1)} s | ${Math.round(r.afterResyncRssMb)} MB | ${Math.round(r.idleRssMb)} MB | ${Math.round(r.heap.heapUsedMb)} (${Math.round(r.heap.afterGc.heapUsedMb)}) / ${Math.round(r.heap.heapTotalMb)} MB | ${r.load.toFixed(1)} |`,
      ),
    ].join('\n'),
  );
} finally {
  await controlPlane.stop();
}
