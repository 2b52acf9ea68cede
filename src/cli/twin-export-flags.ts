// The flags of `export` that say which twin is exported into TwinConfigs, and what those say besides the
// properties: their definitions for parseArgs, their usage, and their checks (a mistake is a UsageError naming the
// flag, exit 2). Without --twin or --module, export writes SecurityModuleConfigs and these flags are refused.
import { API_GROUP_VERSION } from '../api/schemas.js';
import {
  CONVERGENCES,
  type Convergence,
  SCHEMA_FORMATS,
  type SchemaFormat,
  type TwinConfigExportOptions,
} from '../export/twin-config-export.js';
import { isDtmi } from '../twin-models/index.js';
import { formatFieldPath } from '../validation/issues.js';
import { validateResource } from '../validation/validate-resource.js';
import { UsageError } from './command-io.js';

export const TWIN_EXPORT_FLAG_OPTIONS = {
  twin: { type: 'string' },
  module: { type: 'string' },
  component: { type: 'string' },
  convergence: { type: 'string' },
  'model-id': { type: 'string' },
  'schema-configmap': { type: 'string' },
  'schema-format': { type: 'string' },
} as const;

export const TWIN_EXPORT_FLAGS_USAGE = `  --twin device            TwinConfigs of the device twins' desired properties
  --module ID              TwinConfigs of the desired properties of module ID's twins (of azureiotsecurity,
                           those besides the agent's configuration)
 With --twin or --module:
  --component NAME         the properties of one IoT Plug and Play component (twin.component), without its
                           marker; without --component, components are left out (counted, by name)
  --convergence MODE       PlugAndPlay, Mirror or None, written into every TwinConfig (default: PlugAndPlay
                           when every exported twin announced a model, a modelId; else Mirror)
  --model-id DTMI          only devices that announced this model; the others are left out, and counted
  --schema-configmap NAME/KEY
                           every TwinConfig judged by the DTDL model or JSON Schema at this key of a ConfigMap
                           (not exported: validate and sync read it from the files, the controller from the
                           TwinConfig's namespace)
  --schema-format DTDL     what that key holds: DTDL or JSONSchema (default: DTDL)`;

export interface TwinExportFlagValues {
  twin?: string;
  module?: string;
  component?: string;
  convergence?: string;
  'model-id'?: string;
  'schema-configmap'?: string;
  'schema-format'?: string;
}

export interface TwinExportFlags {
  options: TwinConfigExportOptions;
  /** Only devices that announced this model are exported. */
  modelId?: string;
}

/** Flags of a spec field a wrong value of which the schema reports. */
const FLAG_OF_FIELD: [string, string][] = [
  ['spec.twin.moduleId', '--module'],
  ['spec.twin.component', '--component'],
  ['spec.schema.configMapKeyRef', '--schema-configmap'],
];

/** The selector and schema reference as the API would judge them in a TwinConfig: the first problem, by flag. */
function checkAsTheApiWould(options: TwinConfigExportOptions): void {
  const { moduleId, component, schema } = options;
  const { issues } = validateResource(
    {
      apiVersion: API_GROUP_VERSION,
      kind: 'TwinConfig',
      metadata: { name: 'export' },
      spec: {
        hubRef: { name: 'export' },
        target: { deviceIds: ['export'] },
        twin: {
          ...(moduleId === undefined ? {} : { moduleId }),
          ...(component === undefined ? {} : { component }),
        },
        properties: { export: true },
        ...(schema ? { schema: { configMapKeyRef: { name: schema.name, key: schema.key } } } : {}),
      },
    },
    { missing: 'warning' },
  );
  for (const issue of issues.filter((i) => i.severity === 'error')) {
    const field = formatFieldPath(issue.path);
    const flag = FLAG_OF_FIELD.find(([prefix]) => field.startsWith(prefix))?.[1];
    if (flag) throw new UsageError(`${flag}: ${issue.message}`);
  }
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined || (allowed as readonly string[]).includes(value)) return value as T | undefined;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, not '${value}'`);
}

/** The TwinConfig export the flags ask for, or undefined for the security agent's (SecurityModuleConfigs). */
export function readTwinExportFlags(values: TwinExportFlagValues): TwinExportFlags | undefined {
  if (values.twin === undefined && values.module === undefined) {
    const stray = Object.keys(TWIN_EXPORT_FLAG_OPTIONS).find(
      (flag) => values[flag as keyof TwinExportFlagValues] !== undefined,
    );
    if (stray)
      throw new UsageError(
        `--${stray} is for TwinConfigs: give --twin device or --module ID (without them, export writes SecurityModuleConfigs)`,
      );
    return undefined;
  }
  if (values.twin !== undefined && values.module !== undefined)
    throw new UsageError('--twin and --module: give one (--twin device for the device twins)');
  if (values.twin !== undefined && values.twin !== 'device')
    throw new UsageError(`--twin must be 'device' (for a module's twins, --module ID), not '${values.twin}'`);
  const convergence = oneOf<Convergence>('--convergence', values.convergence, CONVERGENCES);
  const format = oneOf<SchemaFormat>('--schema-format', values['schema-format'], SCHEMA_FORMATS);
  const modelId = values['model-id'];
  if (modelId !== undefined && !isDtmi(modelId, 3))
    throw new UsageError(`--model-id must be a DTMI (dtmi:com:example:Thermostat;1), not '${modelId}'`);
  const reference = values['schema-configmap'];
  if (format !== undefined && reference === undefined)
    throw new UsageError(
      '--schema-format says what --schema-configmap holds: give --schema-configmap NAME/KEY',
    );
  const slash = reference?.indexOf('/') ?? -1;
  if (
    reference !== undefined &&
    (slash < 1 || slash === reference.length - 1 || reference.indexOf('/', slash + 1) >= 0)
  )
    throw new UsageError(
      `--schema-configmap must be NAME/KEY (pnp-models/thermostat-1.json), not '${reference}'`,
    );
  const options: TwinConfigExportOptions = {
    ...(values.module === undefined ? {} : { moduleId: values.module }),
    ...(values.component === undefined ? {} : { component: values.component }),
    ...(convergence === undefined ? {} : { convergence }),
    ...(reference === undefined
      ? {}
      : {
          schema: {
            name: reference.slice(0, slash),
            key: reference.slice(slash + 1),
            format: format ?? 'DTDL',
          },
        }),
  };
  checkAsTheApiWould(options);
  return {
    options,
    ...(modelId === undefined ? {} : { modelId }),
  };
}
