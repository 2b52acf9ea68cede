// `sync`: apply the SecurityModuleConfigs and TwinConfigs of a set of files to one hub, optionally wait for the
// devices to report them (--wait), optionally keep doing so (--watch). A command-line loop over the engine's hub
// session.

import { HubSession } from '../engine/hub-session.js';
import type { HubAccess } from '../hub/hub-client-api.js';
import type { CommandIo } from '../observability/command-output.js';
import type { Logger } from '../observability/logger.js';
import { planDiff } from '../planner/plan-diff.js';
import { type Clock, pause, systemClock } from '../runtime/clock.js';
import { drainAlso, NO_STOP, type Stop } from '../runtime/stop.js';
import { formatProblem } from '../validation/validate-files.js';
import {
  EXIT_OK,
  EXIT_PLAN_FAILED,
  EXIT_TIMEOUT,
  EXIT_USAGE,
  invalidInputStatus,
  passExitStatus,
} from './exit-status.js';
import { filesFingerprint } from './file-fingerprint.js';
import { type HubSelection, HubSelectionError, selectHub } from './hub-selection.js';
import { loadSyncResources } from './load-configs.js';
import { type PassResult, PassTimedOut, runPass } from './sync-pass.js';
import { type ConfigStatus, printPassReport, printPlanFailure, type SyncOutput } from './sync-report.js';

/** How often --watch looks at the files. */
const WATCH_POLL_MS = 250;

export interface SyncOptions {
  paths: string[];
  dryRun: boolean;
  prune: boolean;
  wait: boolean;
  watch: boolean;
  timeoutMs: number;
  intervalMs: number;
  /** markdown: a dry run's plan as a pull request comment. */
  output: SyncOutput;
  /** Sync even when the files hold no SecurityModuleConfig or TwinConfig (with --prune: remove everything it manages). */
  allowEmpty?: boolean;
  pollMs?: number;
  fullReadMs?: number;
  /** The manager id recorded in the twins' ownership record (`sync` by default). */
  manager?: string;
  /**
   * The hub whose resources this run applies (`NAME` or `NAMESPACE/NAME`, as the resources' hubRef names it);
   * without it the files must name one hub.
   */
  hub?: string;
}

export interface SyncContext {
  io: CommandIo;
  /**
   * The hub's client, or how to make it once the files say which hub this run writes (its IoTHub document, when
   * the files hold one, sizes the client's rate limits).
   */
  access: HubAccess | ((selection: HubSelection) => HubAccess);
  logger: Logger;
  /**
   * SIGINT/SIGTERM. `drain`: no new write starts; the pass ends, prints what it has, and sync exits 130. `abort`:
   * hub calls in flight are abandoned as well (the drain took too long, or the signal came twice).
   */
  stop?: Stop;
  clock?: Clock;
}

/**
 * The resources of the files for the hub this run writes, or the exit status (problems printed) when they cannot
 * be used. `hub` is --hub, or under --watch the hub the first load chose: a run never changes hubs.
 */
function load(options: SyncOptions, io: CommandIo, hub: string | undefined): HubSelection | number {
  let loaded: ReturnType<typeof loadSyncResources>;
  try {
    loaded = loadSyncResources(options.paths);
  } catch (error) {
    io.err(`sync: ${(error as Error).message}`);
    return invalidInputStatus(options.dryRun);
  }
  for (const problem of loaded.problems)
    (problem.severity === 'error' ? io.err : io.out)(formatProblem(problem));
  if (!loaded.valid) {
    io.err('sync: the resources are invalid; nothing was written');
    return invalidInputStatus(options.dryRun);
  }
  let selection: HubSelection;
  try {
    selection = selectHub(loaded.configs, loaded.hubs, hub);
  } catch (error) {
    if (!(error instanceof HubSelectionError)) throw error;
    io.err(`sync: ${error.message}; nothing was written`);
    return EXIT_USAGE;
  }
  if (selection.resources.length === 0 && !options.allowEmpty) {
    const where = selection.iotHub ? ` for hub ${selection.iotHub}` : '';
    io.err(
      `sync: no SecurityModuleConfig or TwinConfig${where} in ${options.paths.join(', ')}; nothing was written (to sync an empty set on purpose, e.g. --prune to remove everything the operator manages on this hub, add --allow-empty)`,
    );
    return invalidInputStatus(options.dryRun);
  }
  return selection;
}

/** `changed` fires when the files' fingerprint changes from `fingerprint` (polled on `clock`). */
function watchFiles(
  paths: readonly string[],
  fingerprint: string,
  clock: Clock,
): { changed: AbortSignal; close(): void } {
  const controller = new AbortController();
  let timer = clock.setTimer(WATCH_POLL_MS, poll);
  function poll() {
    if (filesFingerprint(paths) !== fingerprint) controller.abort(new Error('the resource files changed'));
    else timer = clock.setTimer(WATCH_POLL_MS, poll);
  }
  return { changed: controller.signal, close: () => timer.cancel() };
}

export async function runSync(options: SyncOptions, context: SyncContext): Promise<number> {
  const clock = context.clock ?? systemClock;
  const stop = context.stop ?? NO_STOP;
  const loaded = load(options, context.io, options.hub);
  if (typeof loaded === 'number') return loaded;
  let selection = loaded;
  let otherHubs = new Set(selection.leftOut.map((other) => other.resource));
  const access = typeof context.access === 'function' ? context.access(selection) : context.access;
  // What the files give another hub is that hub's: never pruned here (two IoTHubs may name one hub).
  const scope = (resource: string) => !otherHubs.has(resource);
  const session = new HubSession(access, {
    unknownOwners: options.prune ? 'remove' : 'keep',
    manager: options.manager,
    scope,
    clock,
    logger: context.logger,
    pollMs: options.pollMs,
    fullReadWhileWaitingMs: options.fullReadMs,
    resyncMs: options.watch ? options.intervalMs : undefined,
  });
  const passOptions = {
    dryRun: options.dryRun,
    wait: options.wait,
    timeoutMs: options.timeoutMs,
    fullReadFirst: true,
  };
  const reportOptions = {
    dryRun: options.dryRun,
    output: options.output,
    jsonLines: options.watch,
    timeoutMs: options.timeoutMs,
  };
  // Statuses printed last, per resource: conditions keep their transition times across --watch passes.
  const previous = new Map<string, ConfigStatus>();
  const target = () => ({ hubName: access.hubName, iotHub: selection.iotHub, leftOut: selection.leftOut });
  const report = (result: PassResult) =>
    printPassReport(
      result,
      target(),
      reportOptions,
      context.io,
      new Date(clock.now()),
      previous,
      options.dryRun
        ? planDiff({
            plan: result.outcome.initialPlan,
            snapshot: result.outcome.snapshot,
            resources: selection.resources,
            manager: options.manager,
            scope,
          })
        : undefined,
    );
  const passContext = { io: context.io, logger: context.logger, clock };
  if (!options.watch) {
    let result: PassResult;
    try {
      result = await runPass(session, selection.resources, passOptions, { ...passContext, stop });
    } catch (error) {
      if (error instanceof PassTimedOut) {
        context.io.err(`sync: ${error.message}`);
        return EXIT_TIMEOUT;
      }
      // A dry run that could not read the hub must not exit 1, which says "changes".
      if (!options.dryRun) throw error;
      printPlanFailure(target(), reportOptions, context.io, (error as Error).message ?? String(error));
      return EXIT_PLAN_FAILED;
    }
    report(result);
    return passExitStatus(result, options.dryRun);
  }

  // --watch: resync every interval and whenever the files change, until stopped.
  const hub = selection.iotHub ?? options.hub;
  let fingerprint = filesFingerprint(options.paths);
  while (!stop.drain.aborted) {
    const files = watchFiles(options.paths, fingerprint, clock);
    const passStop = drainAlso(stop, files.changed);
    try {
      const result = await runPass(session, selection.resources, passOptions, {
        ...passContext,
        stop: passStop,
      });
      // After the first pass the session's schedule decides: an edit is planned on what it knows at once.
      passOptions.fullReadFirst = false;
      report(result);
      await pause(clock, Math.max(result.outcome.nextStepInMs, 0), passStop.drain);
    } catch (error) {
      if (stop.drain.aborted) break;
      context.logger.error('sync pass failed; retrying at the next interval', {
        error: (error as Error).message,
      });
      await pause(clock, options.intervalMs, passStop.drain);
    } finally {
      files.close();
    }
    const now = filesFingerprint(options.paths);
    if (now !== fingerprint) {
      fingerprint = now;
      const reloaded = load(options, context.io, hub);
      if (typeof reloaded !== 'number') {
        selection = reloaded;
        otherHubs = new Set(selection.leftOut.map((other) => other.resource));
        context.logger.info('resource files changed; syncing', { resources: selection.resources.length });
      } else {
        context.logger.warn('resource files changed but cannot be used; keeping the last valid set');
      }
    }
  }
  return EXIT_OK;
}
