// One pass of `sync`: a reconcile, then (with --wait) more reconciles until every resource is Ready, one is
// stuck for good, the timeout passes, the files change (--watch) or the process is stopped.
import type { CommandIo } from '../cli/command-io.js';
import { type ReconcileOutcome, reconcileHub } from '../engine/reconcile-hub.js';
import type { TwinMemory } from '../engine/twin-memory.js';
import type { HubAccess } from '../hub/hub-client-api.js';
import type { Logger } from '../observability/logger.js';
import type { ResourceReport } from '../planner/resource-report.js';
import type { PlannedResource } from '../planner/types.js';
import { ProgressView } from './progress-view.js';
import { sleep } from './sleep.js';
import { isReady } from './status-table.js';

export interface PassOptions {
  dryRun: boolean;
  prune: boolean;
  wait: boolean;
  timeoutMs: number;
  /** How often --wait re-reads the devices whose agents have yet to answer. */
  pollMs: number;
  /** How often --wait re-reads the whole hub (devices coming online, drift). */
  fullReadMs: number;
}

export interface PassContext {
  io: CommandIo;
  access: HubAccess;
  logger: Logger;
  signal?: AbortSignal;
  clock: () => number;
  /** Ends waiting early (the files changed under --watch). */
  interrupted?: () => boolean;
}

export interface PassTotals {
  writesSucceeded: number;
  writesFailed: number;
  modulesCreated: number;
  conflictsReplanned: number;
}

export interface PassResult {
  outcome: ReconcileOutcome;
  /** How waiting ended: every resource Ready, a resource that cannot get there, the timeout, or a stop. */
  ending: 'ready' | 'stuck' | 'timeout' | 'stopped' | 'noWait';
  totals: PassTotals;
}

/** Suspended resources write nothing and are not waited for. */
function awaited(outcome: ReconcileOutcome): ResourceReport[] {
  return [...outcome.finalPlan.reports.values()].filter((r) => !r.suspended);
}

/** Not Ready, and nothing left that could change that without a change of spec or fleet. */
export function isStuck(report: ResourceReport): boolean {
  const c = report.counts;
  return (
    !isReady(report) &&
    c.pendingDevices === 0 &&
    (c.failedDevices + c.stalledDevices > 0 || report.rollout.halted || report.lostConflictDevices > 0)
  );
}

export async function runPass(
  resources: PlannedResource[],
  options: PassOptions,
  context: PassContext,
  memory: TwinMemory,
): Promise<PassResult> {
  const { clock } = context;
  const started = clock();
  const base = {
    unknownOwners: options.prune ? ('remove' as const) : ('keep' as const),
    signal: context.signal,
    memory,
    clock,
    logger: context.logger,
  };
  const totals: PassTotals = {
    writesSucceeded: 0,
    writesFailed: 0,
    modulesCreated: 0,
    conflictsReplanned: 0,
  };
  const add = (o: ReconcileOutcome) => {
    totals.writesSucceeded += o.writesSucceeded;
    totals.writesFailed += o.writesFailed;
    totals.modulesCreated += o.modulesCreated;
    totals.conflictsReplanned += o.conflictsReplanned;
  };
  let outcome = await reconcileHub(context.access, resources, { ...base, dryRun: options.dryRun });
  add(outcome);
  if (!options.wait || options.dryRun) return { outcome, ending: 'noWait', totals };

  const progress = new ProgressView(context.io);
  let lastFullRead = clock();
  for (;;) {
    const reports = awaited(outcome);
    progress.update([...outcome.finalPlan.reports.values()], clock() - started);
    if (reports.every(isReady)) return { outcome, ending: 'ready', totals };
    if (reports.some(isStuck) && reports.every((r) => isReady(r) || isStuck(r)))
      return { outcome, ending: 'stuck', totals };
    if (context.signal?.aborted || context.interrupted?.()) return { outcome, ending: 'stopped', totals };
    if (clock() - started >= options.timeoutMs) return { outcome, ending: 'timeout', totals };
    await sleep(
      Math.min(options.pollMs, Math.max(0, options.timeoutMs - (clock() - started))),
      context.signal,
    );
    if (context.signal?.aborted) return { outcome, ending: 'stopped', totals };
    let snapshot = outcome.snapshot;
    if (clock() - lastFullRead >= options.fullReadMs) {
      snapshot = await context.access.readSnapshot({ signal: context.signal });
      lastFullRead = clock();
    } else if (outcome.finalPlan.unsettledDevices.length) {
      const fresh = await context.access.readModuleTwins(outcome.finalPlan.unsettledDevices, {
        signal: context.signal,
      });
      for (const [deviceId, twin] of fresh) snapshot.modules.set(deviceId, twin);
    }
    outcome = await reconcileHub(context.access, resources, { ...base, snapshot });
    add(outcome);
  }
}
