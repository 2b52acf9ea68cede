// What `sync` prints at the end of a pass: the plan (--dry-run), the table and details, or JSON.
import type { SecurityModuleConfigStatus } from '../api/generated/types.js';
import type { CommandIo } from '../observability/command-output.js';
import { securityModuleConfigStatus } from '../planner/kubernetes-status.js';
import type { ForeignOwner } from '../planner/plan-hub-reconcile.js';
import type { LeftOutResource } from './hub-selection.js';
import { renderPlanLine, renderStatusDetails, renderStatusTable } from './status-table.js';
import type { PassResult } from './sync-pass.js';

/** Which hub a report is about. */
export interface ReportSubject {
  /** The host the connection string names. */
  hubName: string;
  /** `namespace/name` of the IoTHub whose resources the run applies, when the files name one. */
  iotHub?: string;
  /** Resources of the files for other hubs, left out of the run. */
  leftOut: readonly LeftOutResource[];
}

export interface ReportOptions {
  dryRun: boolean;
  output: 'table' | 'json';
  /** One compact JSON document per line (--watch), instead of one indented document. */
  jsonLines: boolean;
  timeoutMs: number;
}

function foreignLine(owner: ForeignOwner, dryRun: boolean): string {
  const settings = owner.settings.join(', ');
  const devices = `${owner.devices} device${owner.devices === 1 ? '' : 's'}`;
  switch (owner.fate) {
    case 'removed':
      return `${owner.owner} (not in the files): ${settings} ${dryRun ? 'would be' : 'were'} removed from ${devices}`;
    case 'released':
      return `${owner.owner} (deleted, deletionPolicy Retain): ${settings} left on ${devices}, no longer owned`;
    case 'kept':
      return `${owner.owner} (not in the files): ${settings} kept on ${devices}; --prune removes them`;
  }
}

/** One line per other hub: the resources of the files that are its. */
function leftOutLines(leftOut: readonly LeftOutResource[]): string[] {
  const byHub = new Map<string, string[]>();
  for (const { resource, iotHub } of leftOut) byHub.set(iotHub, [...(byHub.get(iotHub) ?? []), resource]);
  return [...byHub].map(
    ([iotHub, resources]) =>
      `${resources.join(', ')}: for hub ${iotHub}, left out (${resources.length === 1 ? 'it belongs' : 'they belong'} to another hub)`,
  );
}

export function printPassReport(
  result: PassResult,
  subject: ReportSubject,
  options: ReportOptions,
  io: CommandIo,
  now: Date,
  /** The statuses printed last, by resource: updated; conditions keep their transition times. */
  previous: Map<string, SecurityModuleConfigStatus> = new Map(),
): void {
  const { outcome, totals } = result;
  const reports = [...outcome.finalPlan.reports.values()];
  const foreign = (options.dryRun ? outcome.initialPlan : outcome.finalPlan).foreignOwners;
  const shownForeign = options.dryRun ? foreign : foreign.filter((f) => f.fate === 'kept');
  if (options.output === 'json') {
    const document = {
      hub: subject.hubName,
      iotHub: subject.iotHub ?? null,
      dryRun: options.dryRun,
      ready: reports.filter((r) => !r.suspended).every((r) => r.ready),
      ending: result.ending,
      writes: {
        succeeded: totals.writesSucceeded,
        failed: totals.writesFailed,
        replannedAfterConflict: totals.conflictsReplanned,
        planned: outcome.initialPlan.writes.length,
      },
      modulesCreated: totals.modulesCreated,
      foreignOwners: foreign,
      leftOut: subject.leftOut,
      resources: reports.map((r) => {
        const status = securityModuleConfigStatus(r, { previous: previous.get(r.resourceKey), now });
        previous.set(r.resourceKey, status);
        return { resource: r.resourceKey, status };
      }),
    };
    io.out(options.jsonLines ? JSON.stringify(document) : JSON.stringify(document, null, 2));
    return;
  }
  if (options.dryRun) {
    io.out(`Plan for ${subject.hubName} (dry run, nothing written):`);
    for (const r of outcome.initialPlan.reports.values()) io.out(`  ${renderPlanLine(r)}`);
    if (outcome.initialPlan.moduleCreations.length)
      io.out(`  ${outcome.initialPlan.moduleCreations.length} security modules to create`);
  } else {
    io.out(
      `${subject.hubName}: ${totals.writesSucceeded} twins written (${totals.conflictsReplanned} re-planned after a concurrent change), ${totals.writesFailed} failed, ${totals.modulesCreated} modules created`,
    );
  }
  for (const owner of shownForeign) io.out(`  ${foreignLine(owner, options.dryRun)}`);
  const others = leftOutLines(subject.leftOut);
  for (const line of others) io.out(`  ${line}`);
  if (options.dryRun || shownForeign.length || others.length) io.out('');
  for (const line of renderStatusTable(reports)) io.out(line);
  const details = renderStatusDetails(reports);
  if (details.length) io.out(['', ...details].join('\n'));
  if (result.ending === 'timeout')
    io.err(
      `timed out after ${(options.timeoutMs / 1000).toFixed(options.timeoutMs % 1000 ? 1 : 0)}s before every resource was Ready`,
    );
  if (result.ending === 'stuck')
    io.err('stopped waiting: a resource cannot become Ready without a change (see the details above)');
}
