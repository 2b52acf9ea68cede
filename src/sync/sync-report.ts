// What `sync` prints at the end of a pass: the plan (--dry-run), the table and details, JSON, or (a dry run) a
// pull request comment. Every line goes through redaction: a twin may hold anything, a key included.
import type { SecurityModuleConfigStatus, TwinConfigStatus } from '../api/generated/types.js';
import type { CommandIo } from '../observability/command-output.js';
import { redactSecrets } from '../observability/redact.js';
import { securityModuleConfigStatus, twinConfigStatus } from '../planner/kubernetes-status.js';
import type { PlanDiff } from '../planner/plan-diff.js';
import { describeResourceKey } from '../planner/resource-input.js';
import type { LeftOutResource, SyncTarget } from './hub-selection.js';
import { renderPlanMarkdown } from './plan-markdown.js';
import { foreignLine, renderPlanText } from './plan-text.js';
import { renderStatusDetails, renderStatusTable } from './status-table.js';
import { syncReportDocument } from './sync-document.js';
import type { PassResult } from './sync-pass.js';

export type SyncOutput = 'table' | 'json' | 'markdown';

/** The status a resource carries, as the controller writes it for its kind. */
export type ConfigStatus = SecurityModuleConfigStatus | TwinConfigStatus;

export interface ReportOptions {
  dryRun: boolean;
  output: SyncOutput;
  /** One compact JSON document per line (--watch), instead of one indented document. */
  jsonLines: boolean;
  timeoutMs: number;
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
  subject: SyncTarget,
  options: ReportOptions,
  io: CommandIo,
  now: Date,
  /** The statuses printed last, by resource: updated; conditions keep their transition times. */
  previous: Map<string, ConfigStatus> = new Map(),
  /** What the plan changes, per resource and setting (dry runs). */
  plan?: PlanDiff,
): void {
  const out = (text: string) => io.out(redactSecrets(text));
  const { outcome, totals } = result;
  const reports = [...outcome.finalPlan.reports.values()];
  const foreign = (options.dryRun ? outcome.initialPlan : outcome.finalPlan).foreignOwners;
  if (options.output === 'json') {
    const statusOf = (r: (typeof reports)[number]) => {
      const context = { previous: previous.get(r.resourceKey), now };
      const status =
        describeResourceKey(r.resourceKey).kind === 'TwinConfig'
          ? twinConfigStatus(r, context)
          : securityModuleConfigStatus(r, context);
      previous.set(r.resourceKey, status);
      return status;
    };
    const document = syncReportDocument(result, subject, options.dryRun, statusOf, plan);
    out(options.jsonLines ? JSON.stringify(document) : JSON.stringify(document, null, 2));
    return;
  }
  if (options.output === 'markdown' && plan) {
    out(renderPlanMarkdown(plan, subject, foreign));
    return;
  }
  const shownForeign = foreign.filter((f) => f.fate === 'kept');
  if (plan) {
    const hub = subject.iotHub ? `${subject.iotHub} on ${subject.hubName}` : subject.hubName;
    for (const line of renderPlanText(plan, `Plan for ${hub} (dry run, nothing written)`, foreign)) out(line);
  } else {
    out(
      `${subject.hubName}: ${totals.writesSucceeded} twins written (${totals.conflictsReplanned} re-planned after a concurrent change), ${totals.writesFailed} failed, ${totals.modulesCreated} modules created`,
    );
    for (const owner of shownForeign) out(`  ${foreignLine(owner, false)}`);
  }
  const others = leftOutLines(subject.leftOut);
  for (const line of others) out(`  ${line}`);
  if (plan || shownForeign.length || others.length) out('');
  for (const line of renderStatusTable(reports)) out(line);
  const details = renderStatusDetails(reports);
  if (details.length) out(['', ...details].join('\n'));
  if (result.ending === 'timeout')
    io.err(
      `timed out after ${(options.timeoutMs / 1000).toFixed(options.timeoutMs % 1000 ? 1 : 0)}s before every resource was Ready`,
    );
  if (result.ending === 'stuck')
    io.err('stopped waiting: a resource cannot become Ready without a change (see the details above)');
}
