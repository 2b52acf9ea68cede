// Export of any twin's desired properties into TwinConfigs: from the device twin or a module twin of each device
// (or from one IoT Plug and Play component of it), each top-level property (each property of the component) as
// one setting, objects whole, as TwinConfig layering treats them. Left out: the hub's bookkeeping ($metadata,
// $version: never in a ManagedTwin's desired), the component marker, components when none is asked for (each is
// exported on its own, with --component), the security agent's configuration (a SecurityModuleConfig's), and
// properties whose place another manager's ownership record claims.
import type { TwinConfigSpec } from '../api/generated/types.js';
import { readOwnership } from '../planner/ownership.js';
import { typedPropertyIn } from '../profiles/profiles.js';
import {
  propertySettingId,
  settingPath,
  twinPropertiesProfile,
} from '../profiles/twin-properties/profile.js';
import { COMPONENT_MARKER_KEY, COMPONENT_MARKER_VALUE } from '../protocol/plug-and-play.js';
import { DEVICE_TWIN, type ManagedTwin } from '../twins/types.js';
import { type ExportKind, NO_COUPLING } from './export-kind.js';
import type { ExportSummary } from './plan-export.js';
import { canonicalValue, type Settings, type TwinSettings, unclaimedSettings } from './settings.js';

export type Convergence = NonNullable<TwinConfigSpec['convergence']>;
export const CONVERGENCES: readonly Convergence[] = ['PlugAndPlay', 'Mirror', 'None'];

export type SchemaFormat = NonNullable<NonNullable<TwinConfigSpec['schema']>['format']>;
export const SCHEMA_FORMATS: readonly SchemaFormat[] = ['DTDL', 'JSONSchema'];

/** Which properties are exported, and what every TwinConfig says besides them. */
export interface TwinConfigExportOptions {
  /** The module whose twins are read; undefined: the device twins. */
  moduleId?: string;
  /** One IoT Plug and Play component of the twin. */
  component?: string;
  /** Written into every spec; undefined leaves it to the API's default (PlugAndPlay). */
  convergence?: Convergence;
  /** A ConfigMap key holding the model or schema every TwinConfig is judged by. */
  schema?: { name: string; key: string; format: SchemaFormat };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const isComponent = (value: unknown) =>
  isObject(value) && value[COMPONENT_MARKER_KEY] === COMPONENT_MARKER_VALUE;

/** Whether two places in desired overlap: one path is the other or lies inside it. */
function overlaps(a: readonly string[], b: readonly string[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The properties `manager` may export from a twin: by place in desired, as layering goes, a property is another
 * manager's when their record claims its place, a place inside it, or one around it (a whole component).
 */
export function propertySettings(
  twin: Pick<ManagedTwin, 'tags' | 'desired'>,
  manager: string,
  options: Pick<TwinConfigExportOptions, 'moduleId' | 'component'> = {},
): TwinSettings {
  const { component } = options;
  const source = component === undefined ? twin.desired : twin.desired[component];
  if (!isObject(source)) return { kind: 'noConfiguration' };
  const properties: Settings = {};
  const components: string[] = [];
  // Not a property: the marker of the component read, or what a typed profile manages (the agent's configuration).
  const passedOver =
    component !== undefined ? COMPONENT_MARKER_KEY : typedPropertyIn(options.moduleId ?? DEVICE_TWIN)?.key;
  for (const [name, value] of Object.entries(source)) {
    if (name === passedOver) continue;
    if (component === undefined && isComponent(value)) components.push(name);
    else properties[name] = canonicalValue(value);
  }
  const claimed = [...readOwnership(twin.tags, manager).managedElsewhere]
    .filter(([settingId]) => twinPropertiesProfile.handles(settingId))
    .map(([settingId, owner]) => ({ path: settingPath(settingId), owner }));
  const read = unclaimedSettings(properties, (name) => {
    const path = settingPath(propertySettingId(name, component));
    return claimed.find((c) => overlaps(c.path, path))?.owner;
  });
  if (components.length > 0 && (read.kind === 'settings' || read.kind === 'noConfiguration'))
    read.componentsLeftOut = components.sort();
  return read;
}

export function twinConfigExport(options: TwinConfigExportOptions): ExportKind {
  const { moduleId, component, convergence, schema } = options;
  const twin = {
    ...(moduleId === undefined ? {} : { moduleId }),
    ...(component === undefined ? {} : { component }),
  };
  return {
    resourceKind: 'TwinConfig',
    slot: moduleId ?? DEVICE_TWIN,
    read: (managed, manager) => propertySettings(managed, manager, options),
    coupling: NO_COUPLING,
    spec: (settings) => ({
      ...(Object.keys(twin).length === 0 ? {} : { twin }),
      properties: settings,
      ...(schema === undefined
        ? {}
        : {
            schema: { configMapKeyRef: { name: schema.name, key: schema.key }, format: schema.format },
          }),
      ...(convergence === undefined ? {} : { convergence }),
    }),
    nameWords: component !== undefined ? [component] : moduleId !== undefined ? [moduleId] : [],
    targetsByModel: true,
    words: {
      twins: moduleId === undefined ? 'device twins' : `'${moduleId}' module twins`,
      noModule: `without the module '${moduleId}'`,
      noConfiguration:
        component === undefined
          ? 'without desired properties (components aside)'
          : `without properties in component ${component}`,
      rejected: 'whose properties the API would refuse',
    },
  };
}

/**
 * How the exported devices say they took the properties, unless told: IoT Plug and Play acknowledgements when
 * every exported twin announced a model (a modelId), else a mirror of the value in reported properties.
 */
export function defaultConvergence(summary: ExportSummary): Convergence {
  return summary.exportedDevices > 0 && summary.announcedModel === summary.exportedDevices
    ? 'PlugAndPlay'
    : 'Mirror';
}

/**
 * The kind that renders a plan: with the convergence the options give, or the one chosen from what was read;
 * and the header's line that says which, and why.
 */
export function renderingKind(
  options: TwinConfigExportOptions,
  summary: ExportSummary,
): { kind: ExportKind; note: string } {
  const convergence = options.convergence ?? defaultConvergence(summary);
  const kind = twinConfigExport({ ...options, convergence });
  if (options.convergence !== undefined)
    return { kind, note: `Convergence ${convergence}, as --convergence said.` };
  const announced = `${summary.announcedModel.toLocaleString('en-US')} of ${summary.exportedDevices.toLocaleString('en-US')} exported twins announced a model`;
  return {
    kind,
    note:
      convergence === 'PlugAndPlay'
        ? 'Convergence PlugAndPlay: every exported twin announced a model, so its device is taken to acknowledge each property as IoT Plug and Play says (--convergence to choose).'
        : `Convergence Mirror: ${announced}, so devices are taken to report each property as it is desired (--convergence to choose).`,
  };
}
