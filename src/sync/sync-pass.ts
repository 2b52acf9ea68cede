// One pass of `sync`: a session step, then (with --wait) more steps on the session's schedule until every
// resource is Ready, one is stuck for good, the timeout passes, the files change (--watch) or the process stops.
import type { HubSession, StepOutcome } from '../engine/hub-session.js';
import { isHubError, needsChangeToRecover } from '../hub/errors.js';
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

/** The wait ended on its timeout while the hub could not be reached; no step had succeeded to report. */
export class PassTimedOut extends Error {
  override name = 'PassTimedOut';
}

const OUTAGE_FIRST_RETRY_MS = 1000;
const OUTAGE_MAX_RETRY_MS = 15_000;

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
  const once = async (fullRead: boolean) => {
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
  // With --wait, an unreachable hub is waited out within --timeout (its client has retried already): backoff
  // doubling to 15 s, saying so. Wrong credentials or settings are not: they need a change.
  const step = async (fullRead: boolean, last?: StepOutcome): Promise<StepOutcome | undefined> => {
    let delay = OUTAGE_FIRST_RETRY_MS;
    for (;;) {
      try {
        return await once(fullRead);
      } catch (error) {
        const waiting = options.wait && !options.dryRun;
        if (
          !waiting ||
          needsChangeToRecover(error) ||
          isHubError(error, 'Cancelled') ||
          context.stop?.aborted
        )
          throw error;
        const left = options.timeoutMs - (clock() - started);
        if (left <= 0) {
          if (last) return undefined;
          throw new PassTimedOut(
            `timed out after ${Math.round(options.timeoutMs / 1000)}s: ${(error as Error).message}`,
          );
        }
        context.io.err(
          `${(error as Error).message}; retrying in ${Math.round(Math.min(delay, left) / 1000)}s (until --timeout)`,
        );
        context.logger.warn('hub step failed while waiting; retrying', { error: (error as Error).message });
        await sleep(Math.min(delay, left), context.stop);
        if (context.stop?.aborted) throw error;
        delay = Math.min(delay * 2, OUTAGE_MAX_RETRY_MS);
      }
    }
  };
  let outcome = (await step(options.fullReadFirst))!;
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
    const next = await step(false, outcome);
    if (!next) return { outcome, ending: 'timeout', totals };
    outcome = next;
  }
}
