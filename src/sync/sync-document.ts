// The JSON document `sync --output json` prints per pass: a versioned shape pipelines can rely on (docs/command-line.md,
// "The JSON document"). Fields are only ever added under one apiVersion; a change of meaning is a new version.
import type { PlanDiff } from '../planner/plan-diff.js';
import type { ResourceReport } from '../planner/resource-report.js';
import type { SyncTarget } from './hub-selection.js';
import { otherHubLookup } from './plan-text.js';
import type { PassResult } from './sync-pass.js';
import type { ConfigStatus } from './sync-report.js';

export const SYNC_REPORT_API_VERSION = 'sync.iotsecurity.io/v1';
export const SYNC_REPORT_KIND = 'SyncReport';

/** The plan, each owner out of its scope with the hub the files give it (null: none of theirs). */
function withOtherHubs(plan: PlanDiff, subject: SyncTarget): PlanDiff {
  const hubOf = otherHubLookup(subject.leftOut);
  return {
    ...plan,
    outOfScopeOwners: plan.outOfScopeOwners.map((o) => ({ ...o, iotHub: hubOf(o.owner) ?? null })),
  };
}

export function syncReportDocument(
  result: PassResult,
  subject: SyncTarget,
  dryRun: boolean,
  statusOf: (report: ResourceReport) => ConfigStatus,
  plan: PlanDiff | undefined,
): Record<string, unknown> {
  const { outcome, totals } = result;
  const reports = [...outcome.finalPlan.reports.values()];
  return {
    apiVersion: SYNC_REPORT_API_VERSION,
    kind: SYNC_REPORT_KIND,
    hub: subject.hubName,
    iotHub: subject.iotHub ?? null,
    dryRun,
    // A dry run's `ready` and statuses are the plan's: as they would read once its writes are made.
    statusForecast: dryRun,
    ready: reports.filter((r) => !r.suspended).every((r) => r.ready),
    ending: result.ending,
    writes: {
      succeeded: totals.writesSucceeded,
      failed: totals.writesFailed,
      replannedAfterConflict: totals.conflictsReplanned,
      planned: outcome.initialPlan.writes.length,
    },
    modulesCreated: totals.modulesCreated,
    foreignOwners: (dryRun ? outcome.initialPlan : outcome.finalPlan).foreignOwners,
    leftOut: subject.leftOut,
    resources: reports.map((r) => ({ resource: r.resourceKey, status: statusOf(r) })),
    ...(plan ? { plan: withOtherHubs(plan, subject) } : {}),
  };
}

/** A dry run that could not plan (the hub refused the credentials or could not be read): why, and nothing else. */
export function syncErrorDocument(subject: SyncTarget, message: string): Record<string, unknown> {
  return {
    apiVersion: SYNC_REPORT_API_VERSION,
    kind: SYNC_REPORT_KIND,
    hub: subject.hubName,
    iotHub: subject.iotHub ?? null,
    dryRun: true,
    leftOut: subject.leftOut,
    error: message,
  };
}
