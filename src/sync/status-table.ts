// The end-of-run table of `sync`, and the details under it.
import type { PlannedCondition, ResourceReport } from '../planner/resource-report.js';

const COLUMNS = [
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

function ready(report: ResourceReport): PlannedCondition | undefined {
  return report.conditions.find((c) => c.type === 'Ready');
}

/** REJECTED shows only when a device rejected values (TwinConfig): the agents never say so. */
export function renderStatusTable(reports: Iterable<ResourceReport>): string[] {
  const list = [...reports];
  const rejected = list.some((r) => r.counts.rejectedDevices > 0);
  const columns = rejected ? [...COLUMNS.slice(0, 8), 'REJECTED', ...COLUMNS.slice(8)] : COLUMNS;
  const rows = list.map((r) => {
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
