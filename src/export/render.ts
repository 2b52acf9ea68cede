// The export as YAML: an IoTHub that names its Secret (never the key) and the SecurityModuleConfigs or
// TwinConfigs, baseline first, each preceded by a comment saying what it selects. Written as YAML 1.1 so that
// kubectl reads `Off`, `yes` and `1:20` as the strings they are; no time stamp, so the same hub gives the same bytes.
import { stringify } from 'yaml';
import { API_GROUP_VERSION } from '../api/schemas.js';
import type { ExportKind, ExportWords } from './export-kind.js';
import type { ExportedResource, ExportPlan, ExportSummary } from './plan-export.js';

export interface HubDocument {
  /** The IoTHub's name: every SecurityModuleConfig's hubRef. */
  name: string;
  namespace?: string;
  /** The Secret holding the connection string (key `connectionString`). */
  secretName: string;
  /** The Secret holding the CA bundle (key `ca.crt`), when the hub needs one. */
  caSecretName?: string;
  tier?: string;
  units?: number;
}

export interface RenderContext {
  hub: HubDocument;
  /** The hub's host name, for the header. */
  hubHost: string;
  manager: string;
  kind: ExportKind;
  /** Lines of the header after the summary (how the resources' devices converge, say). */
  notes?: readonly string[];
}

export interface RenderedDocument {
  /** The file it is written to with `-o DIR`. */
  fileName: string;
  /** Its YAML, comments first. */
  text: string;
}

const count = (n: number, noun: string) => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;

function yaml(value: unknown): string {
  return stringify(value, { version: '1.1', lineWidth: 0 });
}

function metadata(name: string, namespace: string | undefined) {
  return namespace === undefined ? { name } : { name, namespace };
}

function hubDocument(hub: HubDocument): object {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: 'IoTHub',
    metadata: metadata(hub.name, hub.namespace),
    spec: {
      connectionStringSecretRef: { name: hub.secretName },
      ...(hub.caSecretName === undefined ? {} : { caSecretRef: { name: hub.caSecretName } }),
      ...(hub.tier === undefined ? {} : { tier: hub.tier }),
      ...(hub.units === undefined ? {} : { units: hub.units }),
    },
  };
}

function resourceDocument(resource: ExportedResource, hub: HubDocument, kind: ExportKind): object {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: kind.resourceKind,
    metadata: metadata(resource.name, hub.namespace),
    spec: {
      hubRef: { name: hub.name },
      target: resource.target,
      priority: resource.priority,
      ...kind.spec(resource.settings),
    },
  };
}

function resourceComment(resource: ExportedResource): string {
  const part = resource.part ? ` (list ${resource.part.index} of ${resource.part.of})` : '';
  const what =
    resource.role === 'baseline'
      ? `the baseline of ${count(resource.devices, 'device')}`
      : `a layer for ${count(resource.devices, 'device')}`;
  return `# ${resource.name}: ${what}${part}\n`;
}

/** What was exported and what was left out, as comment lines (also printed by the command). */
export function summaryLines(summary: ExportSummary, manager: string, words: ExportWords): string[] {
  const lines = [
    `${count(summary.exportedDevices, 'device')} of ${summary.hubDevices.toLocaleString('en-US')} in ${count(summary.configurations, 'configuration')}: the settings no manager owns and those manager '${manager}' owns.`,
  ];
  const { noModule, noConfiguration, managedElsewhere, rejected, otherModel } = summary.leftOut;
  const left = [
    otherModel ? `${count(otherModel, 'device')} of another model` : '',
    noModule ? `${count(noModule, 'device')} ${words.noModule}` : '',
    noConfiguration ? `${count(noConfiguration, 'device')} ${words.noConfiguration}` : '',
    managedElsewhere ? `${count(managedElsewhere, 'device')} whose settings other managers own` : '',
    rejected ? `${count(rejected, 'device')} ${words.rejected}` : '',
  ].filter(Boolean);
  if (left.length) lines.push(`Left out: ${left.join(', ')}.`);
  if (summary.rejectedExample)
    lines.push(`For example device ${summary.rejectedExample.deviceId}: ${summary.rejectedExample.reason}.`);
  if (summary.otherManagers.length)
    lines.push(
      `Settings of other managers left out: ${summary.otherManagers.map(([m, n]) => `${m} on ${count(n, 'device')}`).join(', ')} (export them with --manager).`,
    );
  if (summary.componentsLeftOut.length)
    lines.push(
      `Components left out: ${summary.componentsLeftOut.map(([c, n]) => `${c} on ${count(n, 'device')}`).join(', ')} (export each with --component).`,
    );
  if (summary.unlistedModules)
    lines.push(
      `${count(summary.unlistedModules, 'module twin')} of devices deleted while the hub was read: left out.`,
    );
  if (summary.unsearched)
    lines.push(
      `${count(summary.unsearched, 'group')} beyond the largest 200 got device lists without a search for a condition.`,
    );
  return lines;
}

export function renderExport(plan: ExportPlan, context: RenderContext): RenderedDocument[] {
  const { hub } = context;
  const secrets = [hub.secretName, hub.caSecretName].filter((s) => s !== undefined).join(' and ');
  const header = [
    `Exported from IoT hub ${context.hubHost} by iot-security-operator export.`,
    ...summaryLines(plan.summary, context.manager, context.kind.words),
    ...(context.notes ?? []),
    `Create the Secret${hub.caSecretName ? 's' : ''} ${secrets} before applying: the key is never exported.`,
  ]
    .map((line) => `# ${line}\n`)
    .join('');
  return [
    { fileName: 'iothub.yaml', text: header + yaml(hubDocument(hub)) },
    ...plan.resources.map((resource) => ({
      fileName: `${resource.name}.yaml`,
      text: resourceComment(resource) + yaml(resourceDocument(resource, hub, context.kind)),
    })),
  ];
}

/** The documents as one multi-document YAML stream. */
export function joinDocuments(documents: readonly RenderedDocument[]): string {
  return documents.map((d) => d.text).join('---\n');
}
