// `iot-security-operator export`: reads a live hub and writes the SecurityModuleConfigs (and the IoTHub) that
// reproduce the configuration its security module twins carry, or the TwinConfigs that reproduce the desired
// properties of its device or module twins: the way to adopt a fleet configured by hand.
import { parseArgs } from 'node:util';
import { agentExport } from '../../export/agent-export.js';
import { nameFromWords } from '../../export/names.js';
import { planExport } from '../../export/plan-export.js';
import { ProgressLine } from '../../export/progress-line.js';
import { readFleet } from '../../export/read-fleet.js';
import { joinDocuments, renderExport, summaryLines } from '../../export/render.js';
import { MAX_LISTED_DEVICES } from '../../export/targets.js';
import { renderingKind, twinConfigExport } from '../../export/twin-config-export.js';
import {
  type Destination,
  destinationOf,
  writeDirectoryWhole,
  writeFileWhole,
} from '../../export/write-output.js';
import { isHubError } from '../../hub/errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../observability/logger.js';
import { DEFAULT_MANAGER, MANAGER_ID_PATTERN } from '../../planner/ownership.js';
import { checkMetadata } from '../../validation/resource-rules.js';
import { type CommandIo, UsageError } from '../command-io.js';
import { HUB_FLAG_OPTIONS, HUB_FLAGS_USAGE, hubClientFromFlags, readHubFlags } from '../hub-flags.js';
import { shutdownSignal } from '../shutdown-signal.js';
import {
  readTwinExportFlags,
  TWIN_EXPORT_FLAG_OPTIONS,
  TWIN_EXPORT_FLAGS_USAGE,
} from '../twin-export-flags.js';

export const EXPORT_USAGE = `Usage: iot-security-operator export [options]

Reads a hub and writes the SecurityModuleConfigs that reproduce the desired configuration of its
azureiotsecurity module twins, or (--twin device, --module ID) the TwinConfigs that reproduce the desired
properties of device or module twins, each top-level property one setting: devices grouped by identical
settings, a baseline every exported device shares and a layer per group that differs from it, each targeted by
a condition over tags (for TwinConfigs, or modelId) when one selects exactly that group among the hub's
devices, else by a list of device ids; and an IoTHub naming a Secret (never the key).

Hub:
${HUB_FLAGS_USAGE}
  --tier S1 --units 1      the hub's tier and units: the client's rate limits, and the IoTHub's spec (written
                           only when given; the client assumes S1 and 1 otherwise)
Which twins (default: the security agent's configuration, into SecurityModuleConfigs):
${TWIN_EXPORT_FLAGS_USAGE}
What to write:
  -o, --out PATH           a file, or a directory (new or empty; a path ending in '/') for one file per
                           document (default: standard output)
  --namespace NS           metadata.namespace of every document (default: none)
  --hub-name NAME          the IoTHub's name, which every hubRef names (default: from the hub's host name)
  --secret-name NAME       the Secret holding the connection string (default: HUB-NAME-credentials)
  --manager sync           whose settings to export: those no manager's ownership record claims and those
                           this manager's record claims; settings other managers own are left out
  --log-level info         error, warn, info, debug (logs go to standard error)
Exit status: 0 written; 1 the hub could not be read (nothing written); 2 usage; 130 interrupted (nothing
written).`;

/** The IoTHub's default name: the first label of the hub's host name (`contoso-fleet.azure-devices.net`). */
function defaultHubName(hubHost: string): string {
  return nameFromWords([hubHost.split(':')[0].split('.')[0]]);
}

function checkName(name: string, option: string, namespace?: string): void {
  const problem = checkMetadata({ name, namespace }).find((issue) => issue.severity === 'error');
  if (problem) throw new UsageError(`${option}: ${problem.message}`);
}

function destination(path: string | undefined): Destination {
  try {
    return destinationOf(path);
  } catch (error) {
    throw new UsageError(`--out: ${(error as Error).message}`);
  }
}

function describeDestination(to: Destination): string {
  return to.kind === 'stdout' ? 'standard output' : to.path;
}

export async function runExportCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...HUB_FLAG_OPTIONS,
      ...TWIN_EXPORT_FLAG_OPTIONS,
      out: { type: 'string', short: 'o' },
      namespace: { type: 'string' },
      'hub-name': { type: 'string' },
      'secret-name': { type: 'string' },
      manager: { type: 'string', default: DEFAULT_MANAGER },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(EXPORT_USAGE);
    return 0;
  }
  if (!MANAGER_ID_PATTERN.test(values.manager))
    throw new UsageError(
      `--manager must be a DNS label (lower-case letters, digits and '-', at most 63), not '${values.manager}'`,
    );
  if (values.namespace !== undefined) checkName('export', '--namespace', values.namespace);
  if (values['hub-name'] !== undefined) checkName(values['hub-name'], '--hub-name');
  if (values['secret-name'] !== undefined) checkName(values['secret-name'], '--secret-name');
  else if (values['hub-name'] !== undefined)
    checkName(`${values['hub-name']}-credentials`, '--hub-name (the Secret is named after it)');
  const level = values['log-level'];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const twin = readTwinExportFlags(values);
  const kind = twin ? twinConfigExport(twin.options) : agentExport;
  const to = destination(values.out);
  const flags = readHubFlags(values);
  const logger = createLogger({ level: level as LogLevel | undefined });
  const client = hubClientFromFlags(flags, logger);
  const hubName = values['hub-name'] ?? defaultHubName(client.hubName);
  const secretName = values['secret-name'] ?? `${hubName}-credentials`;
  const progress = io.isTerminal ? new ProgressLine(client.hubName, kind.words.twins) : undefined;
  // Reading changes nothing: a signal abandons it at once.
  const shutdown = shutdownSignal(0);
  try {
    let fleet: Awaited<ReturnType<typeof readFleet>>;
    try {
      fleet = await readFleet(client, {
        kind,
        manager: values.manager,
        modelId: twin?.modelId,
        abort: shutdown.stop.drain,
        onProgress: (p) => progress?.reading(p),
      });
    } catch (error) {
      if (shutdown.stop.drain.aborted) {
        io.err('export: interrupted; nothing was written');
        return 130;
      }
      if (!isHubError(error)) throw error;
      io.err(`export: ${error.kind}: ${error.message}; nothing was written`);
      return 1;
    }
    progress?.step(`grouping ${fleet.size.toLocaleString('en-US')} devices and searching targets`);
    const plan = planExport(fleet, kind);
    progress?.done();
    if (shutdown.stop.drain.aborted) {
      io.err('export: interrupted; nothing was written');
      return 130;
    }
    // TwinConfigs get the convergence --convergence gave, or the one chosen from what was read.
    const rendering = twin ? renderingKind(twin.options, plan.summary) : undefined;
    const notes = rendering ? [rendering.note] : [];
    const documents = renderExport(plan, {
      kind: rendering?.kind ?? kind,
      notes,
      hub: {
        name: hubName,
        namespace: values.namespace,
        secretName,
        caSecretName: flags.ca === undefined ? undefined : `${hubName}-ca`,
        tier: flags.tier,
        units: flags.units,
      },
      hubHost: client.hubName,
      manager: values.manager,
    });
    if (to.kind === 'stdout') io.out(joinDocuments(documents).trimEnd());
    else if (to.kind === 'file') writeFileWhole(to.path, joinDocuments(documents));
    else writeDirectoryWhole(to.path, documents);
    const byList = plan.resources.filter((r) => 'deviceIds' in r.target).length;
    io.err(
      `export: wrote the IoTHub ${hubName} and ${plan.resources.length} ${kind.resourceKind}${plan.resources.length === 1 ? '' : 's'} (${plan.resources.length - byList} targeted by a condition, ${byList} by a device list) to ${describeDestination(to)}`,
    );
    for (const line of [...summaryLines(plan.summary, values.manager, kind.words), ...notes])
      io.err(`  ${line}`);
    const split = plan.resources.filter((r) => r.part?.index === 1);
    for (const resource of split)
      io.err(
        `  ${resource.name}: its devices take ${resource.part!.of} lists of at most ${MAX_LISTED_DEVICES.toLocaleString('en-US')} ids (the schema's limit), one resource each`,
      );
    return 0;
  } finally {
    progress?.done();
    shutdown.dispose();
    client.close();
  }
}
