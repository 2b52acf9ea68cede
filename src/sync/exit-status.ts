// What `sync` tells a pipeline by its exit status. A run that writes says whether it got there; a dry run says, as
// `kubectl diff` does, whether the hub differs from the files: 0 no, 1 yes, above 1 it could not tell.
import { hasChanges } from '../planner/plan-diff.js';
import type { PassResult } from './sync-pass.js';

export const EXIT_OK = 0;
/** Invalid input, failed devices or writes, a resource stuck short of Ready (a run that writes). */
export const EXIT_FAILED = 1;
/** A dry run found changes to make. */
export const EXIT_CHANGES = 1;
/** How the command was called: also files that do not say which one hub to write, or a --hub none names. */
export const EXIT_USAGE = 2;
export const EXIT_TIMEOUT = 3;
/** A dry run could not plan: invalid input, or a hub that could not be read. */
export const EXIT_PLAN_FAILED = 4;
/** Stopped by SIGINT/SIGTERM before it was done, as shells report 128 + SIGINT. */
export const EXIT_INTERRUPTED = 130;

/** Files that cannot be used: 1 for a run that writes, 4 for a dry run (1 would read as "changes"). */
export function invalidInputStatus(dryRun: boolean): number {
  return dryRun ? EXIT_PLAN_FAILED : EXIT_FAILED;
}

/**
 * The status of a pass. Writing: Ready 0, timeout 3, stopped 130, failed devices, stuck resources or refused
 * writes 1. Dry run: changes 1, none 0 (devices a sync would fail on are in the plan, not in the status).
 */
export function passExitStatus(result: PassResult, dryRun: boolean): number {
  switch (result.ending) {
    case 'ready':
      return EXIT_OK;
    case 'timeout':
      return EXIT_TIMEOUT;
    case 'stopped':
      return EXIT_INTERRUPTED;
    case 'stuck':
      return EXIT_FAILED;
    case 'noWait': {
      if (dryRun) return hasChanges(result.outcome.initialPlan) ? EXIT_CHANGES : EXIT_OK;
      const failed = [...result.outcome.finalPlan.reports.values()].some(
        (r) => !r.suspended && r.counts.failedDevices > 0,
      );
      return result.totals.writesFailed > 0 || failed ? EXIT_FAILED : EXIT_OK;
    }
  }
}
