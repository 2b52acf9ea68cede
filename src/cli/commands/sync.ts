// `iot-security-operator sync`: GitOps without a cluster. Applies the SecurityModuleConfigs and TwinConfigs of some
// files that name one hub to it, validated first; --dry-run shows the plan, --wait waits for the devices, --watch
// keeps going.
import { parseArgs } from 'node:util';
import { parseKubeDuration } from '../../api/kube-duration.js';
import { hubClientOptionsFrom, syncSizing } from '../../hub/client-options.js';
import { createHubClient, type HubClient } from '../../hub/hub-client.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../observability/logger.js';
import { DEFAULT_MANAGER, MANAGER_ID_PATTERN } from '../../planner/ownership.js';
import type { HubSelection } from '../../sync/hub-selection.js';
import { runSync } from '../../sync/run-sync.js';
import { findResourceFiles, PathError } from '../../validation/resource-files.js';
import { type CommandIo, UsageError } from '../command-io.js';
import { readHubFlags } from '../hub-flags.js';
import { shutdownSignal } from '../shutdown-signal.js';

export const SYNC_USAGE = `Usage: iot-security-operator sync -f PATH... [options]

Applies the SecurityModuleConfig and TwinConfig resources in PATH (files or directories, recursive) that name
one IoT hub to it. Every resource is validated first (a TwinConfig's schema from a ConfigMap of the same files);
if any is invalid, or a ConfigMap a TwinConfig names is not among the files, all problems are printed and
nothing is written.

Hub:
  --hub NAME               the hub whose resources to apply, as their hubRef names it (NAMESPACE/NAME where
                           the name is used in several namespaces; no metadata.namespace is 'default'); the
                           others are left out, and what they own is never pruned. Needed when the files name
                           more than one hub
  --connection-string CS   service connection string (default: env IOTHUB_CONNECTION_STRING; prefer the
                           variable, a command line is visible to other users of the machine)
  --ca-file FILE           PEM CA bundle to trust (private endpoints, the emulator)
  --tier S1 --units 1      the hub's tier and units, for client-side rate limits (default: the hub's IoTHub
                           document in the files, with its rateLimits, else S1, 1)
What to do:
  --dry-run                print the plan, write nothing: per resource and setting, the values on the hub now
                           and the new ones with device counts; exit 0 no changes, 1 changes, above 1 error
  --prune                  remove settings owned by resources that are no longer in the files
  --allow-empty            sync even if the files hold no SecurityModuleConfig or TwinConfig (with --prune:
                           remove every setting the operator manages on the hub)
  --wait                   wait until every resource is Ready (devices converged: agents report, IoT Plug and
                           Play devices acknowledge); exit 3 if --timeout passes first (not with --dry-run,
                           which writes nothing to wait for)
  --timeout 10m            how long --wait waits
  --watch                  keep running: re-read the files on change, resync every --interval
  --interval 1m            resync interval for --watch
  --poll 2s                how often --wait re-reads the devices whose agents have yet to answer
  --output table|json|markdown
                           the final status (and a dry run's plan) as a table (default) or JSON; markdown:
                           a dry run's plan as a pull request comment
  --manager sync           the manager id recorded in the twins' ownership record: each manager of a hub
                           (this pipeline, another one, the controller) removes only what it manages, and
                           never writes a setting another manager owns
  --log-level info         error, warn, info, debug (logs go to standard error)
Exit status: 0 done (and Ready with --wait); 1 invalid resources, failed devices or writes, or (with --wait)
a resource that cannot become Ready; 2 usage (also: files naming several hubs without --hub, a --hub they do
not name); 3 --wait timed out; 130 interrupted. With --dry-run, as kubectl diff: 0 no changes; 1 changes; 2
usage; 4 invalid resources or a hub that could not be read; 130 interrupted.`;

function duration(text: string, option: string): number {
  const ms = parseKubeDuration(text);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`${option} '${text}' is not a duration such as 30s, 10m or 1h`);
  return ms;
}

export async function runSyncCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      'connection-string': { type: 'string' },
      'ca-file': { type: 'string' },
      hub: { type: 'string' },
      tier: { type: 'string' },
      units: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      prune: { type: 'boolean', default: false },
      'allow-empty': { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '10m' },
      watch: { type: 'boolean', default: false },
      interval: { type: 'string', default: '1m' },
      output: { type: 'string', short: 'o', default: 'table' },
      poll: { type: 'string', default: '2s' },
      manager: { type: 'string', default: DEFAULT_MANAGER },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(SYNC_USAGE);
    return 0;
  }
  const paths = values.file ?? [];
  if (paths.length === 0) throw new UsageError('sync needs at least one -f PATH');
  try {
    findResourceFiles(paths);
  } catch (error) {
    // A path that cannot be used is how the command was called, as for validate (exit 2).
    if (error instanceof PathError) throw new UsageError(error.message);
    throw error;
  }
  const output = values.output;
  if (output !== 'table' && output !== 'json' && output !== 'markdown')
    throw new UsageError(`--output must be table, json or markdown, not '${output}'`);
  // A dry run writes nothing, so there is nothing for the agents to report: a wait would end at once, "Ready" or not.
  if (values['dry-run'] && values.wait)
    throw new UsageError(
      '--wait waits for the writes of a run, and --dry-run makes none: give one or the other',
    );
  if (output === 'markdown' && (!values['dry-run'] || values.watch))
    throw new UsageError('--output markdown prints the plan of a dry run: give --dry-run, without --watch');
  const { connectionString, ca, tier, units } = readHubFlags(values);
  if (!MANAGER_ID_PATTERN.test(values.manager))
    throw new UsageError(
      `--manager must be a DNS label (lower-case letters, digits and '-', at most 63), not '${values.manager}'`,
    );
  const level = values['log-level'];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const logger = createLogger({ level: level as LogLevel | undefined });
  let client: HubClient | undefined;
  // Made once the files say which hub: flags given win, then the hub's IoTHub document, then S1 with 1 unit.
  const connect = (selection: HubSelection): HubClient => {
    const spec = selection.hubSpec;
    const sizing = syncSizing({ tier, units }, spec);
    logger.info('client rate limits sized', {
      tier: sizing.tier ?? 'S1',
      units: sizing.units ?? 1,
      rateLimits: sizing.rateLimits !== undefined,
      iotHubDocument: spec ? selection.iotHub : undefined,
    });
    try {
      client = createHubClient({ ...hubClientOptionsFrom(sizing, { connectionString, ca }), logger });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    return client;
  };
  const shutdown = shutdownSignal();
  try {
    return await runSync(
      {
        paths,
        dryRun: values['dry-run'],
        prune: values.prune,
        allowEmpty: values['allow-empty'],
        wait: values.wait,
        watch: values.watch,
        timeoutMs: duration(values.timeout, '--timeout'),
        intervalMs: duration(values.interval, '--interval'),
        pollMs: duration(values.poll, '--poll'),
        output,
        manager: values.manager,
        hub: values.hub,
      },
      { io, access: connect, logger, stop: shutdown.stop },
    );
  } finally {
    shutdown.dispose();
    client?.close();
  }
}
