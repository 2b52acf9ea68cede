// The end-of-run table of `sync`, and the details under it.
import type { PlannedCondition, ResourceReport } from '../planner/resource-report.js';

export const STATUS_COLUMNS = [
  'RESOURCE',
  'TARGETED',
  'APPLIED',
  'CONVERGED',
  'PENDING',
  'OFFLINE',
  'STALLED',
  'FAILED',
  'CONFLICTS',
  'READY',
];

/** What a dry run's status table shows: the plan's statuses, as they would read once its writes are made. */
export const FORECAST_TITLE = 'Status after the planned writes (a forecast: nothing was written)';

function ready(report: ResourceReport): PlannedCondition | undefined {
  return report.conditions.find((c) => c.type === 'Ready');
}

/** REJECTED shows only when a device rejected values (TwinConfig): the agents never say so. */
export function statusColumns(reports: readonly ResourceReport[]): string[] {
  const rejected = reports.some((r) => r.counts.rejectedDevices > 0);
  return rejected ? [...STATUS_COLUMNS.slice(0, 8), 'REJECTED', ...STATUS_COLUMNS.slice(8)] : STATUS_COLUMNS;
}

/** One row of cells per resource, in the order of statusColumns. */
export function statusRows(reports: readonly ResourceReport[]): string[][] {
  const rejected = statusColumns(reports).includes('REJECTED');
  return reports.map((r) => {
    const c = r.counts;
    const condition = ready(r);
    return [
      r.resourceKey,
      c.targetedDevices,
      c.appliedDevices,
      c.convergedDevices,
      c.pendingDevices,
      c.offlineDevices,
      c.stalledDevices,
      c.failedDevices,
      ...(rejected ? [c.rejectedDevices] : []),
      c.conflictingDevices,
      condition ? `${condition.status} (${condition.reason})` : 'Unknown',
    ].map(String);
  });
}

/** The table, or no line at all when there is no resource (a header alone says nothing). */
export function renderStatusTable(reports: Iterable<ResourceReport>): string[] {
  const list = [...reports];
  const rows = statusRows(list);
  if (rows.length === 0) return [];
  const columns = statusColumns(list);
  const widths = columns.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map(line)];
}

/** Details worth a line each under the table: why a resource is not ready, and its first failures. */
export function renderStatusDetails(reports: Iterable<ResourceReport>, maxFailures = 3): string[] {
  const lines: string[] = [];
  for (const report of reports) {
    const condition = ready(report);
    if (condition && condition.status !== 'True') lines.push(`${report.resourceKey}: ${condition.message}`);
    for (const failure of report.failures.slice(0, maxFailures))
      lines.push(`  ${failure.deviceId}: ${failure.reason}: ${failure.message}`);
    if (report.failures.length > maxFailures)
      lines.push(`  ... ${report.failures.length - maxFailures} more in --output json`);
  }
  return lines;
}
