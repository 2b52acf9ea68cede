// `iot-security-operator run`: the Kubernetes controller. Watches IoTHubs, SecurityModuleConfigs and TwinConfigs,
// reads the Secrets they name, reconciles each hub, and writes status where cluster operators look.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { parseKubeDuration } from '../../api/kube-duration.js';
import { describeApiError } from '../../controller/api-errors.js';
import { Controller } from '../../controller/controller.js';
import {
  AUTHORITY_HOST_URL,
  DEFAULT_ENTRA_HUB_HOSTS,
  type EntraSettings,
  hostPatternError,
} from '../../controller/entra-access.js';
import { makeKubeApi } from '../../controller/kube-http.js';
import { LeaderElector } from '../../controller/leader-election.js';
import { HubSharding, shardTimingError } from '../../controller/sharding/hub-sharding.js';
import {
  parseBindAddress,
  type RunningHttpServer,
  startHttpServer,
} from '../../observability/http-endpoints.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../observability/logger.js';
import { kubeAccessReviews, MetricsAccess } from '../../observability/metrics-access.js';
import {
  readCertificateFiles,
  type ServingCertificate,
  selfSignedCertificate,
  watchCertificateFiles,
} from '../../observability/serving-certificate.js';
import { MANAGER_ID_PATTERN } from '../../planner/ownership.js';
import { type CommandIo, UsageError } from '../command-io.js';
import { PACKAGE_NAME, packageVersion } from '../package-version.js';
import { shutdownSignal } from '../shutdown-signal.js';

export const DEFAULT_OPERATOR_MANAGER = 'iot-security-operator';

export const RUN_USAGE = `Usage: iot-security-operator run [options]

Runs the controller: watches IoTHub, SecurityModuleConfig and TwinConfig resources, reads the Secrets IoTHubs
name (by name: Secrets are never listed or watched) and the ConfigMaps TwinConfigs name for their schema or model, writes their desired properties to the
hubs' device and module twins, and reports progress in each resource's status.

Options (named as controller-runtime's where one exists):
  --kubeconfig FILE              kubeconfig to use (default: KUBECONFIG, then ~/.kube/config, then the
                                 in-cluster ServiceAccount)
  --namespace NS                 watch only this namespace; repeat for several (default: all namespaces)
  --max-concurrent-hubs N        at most N hubs reconciled at once (controller-runtime:
                                 MaxConcurrentReconciles); default 0, no cap: each hub goes at its own quota's
                                 pace, and a cap makes many hubs converge in waves of N
  --manager-id ID                the manager id recorded in the twins' ownership record (default
                                 iot-security-operator); two managers of one hub never write each other's settings
  --sync-period 10m              how often the informers list everything again (controller-runtime: SyncPeriod);
                                 each hub is also re-read every spec.resyncInterval to correct drift
  --secret-recheck-interval 1m   how often the Secrets IoTHubs name are read again between reconciles: a rotated
                                 key is used, a deleted Secret or key reported, within this time (one GET per
                                 Secret each time)
  --graceful-shutdown-timeout 10s  on SIGTERM, how long reconciles in progress may take to finish
  --leader-elect                 only the holder of a coordination.k8s.io Lease reconciles; the others keep their
                                 caches warm and take over when it goes (on in the manifests)
  --leader-elect-resource-name iot-security-operator-leader        the Lease
  --leader-elect-resource-namespace NS   the namespace of the Leases (leader election's or sharding's; default:
                                 POD_NAMESPACE, the one --namespace, or default)
  --leader-elect-lease-duration 15s, --leader-elect-renew-deadline 10s, --leader-elect-retry-period 2s
  --sharding                     instead of one leader, every replica reconciles a share of the hubs: each hub is
                                 written only by the holder of its own Lease, and moves when replicas come or go
  --shard-lease-duration 15s, --shard-renew-deadline 10s, --shard-retry-period 2s   the hub and member Leases
                                 (the lease duration must be at least the renew deadline + 2 retry periods)
  --metrics-bind-address :8080   Prometheus /metrics (0 turns it off)
  --metrics-secure=true          serve /metrics over HTTPS to callers the API server authenticates (TokenReview)
                                 and allows to get the non-resource URL /metrics (SubjectAccessReview);
                                 --metrics-secure=false serves plain HTTP to anyone who reaches the port
  --metrics-cert-path DIR        the folder of the certificate and key to serve (e.g. a mounted kubernetes.io/tls
                                 Secret; read again when they change); without it, a self-signed one made at start
  --metrics-cert-name tls.crt, --metrics-cert-key tls.key   the files' names in that folder
  --entra-hub-hosts '*.azure-devices.net'   comma-separated host patterns (* for host characters, host:* for
                                 any port) an IoTHub's spec.hostName must match for a Microsoft Entra token to be
                                 requested for it: an IoTHub's author cannot have a token sent elsewhere
  --entra-namespaces NS,...      namespaces whose IoTHubs may use the operator's own identity (WorkloadIdentity,
                                 ManagedIdentity) and its role assignments; default none. ClientSecret and
                                 ClientCertificate use the namespace's own Secret and are not restricted by it
  --entra-authority-host URL     the Entra authority (default AZURE_AUTHORITY_HOST, then
                                 https://login.microsoftonline.com); never taken from an IoTHub
  --entra-authority-ca-file FILE PEM CA bundle to trust for a private authority (and managed identity endpoint)
                                 besides the system's; never an IoTHub's caSecretRef
                                 (the ServiceAccount token file: AZURE_FEDERATED_TOKEN_FILE, set by AKS workload
                                 identity)
  --health-probe-bind-address :8081  /healthz and /readyz (0 turns them off)
  --log-level info               error, warn, info, debug (JSON lines on standard error; LOG_FORMAT=text)
  -h, --help                     show this text`;

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** The Microsoft Entra settings from the flags and the environment AKS workload identity sets. */
export function entraSettings(
  values: {
    'entra-hub-hosts': string;
    'entra-namespaces': string;
    'entra-authority-host'?: string;
    'entra-authority-ca-file'?: string;
  },
  env: NodeJS.ProcessEnv,
): EntraSettings {
  const hubHosts = list(values['entra-hub-hosts']);
  for (const pattern of hubHosts) {
    const problem = hostPatternError(pattern);
    if (problem) throw new UsageError(`--entra-hub-hosts: ${problem}`);
  }
  const authorityHost = values['entra-authority-host'] ?? (env.AZURE_AUTHORITY_HOST || undefined);
  if (authorityHost !== undefined && !AUTHORITY_HOST_URL.test(authorityHost))
    throw new UsageError(`--entra-authority-host must be an https:// URL, not '${authorityHost}'`);
  let authorityCa: string | undefined;
  const caFile = values['entra-authority-ca-file'];
  if (caFile !== undefined) {
    try {
      authorityCa = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --entra-authority-ca-file: ${(error as Error).message}`);
    }
    if (!authorityCa.includes('-----BEGIN CERTIFICATE-----'))
      throw new UsageError(`--entra-authority-ca-file ${caFile} holds no PEM certificate`);
  }
  return {
    hubHosts,
    identityNamespaces: list(values['entra-namespaces']),
    authorityHost,
    authorityCa,
    tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE || undefined,
  };
}

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
    // A boolean that takes =false, as Go's flags (and controller-runtime's --metrics-secure) do.
    args: argv.map((arg) => (arg === '--metrics-secure' ? '--metrics-secure=true' : arg)),
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string', multiple: true },
      'max-concurrent-hubs': { type: 'string', default: '0' },
      'manager-id': { type: 'string', default: DEFAULT_OPERATOR_MANAGER },
      'sync-period': { type: 'string', default: '10m' },
      'secret-recheck-interval': { type: 'string', default: '1m' },
      'graceful-shutdown-timeout': { type: 'string', default: '10s' },
      'leader-elect': { type: 'boolean', default: false },
      'leader-elect-resource-name': { type: 'string', default: 'iot-security-operator-leader' },
      'leader-elect-resource-namespace': { type: 'string' },
      'leader-elect-lease-duration': { type: 'string', default: '15s' },
      'leader-elect-renew-deadline': { type: 'string', default: '10s' },
      'leader-elect-retry-period': { type: 'string', default: '2s' },
      sharding: { type: 'boolean', default: false },
      'shard-lease-duration': { type: 'string', default: '15s' },
      'shard-renew-deadline': { type: 'string', default: '10s' },
      'shard-retry-period': { type: 'string', default: '2s' },
      'metrics-bind-address': { type: 'string', default: ':8080' },
      'metrics-secure': { type: 'string', default: 'true' },
      'metrics-cert-path': { type: 'string' },
      'metrics-cert-name': { type: 'string', default: 'tls.crt' },
      'metrics-cert-key': { type: 'string', default: 'tls.key' },
      'health-probe-bind-address': { type: 'string', default: ':8081' },
      'entra-hub-hosts': { type: 'string', default: DEFAULT_ENTRA_HUB_HOSTS.join(',') },
      'entra-namespaces': { type: 'string', default: '' },
      'entra-authority-host': { type: 'string' },
      'entra-authority-ca-file': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(RUN_USAGE);
    return 0;
  }
  const cap = Number(values['max-concurrent-hubs']);
  if (!/^\d+$/.test(values['max-concurrent-hubs']) || !Number.isSafeInteger(cap))
    throw new UsageError(
      `--max-concurrent-hubs must be a whole number (0: no cap), not '${values['max-concurrent-hubs']}'`,
    );
  // 0: every hub that is due is reconciled (see work-queue.ts).
  const concurrency = cap === 0 ? undefined : cap;
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
  const secretRecheckMs = duration(values['secret-recheck-interval'], '--secret-recheck-interval');
  const lease = {
    name: values['leader-elect-resource-name'],
    namespace:
      values['leader-elect-resource-namespace'] ??
      process.env.POD_NAMESPACE ??
      (namespaces.length === 1 ? namespaces[0] : 'default'),
    leaseDurationMs: duration(values['leader-elect-lease-duration'], '--leader-elect-lease-duration'),
    renewDeadlineMs: duration(values['leader-elect-renew-deadline'], '--leader-elect-renew-deadline'),
    retryPeriodMs: duration(values['leader-elect-retry-period'], '--leader-elect-retry-period'),
  };
  if (!(lease.leaseDurationMs > lease.renewDeadlineMs && lease.renewDeadlineMs > lease.retryPeriodMs))
    throw new UsageError('the leader election needs lease duration > renew deadline > retry period');
  const shardTiming = {
    leaseDurationMs: duration(values['shard-lease-duration'], '--shard-lease-duration'),
    renewDeadlineMs: duration(values['shard-renew-deadline'], '--shard-renew-deadline'),
    retryPeriodMs: duration(values['shard-retry-period'], '--shard-retry-period'),
  };
  const shardTimingProblem = shardTimingError(shardTiming);
  if (shardTimingProblem) throw new UsageError(shardTimingProblem);
  if (values.sharding && values['leader-elect'])
    throw new UsageError('--sharding and --leader-elect are two ways of sharing the work: give one');
  let metricsBind: ReturnType<typeof parseBindAddress>;
  let probeBind: ReturnType<typeof parseBindAddress>;
  try {
    metricsBind = parseBindAddress(values['metrics-bind-address'], '--metrics-bind-address');
    probeBind = parseBindAddress(values['health-probe-bind-address'], '--health-probe-bind-address');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!['true', 'false'].includes(values['metrics-secure']))
    throw new UsageError(`--metrics-secure must be true or false, not '${values['metrics-secure']}'`);
  const metricsSecure = values['metrics-secure'] === 'true';
  const certificateFiles = values['metrics-cert-path']
    ? {
        dir: values['metrics-cert-path'],
        certName: values['metrics-cert-name'],
        keyName: values['metrics-cert-key'],
      }
    : undefined;
  if (certificateFiles && !metricsSecure)
    throw new UsageError('--metrics-cert-path is for --metrics-secure=true: plain HTTP has no certificate');
  let certificate: ServingCertificate | undefined;
  if (metricsBind && metricsSecure) {
    try {
      certificate = certificateFiles ? readCertificateFiles(certificateFiles) : await selfSignedCertificate();
    } catch (error) {
      throw new UsageError(`cannot read the metrics certificate: ${(error as Error).message}`);
    }
  }
  const entra = entraSettings(values, process.env);
  const kubeConfig = loadKubeConfig(values.kubeconfig);
  const logger = createLogger({ level: level as LogLevel | undefined }).child({
    controller: 'iot-security-operator',
  });
  const instance = process.env.POD_NAME ?? hostname();
  // The pid alone repeats (1 in every container): a random suffix keeps two incarnations of a Pod apart.
  const identity = `${instance}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const sharding: HubSharding | undefined = values.sharding
    ? new HubSharding({
        api: makeKubeApi(kubeConfig, CoordinationV1Api),
        namespace: lease.namespace,
        identity,
        ...shardTiming,
        hubKeys: () => controller.hubKeys(),
        onTaken: (key) => controller.reconcileHub(key),
        onLetGo: (key) => controller.memory.drop(key),
        onChanged: (hubs, replicas) => controller.metrics.setShard(hubs, replicas),
        handOverGraceMs: graceMs,
        // A Deployment switched from --leader-elect: its old leader, while it lives, writes every hub.
        leaderLease: lease.name,
        logger,
      })
    : undefined;

  const controller: Controller = new Controller({
    kubeConfig,
    namespaces,
    maxConcurrentHubs: concurrency,
    manager,
    logger,
    instance,
    informers: { relistIntervalMs: syncPeriodMs },
    shutdownGraceMs: graceMs,
    secretRecheckMs,
    // Names this replica in the hubs' request logs (and to the emulator, which tells writers apart by it).
    client: { userAgent: `${PACKAGE_NAME}/${packageVersion()} (${identity})` },
    ownership: sharding,
    entra,
  });
  const shutdown = shutdownSignal(graceMs);
  const stopped = new Promise((resolve) =>
    shutdown.stop.drain.addEventListener('abort', resolve, { once: true }),
  );
  // A second signal (or the grace period over): abandon the hub calls still in flight.
  shutdown.stop.abort.addEventListener('abort', () => controller.abortWork(), { once: true });
  const elector = values['leader-elect']
    ? new LeaderElector({
        api: makeKubeApi(kubeConfig, CoordinationV1Api),
        namespace: lease.namespace,
        name: lease.name,
        identity,
        leaseDurationMs: lease.leaseDurationMs,
        renewDeadlineMs: lease.renewDeadlineMs,
        retryPeriodMs: lease.retryPeriodMs,
        logger,
        onStartedLeading: () => {
          controller.metrics.setLeader(lease.name, true);
          logger.info('leading: reconciling');
          controller.startWorkers();
        },
        onStoppedLeading: () => {
          // Another instance may lead from now on: stop writing at once, keep the caches, campaign again.
          controller.metrics.setLeader(lease.name, false);
          void controller.stopWorkers(0);
        },
        onNewLeader: (identity) => logger.info('standing by', { leader: identity }),
      })
    : undefined;
  const readiness = () => {
    if (elector) return elector.isLeader ? 'leader' : 'standby';
    if (sharding) return `sharding: ${sharding.hubs.length} hubs, ${sharding.members.length} replicas`;
    return 'running';
  };
  const servers: RunningHttpServer[] = [];
  if (probeBind)
    servers.push(
      await startHttpServer(probeBind, {
        '/healthz': async () => ({ status: 200, body: 'ok\n' }),
        '/readyz': async () =>
          controller.synced
            ? {
                status: 200,
                body: `ok (${readiness()})\n`,
              }
            : { status: 503, body: 'informer caches not synced yet\n' },
      }),
    );
  let stopWatchingCertificate = () => {};
  if (metricsBind) {
    const access = metricsSecure
      ? new MetricsAccess(kubeAccessReviews(kubeConfig), {
          onError: (review, error) =>
            logger.error(`cannot check a /metrics request: the ${review} failed`, {
              error: describeApiError(error),
            }),
        })
      : undefined;
    const metricsServer = await startHttpServer(
      metricsBind,
      {
        '/metrics': async () => ({
          status: 200,
          body: await controller.metrics.metrics(),
          contentType: controller.metrics.registry.contentType,
        }),
      },
      { tls: certificate, authorize: access && ((...request) => access.decide(...request)) },
    );
    servers.push(metricsServer);
    if (certificateFiles)
      stopWatchingCertificate = watchCertificateFiles(
        certificateFiles,
        (renewed) => {
          metricsServer.setCertificate(renewed);
          logger.info('serving the renewed metrics certificate', { path: certificateFiles.dir });
        },
        (error) =>
          logger.warn('the metrics certificate changed but does not load; serving the previous one', {
            error: error.message,
          }),
      );
  }
  logger.info('starting', {
    server: kubeConfig.getCurrentCluster()?.server,
    namespaces: namespaces.length ? namespaces : 'all',
    manager,
    maxConcurrentHubs: concurrency ?? 'no cap',
    leaderElection: elector ? `${lease.namespace}/${lease.name}` : 'off',
    sharding: sharding ? `${lease.namespace}, as ${identity}` : 'off',
    endpoints: servers.map((s) => s.url),
    metrics: metricsBind
      ? metricsSecure
        ? `https, ${certificateFiles ? `certificate from ${certificateFiles.dir}` : 'self-signed certificate'}, TokenReview and SubjectAccessReview`
        : 'plain http, no authentication'
      : 'off',
    entra: {
      hubHosts: entra.hubHosts,
      identityNamespaces: entra.identityNamespaces,
      authorityHost: entra.authorityHost ?? 'https://login.microsoftonline.com',
    },
  });
  try {
    await Promise.race([controller.startInformers(), stopped]);
    if (!shutdown.stop.drain.aborted) {
      logger.info('caches synced');
      if (elector) {
        controller.metrics.setLeader(lease.name, false);
        elector.start();
      } else {
        controller.startWorkers();
        sharding?.start();
      }
      await stopped;
    }
    logger.info('stopping: finishing reconciles in progress');
    // Each hub let go and its Lease released first, so that the other replicas take them at once.
    await sharding?.stop();
    await controller.stop();
    await elector?.stop();
    stopWatchingCertificate();
    for (const server of servers) await server.close();
    logger.info('stopped');
    return 0;
  } finally {
    shutdown.dispose();
  }
}
