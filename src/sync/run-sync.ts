// `sync`: apply the SecurityModuleConfigs of a set of files to one hub, optionally wait for the agents to
// report them, optionally keep doing so (--watch).
import type { CommandIo } from '../cli/command-io.js';
import { type ReconcileOutcome, reconcileHub } from '../engine/reconcile-hub.js';
import { TwinMemory } from '../engine/twin-memory.js';
import type { HubAccess } from '../hub/hub-client-api.js';
import type { Logger } from '../observability/logger.js';
import type { PlannedResource } from '../planner/types.js';
import { formatProblem } from '../validation/validate-files.js';
import { filesFingerprint } from './file-fingerprint.js';
import { loadSyncResources } from './load-configs.js';
import { ProgressView } from './progress-view.js';
import { sleep } from './sleep.js';
import {
  isReady,
  renderPlanLine,
  renderStatusDetails,
  renderStatusTable,
  statusJson,
} from './status-table.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_TIMEOUT = 3;

export interface SyncOptions {
  paths: string[];
  dryRun: boolean;
  prune: boolean;
  wait: boolean;
  watch: boolean;
  timeoutMs: number;
  intervalMs: number;
  output: 'table' | 'json';
  /** How often --wait re-reads unsettled devices. */
  pollMs?: number;
  /** How often --wait re-reads the whole hub (devices coming online, drift). */
  fullReadMs?: number;
}

export interface SyncContext {
  io: CommandIo;
  access: HubAccess;
  logger: Logger;
  signal?: AbortSignal;
  clock?: () => number;
}

interface PassResult {
  outcome: ReconcileOutcome;
  timedOut: boolean;
  /** Totals over every reconcile of the pass (--wait runs several). */
  totals: {
    writesSucceeded: number;
    writesFailed: number;
    modulesCreated: number;
    conflictsReplanned: number;
  };
}

function addTotals(totals: PassResult['totals'], outcome: ReconcileOutcome): void {
  totals.writesSucceeded += outcome.writesSucceeded;
  totals.writesFailed += outcome.writesFailed;
  totals.modulesCreated += outcome.modulesCreated;
  totals.conflictsReplanned += outcome.conflictsReplanned;
}

function allReady(outcome: ReconcileOutcome): boolean {
  return [...outcome.finalPlan.reports.values()].every(isReady);
}

async function reconcileAndWait(
  resources: PlannedResource[],
  options: SyncOptions,
  context: SyncContext,
  memory: TwinMemory,
): Promise<PassResult> {
  const clock = context.clock ?? Date.now;
  const started = clock();
  const base = {
    unknownOwners: options.prune ? ('remove' as const) : ('keep' as const),
    signal: context.signal,
    memory,
    clock,
    logger: context.logger,
  };
  let outcome = await reconcileHub(context.access, resources, { ...base, dryRun: options.dryRun });
  const totals = { writesSucceeded: 0, writesFailed: 0, modulesCreated: 0, conflictsReplanned: 0 };
  addTotals(totals, outcome);
  if (!options.wait || options.dryRun) return { outcome, timedOut: false, totals };
  const progress = new ProgressView(context.io);
  let lastFullRead = clock();
  while (!allReady(outcome) && !context.signal?.aborted) {
    progress.update([...outcome.finalPlan.reports.values()], clock() - started);
    if (clock() - started >= options.timeoutMs) return { outcome, timedOut: true, totals };
    await sleep(
      Math.min(options.pollMs ?? 2000, Math.max(0, options.timeoutMs - (clock() - started))),
      context.signal,
    );
    let snapshot = outcome.snapshot;
    if (clock() - lastFullRead >= (options.fullReadMs ?? 30_000)) {
      snapshot = await context.access.readSnapshot({ signal: context.signal });
      lastFullRead = clock();
    } else if (outcome.finalPlan.unsettledDevices.length) {
      const fresh = await context.access.readModuleTwins(outcome.finalPlan.unsettledDevices, {
        signal: context.signal,
      });
      for (const [deviceId, twin] of fresh) snapshot.modules.set(deviceId, twin);
    }
    outcome = await reconcileHub(context.access, resources, { ...base, snapshot });
    addTotals(totals, outcome);
  }
  progress.update([...outcome.finalPlan.reports.values()], clock() - started);
  return { outcome, timedOut: !allReady(outcome) && !context.signal?.aborted, totals };
}

function report(result: PassResult, options: SyncOptions, context: SyncContext): void {
  const { outcome, totals } = result;
  const reports = [...outcome.finalPlan.reports.values()];
  if (options.output === 'json') {
    const now = new Date((context.clock ?? Date.now)()).toISOString();
    context.io.out(
      JSON.stringify(
        {
          hub: context.access.hubName,
          dryRun: options.dryRun,
          ready: reports.every(isReady),
          timedOut: result.timedOut,
          writes: {
            succeeded: totals.writesSucceeded,
            failed: totals.writesFailed,
            replannedAfterConflict: totals.conflictsReplanned,
          },
          modulesCreated: totals.modulesCreated,
          resources: reports.map((r) => statusJson(r, now)),
        },
        null,
        2,
      ),
    );
    return;
  }
  if (options.dryRun) {
    context.io.out(`Plan for ${context.access.hubName} (dry run, nothing written):`);
    for (const r of outcome.initialPlan.reports.values()) context.io.out(`  ${renderPlanLine(r)}`);
    if (outcome.initialPlan.moduleCreations.length)
      context.io.out(`  ${outcome.initialPlan.moduleCreations.length} security modules to create`);
    context.io.out('');
  } else {
    context.io.out(
      `${context.access.hubName}: ${totals.writesSucceeded} twins written (${totals.conflictsReplanned} re-planned after a concurrent change), ${totals.writesFailed} failed, ${totals.modulesCreated} modules created`,
    );
  }
  for (const line of renderStatusTable(reports)) context.io.out(line);
  const details = renderStatusDetails(reports);
  if (details.length) context.io.out(['', ...details].join('\n'));
  if (result.timedOut)
    context.io.err(
      `timed out after ${Math.round(options.timeoutMs / 1000)}s before every resource was Ready`,
    );
}

function exitCode(result: PassResult, options: SyncOptions): number {
  if (result.timedOut) return EXIT_TIMEOUT;
  // With --wait, a write that failed and succeeded on a later pass is no failure: Ready is what counts.
  if (options.wait && !options.dryRun) return allReady(result.outcome) ? EXIT_OK : EXIT_FAILED;
  return result.totals.writesFailed > 0 ? EXIT_FAILED : EXIT_OK;
}

function load(options: SyncOptions, context: SyncContext): PlannedResource[] | undefined {
  const loaded = loadSyncResources(options.paths);
  for (const problem of loaded.problems)
    (problem.severity === 'error' ? context.io.err : context.io.out)(formatProblem(problem));
  if (!loaded.valid) {
    context.io.err('sync: the resources are invalid; nothing was written');
    return undefined;
  }
  if (loaded.resources.length === 0)
    context.io.err(`sync: no SecurityModuleConfig in ${options.paths.join(', ')}`);
  return loaded.resources;
}

export async function runSync(options: SyncOptions, context: SyncContext): Promise<number> {
  const memory = new TwinMemory();
  let resources = load(options, context);
  if (!resources) return EXIT_FAILED;
  if (!options.watch) {
    const result = await reconcileAndWait(resources, options, context, memory);
    report(result, options, context);
    return exitCode(result, options);
  }
  // --watch: resync every interval and whenever the files change, until stopped.
  let fingerprint = filesFingerprint(options.paths);
  while (!context.signal?.aborted) {
    try {
      report(await reconcileAndWait(resources, options, context, memory), options, context);
    } catch (error) {
      if (context.signal?.aborted) break;
      context.logger.error('sync pass failed; retrying at the next interval', {
        error: (error as Error).message,
      });
    }
    const deadline = (context.clock ?? Date.now)() + options.intervalMs;
    while (!context.signal?.aborted && (context.clock ?? Date.now)() < deadline) {
      await sleep(Math.min(1000, deadline - (context.clock ?? Date.now)()), context.signal);
      const next = filesFingerprint(options.paths);
      if (next === fingerprint) continue;
      fingerprint = next;
      const reloaded = load(options, context);
      if (reloaded) {
        resources = reloaded;
        context.logger.info('resource files changed; syncing', { resources: resources.length });
        break;
      }
      context.logger.warn('resource files changed but are invalid; keeping the last valid set');
    }
  }
  return EXIT_OK;
}
