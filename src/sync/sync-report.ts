// What `sync` prints at the end of a pass: the plan (--dry-run), the table and details, JSON, or (a dry run) a
// pull request comment. A twin may hold anything, a key or a control character included: every value is redacted
// before it is rendered (a pattern run over rendered text could eat the quote or backtick around a value), and
// no control character reaches a line (a newline in a value could forge a CI log's workflow command).
import type { SecurityModuleConfigStatus, TwinConfigStatus } from '../api/generated/types.js';
import type { CommandIo } from '../observability/command-output.js';
import { redactValue } from '../observability/redact.js';
import { securityModuleConfigStatus, twinConfigStatus } from '../planner/kubernetes-status.js';
import type { PlanDiff } from '../planner/plan-diff.js';
import { describeResourceKey } from '../planner/resource-input.js';
import type { ResourceReport } from '../planner/resource-report.js';
import { printable, printableJson } from '../validation/printable-text.js';
import type { LeftOutResource, SyncTarget } from './hub-selection.js';
import { renderPlanMarkdown } from './plan-markdown.js';
import { foreignLine, otherHubLookup, renderPlanText } from './plan-text.js';
import { FORECAST_TITLE, renderStatusDetails, renderStatusTable } from './status-table.js';
import { syncErrorDocument, syncReportDocument } from './sync-document.js';
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

/** A JSON document on standard output, values redacted and controls escaped. */
function printDocument(document: Record<string, unknown>, oneLine: boolean, io: CommandIo): void {
  const redacted = redactValue(document);
  // JSON.stringify escapes C0 controls; printableJson the others, as the same JSON value.
  io.out(printableJson(oneLine ? JSON.stringify(redacted) : JSON.stringify(redacted, null, 2)));
}

/**
 * A dry run that could not plan: the reason on standard error, and with --output json a SyncReport holding it
 * (`error`), so that a pipeline reading standard output reads why.
 */
export function printPlanFailure(
  subject: SyncTarget,
  options: ReportOptions,
  io: CommandIo,
  message: string,
) {
  const reason = redactValue(message);
  io.err(`sync: ${printable(reason)}`);
  if (options.output === 'json') printDocument(syncErrorDocument(subject, reason), options.jsonLines, io);
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
  const out = (line: string) => io.out(printable(line));
  const { outcome, totals } = result;
  if (options.output === 'json') {
    const statusOf = (r: ResourceReport) => {
      const context = { previous: previous.get(r.resourceKey), now };
      const status =
        describeResourceKey(r.resourceKey).kind === 'TwinConfig'
          ? twinConfigStatus(r, context)
          : securityModuleConfigStatus(r, context);
      previous.set(r.resourceKey, status);
      return status;
    };
    printDocument(syncReportDocument(result, subject, options.dryRun, statusOf, plan), options.jsonLines, io);
    return;
  }
  const reports = redactValue([...outcome.finalPlan.reports.values()]);
  const foreign = redactValue((options.dryRun ? outcome.initialPlan : outcome.finalPlan).foreignOwners);
  const diff = plan && redactValue(plan);
  const target = redactValue(subject);
  if (options.output === 'markdown' && diff) {
    io.out(renderPlanMarkdown(diff, target, foreign, reports));
    return;
  }
  const shownForeign = foreign.filter((f) => f.fate === 'kept');
  if (diff) {
    const hub = target.iotHub ? `${target.iotHub} on ${target.hubName}` : target.hubName;
    const heading = `Plan for ${hub} (dry run, nothing written)`;
    for (const line of renderPlanText(diff, heading, foreign, otherHubLookup(target.leftOut))) out(line);
  } else {
    out(
      `${target.hubName}: ${totals.writesSucceeded} twins written (${totals.conflictsReplanned} re-planned after a concurrent change), ${totals.writesFailed} failed, ${totals.modulesCreated} modules created`,
    );
    for (const owner of shownForeign) out(`  ${foreignLine(owner, false)}`);
  }
  const others = leftOutLines(target.leftOut);
  for (const line of others) out(`  ${line}`);
  if (reports.length) {
    if (diff || shownForeign.length || others.length) out('');
    // A dry run's statuses are the plan's: as they would read once its writes are made, not the hub's now.
    if (diff) out(`${FORECAST_TITLE}:`);
    for (const line of renderStatusTable(reports)) out(line);
    const details = renderStatusDetails(reports);
    if (details.length) for (const line of ['', ...details]) out(line);
  }
  if (result.ending === 'timeout')
    io.err(
      `timed out after ${(options.timeoutMs / 1000).toFixed(options.timeoutMs % 1000 ? 1 : 0)}s before every resource was Ready`,
    );
  if (result.ending === 'stuck')
    io.err('stopped waiting: a resource cannot become Ready without a change (see the details above)');
}
