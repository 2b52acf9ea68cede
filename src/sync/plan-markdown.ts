// `sync --dry-run --output markdown`: the plan as a comment a pull request can show. A heading, a summary line, a
// table per resource that changes; long lists fold into <details>. Values are quoted as code and escaped: what a
// twin holds is data, never markup.

import type { PlanDiff, ResourceChange } from '../planner/plan-diff.js';
import type { ForeignOwner } from '../planner/plan-hub-reconcile.js';
import { describeResourceKey } from '../planner/resource-input.js';
import type { DeviceFailure } from '../planner/types.js';
import type { SyncTarget } from './hub-selection.js';
import {
  foreignLine,
  moduleCreationsText,
  ownerNote,
  planSummary,
  plural,
  settingValueText,
} from './plan-text.js';

/** Tables longer than this fold into <details>. */
const FOLD_ROWS = 10;

/** Inline code on one line, a backtick inside fenced by two. */
function code(text: string): string {
  const line = text.replace(/[\r\n]+/g, ' ');
  return line.includes('`') ? `\`\` ${line} \`\`` : `\`${line}\``;
}

/** A table cell: GFM ends a cell at any `|` not escaped, even inside code. */
function cell(markdown: string): string {
  return markdown.replace(/\|/g, '\\|');
}

/** Plain text that renders as written: no markup, no HTML. */
function prose(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
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

function resourceSection(change: ResourceChange, foreign: ForeignOwner | undefined): string[] {
  const { kind, name } = describeResourceKey(change.resource);
  const title =
    change.source === 'files'
      ? `${kind} ${code(name)} (priority ${change.priority}, ${plural(change.targetedDevices ?? 0, 'device')} targeted): ${plural(change.devicesToWrite, 'device twin')} to write`
      : prose(foreign ? foreignLine(foreign, true) : `${change.resource} (not in the files)`);
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
  const quiet = diff.resources.filter((c) => !changes(c) && !c.failedDevices && !c.conflictingDevices);
  if (quiet.length)
    lines.push(
      ...folded(
        `${plural(quiet.length, 'resource')} without changes`,
        quiet.map((c) =>
          c.source === 'files'
            ? `- ${code(c.resource)} (priority ${c.priority}, ${plural(c.targetedDevices ?? 0, 'device')} targeted${c.suspended ? ', suspended' : ''})`
            : `- ${prose(foreign.has(c.resource) ? foreignLine(foreign.get(c.resource)!, true) : c.resource)}`,
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
  return lines.join('\n').trimEnd();
}
