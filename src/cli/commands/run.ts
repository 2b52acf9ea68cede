// `iot-security-operator run`: the Kubernetes controller. Watches IoTHubs, SecurityModuleConfigs and the Secrets
// they name, reconciles each hub, and writes status where cluster operators look.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parseKubeDuration } from '../../api/kube-duration.js';
import { Controller } from '../../controller/controller.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../observability/logger.js';
import { MANAGER_ID_PATTERN } from '../../planner/ownership.js';
import { type CommandIo, UsageError } from '../command-io.js';
import { shutdownSignal } from '../shutdown-signal.js';

export const DEFAULT_OPERATOR_MANAGER = 'iot-security-operator';

export const RUN_USAGE = `Usage: iot-security-operator run [options]

Runs the controller: watches IoTHub and SecurityModuleConfig resources and the Secrets they name, writes the
security agents' configuration to the hubs' module twins, and reports progress in each resource's status.

Options (named as controller-runtime's where one exists):
  --kubeconfig FILE              kubeconfig to use (default: KUBECONFIG, the in-cluster ServiceAccount, or
                                 ~/.kube/config)
  --namespace NS                 watch only this namespace; repeat for several (default: all namespaces)
  --max-concurrent-hubs 4        hubs reconciled at once (controller-runtime: MaxConcurrentReconciles)
  --manager-id ID                the manager id recorded in the twins' ownership record (default
                                 iot-security-operator); two managers of one hub never write each other's settings
  --sync-period 10m              how often the informers list everything again (controller-runtime: SyncPeriod);
                                 each hub is also re-read every spec.resyncInterval to correct drift
  --graceful-shutdown-timeout 10s  on SIGTERM, how long reconciles in progress may take to finish
  --log-level info               error, warn, info, debug (JSON lines on standard error; LOG_FORMAT=text)
  -h, --help                     show this text`;

function duration(text: string, option: string): number {
  const ms = parseKubeDuration(text);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`${option} '${text}' is not a duration such as 30s or 10m`);
  return ms;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (error) {
    throw new UsageError(`cannot load the kubeconfig${path ? ` ${path}` : ''}: ${(error as Error).message}`);
  }
  if (!kc.getCurrentCluster())
    throw new UsageError('the kubeconfig has no current cluster (give --kubeconfig, or run in a cluster)');
  return kc;
}

export async function runOperatorCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string', multiple: true },
      'max-concurrent-hubs': { type: 'string', default: '4' },
      'manager-id': { type: 'string', default: DEFAULT_OPERATOR_MANAGER },
      'sync-period': { type: 'string', default: '10m' },
      'graceful-shutdown-timeout': { type: 'string', default: '10s' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(RUN_USAGE);
    return 0;
  }
  const concurrency = Number(values['max-concurrent-hubs']);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
    throw new UsageError(
      `--max-concurrent-hubs must be a whole number from 1 to 256, not '${values['max-concurrent-hubs']}'`,
    );
  const manager = values['manager-id'];
  if (!MANAGER_ID_PATTERN.test(manager))
    throw new UsageError(
      `--manager-id must be a DNS label (lower-case letters, digits and '-', at most 63), not '${manager}'`,
    );
  const level = values['log-level'];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const namespaces = values.namespace ?? [];
  const syncPeriodMs = duration(values['sync-period'], '--sync-period');
  const graceMs = duration(values['graceful-shutdown-timeout'], '--graceful-shutdown-timeout');
  const kubeConfig = loadKubeConfig(values.kubeconfig);
  const logger = createLogger({ level: level as LogLevel | undefined }).child({
    controller: 'iot-security-operator',
  });

  const controller = new Controller({
    kubeConfig,
    namespaces,
    maxConcurrentHubs: concurrency,
    manager,
    logger,
    instance: process.env.POD_NAME ?? hostname(),
    informers: { relistIntervalMs: syncPeriodMs },
    shutdownGraceMs: graceMs,
  });
  const shutdown = shutdownSignal(graceMs);
  logger.info('starting', {
    server: kubeConfig.getCurrentCluster()?.server,
    namespaces: namespaces.length ? namespaces : 'all',
    manager,
    maxConcurrentHubs: concurrency,
  });
  try {
    await Promise.race([
      controller.startInformers(),
      new Promise((resolve) => shutdown.signal.addEventListener('abort', resolve, { once: true })),
    ]);
    if (!shutdown.signal.aborted) {
      logger.info('caches synced; reconciling');
      controller.startWorkers();
      await new Promise((resolve) => shutdown.signal.addEventListener('abort', resolve, { once: true }));
    }
    logger.info('stopping: finishing reconciles in progress');
    await controller.stop();
    logger.info('stopped');
    return 0;
  } finally {
    shutdown.dispose();
  }
}
