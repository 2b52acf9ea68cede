// One pass of `sync`: a session step, then (with --wait) more steps on the session's schedule until every
// resource is Ready, one is stuck for good, the timeout passes, the files change (--watch) or the process stops.
import type { HubSession, StepOutcome } from '../engine/hub-session.js';
import type { CommandIo } from '../observability/command-output.js';
import type { Logger } from '../observability/logger.js';
import type { ResourceReport } from '../planner/resource-report.js';
import type { PlannedResource } from '../planner/types.js';
import { ProgressView } from './progress-view.js';
import { sleep } from './sleep.js';

export interface PassOptions {
  dryRun: boolean;
  wait: boolean;
  timeoutMs: number;
  /** Start from a full read of the hub (the first pass); later passes read what the session's schedule says. */
  fullReadFirst: boolean;
}

export interface PassContext {
  io: CommandIo;
  logger: Logger;
  /** Stop: no new write starts, the pass ends with what it has (SIGINT/SIGTERM, or the files changed). */
  stop?: AbortSignal;
  /** Abandon hub calls in flight too (a stop that did not end the pass in time). */
  abort?: AbortSignal;
  clock: () => number;
}

export interface PassTotals {
  writesSucceeded: number;
  writesFailed: number;
  modulesCreated: number;
  conflictsReplanned: number;
}

export interface PassResult {
  outcome: StepOutcome;
  /** How waiting ended: every resource Ready, a resource that cannot get there, the timeout, or a stop. */
  ending: 'ready' | 'stuck' | 'timeout' | 'stopped' | 'noWait';
  totals: PassTotals;
}

/** Suspended resources write nothing and are not waited for. */
export function awaitedReports(outcome: StepOutcome): ResourceReport[] {
  return [...outcome.finalPlan.reports.values()].filter((r) => !r.suspended);
}

export async function runPass(
  session: HubSession,
  resources: PlannedResource[],
  options: PassOptions,
  context: PassContext,
): Promise<PassResult> {
  const { clock } = context;
  const started = clock();
  const totals: PassTotals = {
    writesSucceeded: 0,
    writesFailed: 0,
    modulesCreated: 0,
    conflictsReplanned: 0,
  };
  const step = async (fullRead: boolean) => {
    const outcome = await session.step(resources, {
      fullRead,
      dryRun: options.dryRun,
      signal: context.abort,
      interrupt: context.stop,
    });
    totals.writesSucceeded += outcome.writesSucceeded;
    totals.writesFailed += outcome.writesFailed;
    totals.modulesCreated += outcome.modulesCreated;
    totals.conflictsReplanned += outcome.conflictsReplanned;
    return outcome;
  };
  let outcome = await step(options.fullReadFirst);
  if (context.stop?.aborted) return { outcome, ending: 'stopped', totals };
  if (!options.wait || options.dryRun) return { outcome, ending: 'noWait', totals };

  const progress = new ProgressView(context.io);
  for (;;) {
    const reports = awaitedReports(outcome);
    progress.update([...outcome.finalPlan.reports.values()], clock() - started);
    if (reports.every((r) => r.ready)) return { outcome, ending: 'ready', totals };
    if (reports.some((r) => r.stuck) && reports.every((r) => r.ready || r.stuck))
      return { outcome, ending: 'stuck', totals };
    if (context.stop?.aborted) return { outcome, ending: 'stopped', totals };
    const left = options.timeoutMs - (clock() - started);
    if (left <= 0) return { outcome, ending: 'timeout', totals };
    await sleep(Math.min(outcome.nextStepInMs, left), context.stop);
    if (context.stop?.aborted) return { outcome, ending: 'stopped', totals };
    outcome = await step(false);
  }
}
