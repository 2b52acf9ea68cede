// One pass of `sync`: a session step, then (with --wait) more steps on the session's schedule until every
// resource is Ready, one is stuck for good, the timeout passes, the files change (--watch) or the process stops.
import type { HubSession, StepOutcome } from '../engine/hub-session.js';
import { isHubError, needsChangeToRecover } from '../hub/errors.js';
import type { CommandIo } from '../observability/command-output.js';
import type { Logger } from '../observability/logger.js';
import type { ResourceReport } from '../planner/resource-report.js';
import type { PlannedResource } from '../planner/types.js';
import { TYPED_SLOTS } from '../profiles/profiles.js';
import { type BackoffPolicy, backoffWindowMs } from '../runtime/backoff.js';
import { type Clock, pause } from '../runtime/clock.js';
import type { Stop } from '../runtime/stop.js';
import { DEVICE_TWIN } from '../twins/types.js';
import { ProgressView } from './progress-view.js';

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
  /**
   * `drain`: no new write starts, the pass ends with what it has (SIGINT/SIGTERM, or the files changed).
   * `abort`: hub calls in flight are abandoned too (a drain that did not end the pass in time).
   */
  stop: Stop;
  clock: Clock;
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

/**
 * Waits for an unreachable hub: 1 s doubling to 15 s. The whole window, without jitter: one process waits, and
 * says how long ("retrying in 4s").
 */
const OUTAGE_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 15_000 };

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
  const { clock, stop } = context;
  const started = clock.now();
  const totals: PassTotals = {
    writesSucceeded: 0,
    writesFailed: 0,
    modulesCreated: 0,
    conflictsReplanned: 0,
  };
  const once = async (fullRead: boolean) => {
    const outcome = await session.step(resources, {
      // The typed profiles' twins (the security agent's) and the device twins (which come with the devices' query)
      // are read whatever the files hold: a prune takes off what removed resources left there.
      slots: [...TYPED_SLOTS, DEVICE_TWIN],
      fullRead,
      dryRun: options.dryRun,
      stop,
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
    for (let retry = 1; ; retry++) {
      try {
        return await once(fullRead);
      } catch (error) {
        const waiting = options.wait && !options.dryRun;
        if (!waiting || needsChangeToRecover(error) || isHubError(error, 'Cancelled') || stop.drain.aborted)
          throw error;
        const left = options.timeoutMs - (clock.now() - started);
        if (left <= 0) {
          if (last) return undefined;
          throw new PassTimedOut(
            `timed out after ${Math.round(options.timeoutMs / 1000)}s: ${(error as Error).message}`,
          );
        }
        const delay = Math.min(backoffWindowMs(OUTAGE_BACKOFF, retry), left);
        context.io.err(
          `${(error as Error).message}; retrying in ${Math.round(delay / 1000)}s (until --timeout)`,
        );
        context.logger.warn('hub step failed while waiting; retrying', { error: (error as Error).message });
        if (!(await pause(clock, delay, stop.drain))) throw error;
      }
    }
  };
  let outcome = (await step(options.fullReadFirst))!;
  if (stop.drain.aborted) return { outcome, ending: 'stopped', totals };
  if (!options.wait || options.dryRun) return { outcome, ending: 'noWait', totals };

  const progress = new ProgressView(context.io);
  for (;;) {
    const reports = awaitedReports(outcome);
    progress.update([...outcome.finalPlan.reports.values()], clock.now() - started);
    if (reports.every((r) => r.ready)) return { outcome, ending: 'ready', totals };
    if (reports.some((r) => r.stuck) && reports.every((r) => r.ready || r.stuck))
      return { outcome, ending: 'stuck', totals };
    if (stop.drain.aborted) return { outcome, ending: 'stopped', totals };
    const left = options.timeoutMs - (clock.now() - started);
    if (left <= 0) return { outcome, ending: 'timeout', totals };
    if (!(await pause(clock, Math.min(outcome.nextStepInMs, left), stop.drain)))
      return { outcome, ending: 'stopped', totals };
    const next = await step(false, outcome);
    if (!next) return { outcome, ending: 'timeout', totals };
    outcome = next;
  }
}
