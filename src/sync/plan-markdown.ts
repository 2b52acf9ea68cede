// `sync --dry-run --output markdown`: the plan as a comment a pull request can show. A heading, a summary line, a
// table per resource that changes; long lists fold into <details>. Values are quoted as code and escaped: what a
// twin holds is data, never markup.

import type { PlanDiff, ResourceChange } from '../planner/plan-diff.js';
import type { ForeignOwner } from '../planner/plan-hub-reconcile.js';
import { describeResourceKey } from '../planner/resource-input.js';
import type { ResourceReport } from '../planner/resource-report.js';
import type { DeviceFailure } from '../planner/types.js';
import { printable } from '../validation/printable-text.js';
import type { SyncTarget } from './hub-selection.js';
import {
  foreignLine,
  moduleCreationsText,
  ONE_HUB_PER_RUN,
  otherHubLookup,
  ownerNote,
  planSummary,
  plural,
  settingValueText,
} from './plan-text.js';
import { FORECAST_TITLE, statusColumns, statusRows } from './status-table.js';

/** Tables longer than this fold into <details>. */
const FOLD_ROWS = 10;

/** Inline code on one line (control characters written as escapes), a backtick inside fenced by two. */
function code(text: string): string {
  const line = printable(text);
  return line.includes('`') ? `\`\` ${line} \`\`` : `\`${line}\``;
}

/** A table cell: GFM ends a cell at any `|` not escaped, even inside code. */
function cell(markdown: string): string {
  return markdown.replace(/\|/g, '\\|');
}

/** Plain text that renders as written: no markup, no HTML. */
function prose(text: string): string {
  return printable(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]#~|])/g, '\\$1');
}

function folded(summary: string, body: string[]): string[] {
  return ['<details>', `<summary>${prose(summary)}</summary>`, '', ...body, '', '</details>', ''];
}

function settingTable(change: ResourceChange): string[] {
  const rows = ['| Setting | Devices | Current | New |', '| --- | ---: | --- | --- |'];
  for (const setting of change.settings) {
    for (const transition of setting.transitions) {
      const note = ownerNote(transition);
      rows.push(
        `| ${code(setting.field)} | ${transition.devices.toLocaleString('en-US')} | ${cell(code(settingValueText(transition.from, 'from', setting.setting)))} | ${cell(code(settingValueText(transition.to, 'to', setting.setting)))}${note ? ` (${prose(note)})` : ''} |`,
      );
    }
    const more = setting.moreTransitions;
    if (more)
      rows.push(
        `| ${code(setting.field)} | ${more.devices.toLocaleString('en-US')} | ${prose(plural(more.transitions, 'other value'))} | |`,
      );
  }
  if (change.ownershipOnlyDevices)
    rows.push(`| ownership record only | ${change.ownershipOnlyDevices.toLocaleString('en-US')} | | |`);
  const rowCount = rows.length - 2;
  return rowCount > FOLD_ROWS ? folded(plural(rowCount, 'row'), rows) : [...rows, ''];
}

function sampleList(change: ResourceChange): string[] {
  const items = [`- written: ${change.sampleDeviceIds.map(code).join(', ')}`];
  for (const setting of change.settings)
    for (const t of setting.transitions)
      items.push(
        `- ${code(setting.field)} ${code(settingValueText(t.from, 'from', setting.setting))} -> ${code(settingValueText(t.to, 'to', setting.setting))}: ${t.sampleDeviceIds.map(code).join(', ')}`,
      );
  return folded('Sample devices', items);
}

function failureLines(change: ResourceChange): string[] {
  if (!change.failedDevices && !change.conflictingDevices) return [];
  const counts = [
    change.failedDevices ? `${plural(change.failedDevices, 'device')} failed` : '',
    change.conflictingDevices ? `${plural(change.conflictingDevices, 'device')} in conflict` : '',
  ].filter(Boolean);
  const first = (f: DeviceFailure) => `- ${code(f.deviceId)} ${prose(`${f.reason}: ${f.message}`)}`;
  return [
    `> **${prose(counts.join(', '))}**`,
    '',
    ...folded('First failures', change.firstFailures.map(first)),
  ];
}

/** An owner gone from the files: its name as code, then what the plan does with its settings. */
function goneOwnerTitle(change: ResourceChange, foreign: ForeignOwner | undefined): string {
  const line = foreign ? foreignLine(foreign, true) : `${change.resource} (not in the files)`;
  // foreignLine starts with the owner's name.
  return `${code(change.resource)}${prose(line.slice(change.resource.length))}`;
}

/** Settings of resources out of the run's scope on this hub: not folded, they are worth a look. */
function outOfScopeSection(diff: PlanDiff, subject: SyncTarget): string[] {
  if (diff.outOfScopeOwners.length === 0) return [];
  const hubOf = otherHubLookup(subject.leftOut);
  const items = diff.outOfScopeOwners.map((o) => {
    const iotHub = hubOf(o.owner);
    const whose = iotHub
      ? `a resource of hub ${code(iotHub)} in the files`
      : prose("out of this run's scope");
    return `- ${code(o.owner)} (${whose}): ${prose(`${plural(o.settings.length, 'setting')} on ${plural(o.devices, 'device')}, left alone`)} (${o.settings.map(code).join(', ')}); ${prose('to remove them run')} ${code('sync -f <files without it> --prune')}${prose(`, see ${ONE_HUB_PER_RUN}`)}`;
  });
  return [`**${prose('Settings of resources of other hubs on this hub, left alone')}**`, '', ...items, ''];
}

/** The plan's statuses, folded: the same table as the text's, titled as the forecast it is. */
function statusSection(reports: readonly ResourceReport[]): string[] {
  if (reports.length === 0) return [];
  const header = statusColumns(reports).map((c) => c.charAt(0) + c.slice(1).toLowerCase());
  const rows = [
    `| ${header.join(' | ')} |`,
    `| --- | ${header
      .slice(1, -1)
      .map(() => '---:')
      .join(' | ')} | --- |`,
    ...statusRows(reports).map(
      ([resource, ...cells]) =>
        `| ${code(resource)} | ${cells.slice(0, -1).join(' | ')} | ${cell(prose(cells[cells.length - 1]))} |`,
    ),
  ];
  return folded(FORECAST_TITLE, rows);
}

function resourceSection(change: ResourceChange, foreign: ForeignOwner | undefined): string[] {
  const { kind, name } = describeResourceKey(change.resource);
  const title =
    change.source === 'files'
      ? `${kind} ${code(name)} (priority ${change.priority}, ${plural(change.targetedDevices ?? 0, 'device')} targeted): ${plural(change.devicesToWrite, 'device twin')} to write`
      : goneOwnerTitle(change, foreign);
  const lines = [`#### ${title}`, ''];
  if (change.settings.length || change.ownershipOnlyDevices) lines.push(...settingTable(change));
  if (change.deferredDevices)
    lines.push(
      `${prose(`${plural(change.deferredDevices, 'more device')} wait for later rollout batches of ${change.rolloutBatchSize}.`)}`,
      '',
    );
  lines.push(...failureLines(change));
  if (change.sampleDeviceIds.length) lines.push(...sampleList(change));
  return lines;
}

function changes(change: ResourceChange): boolean {
  return change.devicesToWrite > 0 || change.deferredDevices > 0;
}

export function renderPlanMarkdown(
  diff: PlanDiff,
  subject: SyncTarget,
  foreignOwners: readonly ForeignOwner[],
  /** The plan's statuses, shown folded under their forecast title. */
  reports: readonly ResourceReport[] = [],
): string {
  const foreign = new Map(foreignOwners.map((f) => [f.owner, f]));
  const hub = subject.iotHub ? `${code(subject.iotHub)} on ${code(subject.hubName)}` : code(subject.hubName);
  const summary = planSummary(diff);
  const lines = [
    `### Plan for ${hub}`,
    '',
    `**${prose(summary.charAt(0).toUpperCase() + summary.slice(1))}.** Dry run: nothing was written.`,
    '',
  ];
  for (const change of diff.resources)
    if (changes(change) || change.failedDevices || change.conflictingDevices)
      lines.push(...resourceSection(change, foreign.get(change.resource)));
  if (diff.moduleCreations.devices)
    lines.push(
      `${prose(`${moduleCreationsText(diff.moduleCreations)} to create, e.g.`)} ${diff.moduleCreations.sampleDeviceIds.map(code).join(', ')}`,
      '',
    );
  lines.push(...outOfScopeSection(diff, subject));
  const quiet = diff.resources.filter((c) => !changes(c) && !c.failedDevices && !c.conflictingDevices);
  if (quiet.length)
    lines.push(
      ...folded(
        `${plural(quiet.length, 'resource')} without changes`,
        quiet.map((c) =>
          c.source === 'files'
            ? `- ${code(c.resource)} (priority ${c.priority}, ${plural(c.targetedDevices ?? 0, 'device')} targeted${c.suspended ? ', suspended' : ''})`
            : `- ${goneOwnerTitle(c, foreign.get(c.resource))}`,
        ),
      ),
    );
  if (subject.leftOut.length)
    lines.push(
      ...folded(
        `${plural(subject.leftOut.length, 'resource')} of other hubs, left out`,
        subject.leftOut.map((o) => `- ${code(o.resource)} for hub ${code(o.iotHub)}`),
      ),
    );
  lines.push(...statusSection(reports));
  return lines.join('\n').trimEnd();
}
