// `sync`: apply the SecurityModuleConfigs of a set of files to one hub, optionally wait for the agents to
// report them (--wait), optionally keep doing so (--watch).
import type { CommandIo } from '../cli/command-io.js';
import { TwinMemory } from '../engine/twin-memory.js';
import type { HubAccess } from '../hub/hub-client-api.js';
import type { Logger } from '../observability/logger.js';
import type { PlannedResource } from '../planner/types.js';
import { formatProblem } from '../validation/validate-files.js';
import { filesFingerprint } from './file-fingerprint.js';
import { loadSyncResources } from './load-configs.js';
import { sleep } from './sleep.js';
import { type PassResult, runPass } from './sync-pass.js';
import { printPassReport } from './sync-report.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_TIMEOUT = 3;
/** Stopped by SIGINT/SIGTERM before it was done, as shells report 128 + SIGINT. */
export const EXIT_INTERRUPTED = 130;

export interface SyncOptions {
  paths: string[];
  dryRun: boolean;
  prune: boolean;
  wait: boolean;
  watch: boolean;
  timeoutMs: number;
  intervalMs: number;
  output: 'table' | 'json';
  /** Sync even when the files hold no SecurityModuleConfig (with --prune: remove everything it manages). */
  allowEmpty?: boolean;
  pollMs?: number;
  fullReadMs?: number;
}

export interface SyncContext {
  io: CommandIo;
  access: HubAccess;
  logger: Logger;
  signal?: AbortSignal;
  clock?: () => number;
}

/** The resources of the files, or undefined (problems printed) when they cannot be used. */
function load(options: SyncOptions, io: CommandIo): PlannedResource[] | undefined {
  let loaded: ReturnType<typeof loadSyncResources>;
  try {
    loaded = loadSyncResources(options.paths);
  } catch (error) {
    io.err(`sync: ${(error as Error).message}`);
    return undefined;
  }
  for (const problem of loaded.problems)
    (problem.severity === 'error' ? io.err : io.out)(formatProblem(problem));
  if (!loaded.valid) {
    io.err('sync: the resources are invalid; nothing was written');
    return undefined;
  }
  if (loaded.resources.length === 0 && !options.allowEmpty) {
    io.err(
      `sync: no SecurityModuleConfig in ${options.paths.join(', ')}; nothing was written (to sync an empty set on purpose, e.g. --prune to remove everything the operator manages on this hub, add --allow-empty)`,
    );
    return undefined;
  }
  return loaded.resources;
}

/** Exit status of a pass: Ready 0; timeout 3; stopped 130; device failures, stuck resources or refused writes 1. */
function exitCode(result: PassResult, options: SyncOptions): number {
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
      if (options.dryRun) return EXIT_OK;
      const failed = [...result.outcome.finalPlan.reports.values()].some(
        (r) => !r.suspended && r.counts.failedDevices > 0,
      );
      return result.totals.writesFailed > 0 || failed ? EXIT_FAILED : EXIT_OK;
    }
  }
}

export async function runSync(options: SyncOptions, context: SyncContext): Promise<number> {
  const clock = context.clock ?? Date.now;
  const memory = new TwinMemory();
  const passOptions = {
    dryRun: options.dryRun,
    prune: options.prune,
    wait: options.wait,
    timeoutMs: options.timeoutMs,
    pollMs: options.pollMs ?? 2000,
    fullReadMs: options.fullReadMs ?? 30_000,
  };
  const reportOptions = {
    dryRun: options.dryRun,
    output: options.output,
    jsonLines: options.watch,
    timeoutMs: options.timeoutMs,
  };
  let resources = load(options, context.io);
  if (!resources) return EXIT_FAILED;
  const passContext = {
    io: context.io,
    access: context.access,
    logger: context.logger,
    signal: context.signal,
    clock,
  };
  if (!options.watch) {
    const result = await runPass(resources, passOptions, passContext, memory);
    printPassReport(result, context.access.hubName, reportOptions, context.io, new Date(clock()));
    return exitCode(result, options);
  }

  // --watch: resync every interval and whenever the files change, until stopped.
  let fingerprint = filesFingerprint(options.paths);
  const changed = () => filesFingerprint(options.paths) !== fingerprint;
  while (!context.signal?.aborted) {
    try {
      const result = await runPass(resources, passOptions, { ...passContext, interrupted: changed }, memory);
      printPassReport(result, context.access.hubName, reportOptions, context.io, new Date(clock()));
    } catch (error) {
      if (context.signal?.aborted) break;
      context.logger.error('sync pass failed; retrying at the next interval', {
        error: (error as Error).message,
      });
    }
    const deadline = clock() + options.intervalMs;
    while (!context.signal?.aborted && clock() < deadline && !changed()) {
      await sleep(Math.min(1000, deadline - clock()), context.signal);
    }
    if (changed()) {
      fingerprint = filesFingerprint(options.paths);
      const reloaded = load(options, context.io);
      if (reloaded) {
        resources = reloaded;
        context.logger.info('resource files changed; syncing', { resources: resources.length });
      } else {
        context.logger.warn('resource files changed but cannot be used; keeping the last valid set');
      }
    }
  }
  return EXIT_OK;
}
