// The controller: informers for IoTHubs, SecurityModuleConfigs and TwinConfigs feed a work queue keyed by hub
// (`namespace/name`), whose workers run the hub reconciler. An event on a SecurityModuleConfig enqueues its hub
// (and interrupts a reconcile of it in progress, so the change is planned at once); an IoTHub changing enqueues
// it. Secrets are not watched (that would take the right to list and watch every Secret of the cluster): the ones
// IoTHubs name are read by GET at each reconcile, and read again every `secretRecheckMs`, a changed one enqueuing
// the hubs that use it (secret-reader.ts). An update is worth a reconcile when it changed the object's generation,
// deletion, reconcile request or hub, told from the object as it was (the informer hands it with the update, as
// client-go's do): our own status writes and finalizers, and others' labels, enqueue nothing. What is kept between
// reconciles lives in the ControllerMemory (controller-memory.ts).
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { OperatorMetrics } from '../observability/metrics.js';
import { drainAlso } from '../runtime/stop.js';
import { StopController } from '../runtime/stop-controller.js';
import { ConfigMapReader } from './config-maps.js';
import { ControllerMemory, type ControllerMemoryOptions } from './controller-memory.js';
import type { EntraSettings } from './entra-access.js';
import { EventRecorder } from './event-recorder.js';
import type { HubOwnership } from './hub-ownership.js';
import { HubReconciler } from './hub-reconciler.js';
import { makeKubeApi } from './kube-http.js';
import {
  API_GROUP,
  API_VERSION,
  type ApiKind,
  type ConfigObject,
  configKindOf,
  type HubObject,
  hubKeyOf,
  objectKey,
  PLURALS,
  RECONCILE_REQUESTED_ANNOTATION,
} from './kube-objects.js';
import { isApiServerUnreachable, KubeWriter } from './kube-writer.js';
import {
  type CollectionSource,
  NamespacedInformers,
  type NamespacedInformersOptions,
  type ObjectChange,
} from './namespaced-informers.js';
import { SecretReader } from './secret-reader.js';
import { WorkQueue } from './work-queue.js';

/** How often the Secrets IoTHubs name are read again between reconciles (kubelet's refresh of a mounted Secret). */
export const DEFAULT_SECRET_RECHECK_MS = 60_000;

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** Namespaces to watch; empty: all. */
  namespaces: readonly string[];
  /**
   * At most this many hubs reconciled at once (controller-runtime's MaxConcurrentReconciles). None by default: each
   * hub's calls are paced by its own rate limiter, and one event loop is all the hubs share, so every hub that is
   * due runs (see work-queue.ts); a cap makes a fleet of hubs converge in waves.
   */
  maxConcurrentHubs?: number;
  /** The manager id recorded in the twins' ownership record. */
  manager: string;
  logger: Logger;
  /** This process, for Events (the pod name in a cluster). */
  instance?: string;
  informers?: NamespacedInformersOptions['tuning'];
  session?: ControllerMemoryOptions['session'];
  client?: ControllerMemoryOptions['client'];
  /** Where the controller's metrics go (a registry of their own by default). */
  metrics?: OperatorMetrics;
  /** How long a stop waits for reconciles in progress before abandoning their hub calls (10 s). */
  shutdownGraceMs?: number;
  /** With hubs sharded across replicas, the hubs this one may reconcile (default: all). */
  ownership?: HubOwnership;
  /** How often the Secrets the hubs read are read again, to notice a rotation without a watch (1 minute). */
  secretRecheckMs?: number;
  /** What IoTHubs may do with Microsoft Entra ID: hosts, namespaces, authority (entra-access.ts). */
  entra?: EntraSettings;
}

function customSource(kubeConfig: KubeConfig, kind: ApiKind): CollectionSource {
  const api = makeKubeApi(kubeConfig, CustomObjectsApi);
  const plural = PLURALS[kind];
  const base = `/apis/${API_GROUP}/${API_VERSION}`;
  return {
    name: `${kind}s`,
    path: (namespace) => (namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`),
    list: (namespace) =>
      (namespace
        ? api.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural })
        : api.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural })) as never,
  };
}

/**
 * What of an object, when it changes, is worth a reconcile: its spec (generation), its deletion, a reconcile
 * request, the hub it names. Not its status (ours), its labels or our finalizer.
 */
function trigger(object: HubObject | ConfigObject): string {
  return JSON.stringify([
    object.metadata.uid,
    object.metadata.generation,
    object.metadata.deletionTimestamp ?? null,
    object.metadata.annotations?.[RECONCILE_REQUESTED_ANNOTATION] ?? null,
    (object.spec as { hubRef?: { name?: string } } | undefined)?.hubRef?.name ?? null,
  ]);
}

/** An update that changed nothing worth a reconcile (client-go's predicates: generation, annotation changed). */
function unchanged<T extends HubObject | ConfigObject>(change: ObjectChange<T>): boolean {
  return (
    change.event === 'update' &&
    change.previous !== undefined &&
    trigger(change.previous) === trigger(change.object)
  );
}

export class Controller {
  readonly hubs: NamespacedInformers<HubObject & KubernetesObject>;
  readonly configs: NamespacedInformers<ConfigObject & KubernetesObject>;
  readonly twinConfigs: NamespacedInformers<ConfigObject & KubernetesObject>;
  readonly secrets: SecretReader;
  readonly writer: KubeWriter;
  readonly events: EventRecorder;
  /** What is kept between reconciles: per hub, and the statuses written. */
  readonly memory: ControllerMemory;
  readonly metrics: OperatorMetrics;
  private readonly reconciler: HubReconciler;
  /** The workers of the current term (leadership, or the whole run without leader election). */
  private term?: { queue: WorkQueue; stop: StopController; recheck: NodeJS.Timeout };
  /** A term being stopped: a second signal can still abandon its hub calls. */
  private draining?: { queue: WorkQueue; stop: StopController };

  constructor(private readonly options: ControllerOptions) {
    const { kubeConfig, logger } = options;
    const informerOptions = {
      kubeConfig,
      namespaces: options.namespaces,
      logger,
      tuning: options.informers,
      onRestored: () => this.apiServerRestored(),
    };
    this.hubs = new NamespacedInformers(customSource(kubeConfig, 'IoTHub'), informerOptions);
    this.configs = new NamespacedInformers(customSource(kubeConfig, 'SecurityModuleConfig'), informerOptions);
    this.twinConfigs = new NamespacedInformers(customSource(kubeConfig, 'TwinConfig'), informerOptions);
    this.secrets = new SecretReader(makeKubeApi(kubeConfig, CoreV1Api), { logger });
    this.writer = new KubeWriter(makeKubeApi(kubeConfig, CustomObjectsApi), logger);
    this.events = new EventRecorder(makeKubeApi(kubeConfig, CoreV1Api), {
      instance: options.instance,
      logger,
    });
    this.memory = new ControllerMemory({
      manager: options.manager,
      logger,
      session: options.session,
      client: options.client,
      ownership: options.ownership,
    });
    this.metrics = options.metrics ?? new OperatorMetrics(this.memory);
    this.reconciler = new HubReconciler({
      hubs: this.hubs,
      // The resources of a hub, of both kinds.
      configs: {
        get: (namespace, name) => this.configs.get(namespace, name) ?? this.twinConfigs.get(namespace, name),
        list: (namespace) => [...this.configs.list(namespace), ...this.twinConfigs.list(namespace)],
      },
      configMaps: new ConfigMapReader(makeKubeApi(kubeConfig, CoreV1Api), logger),
      secrets: this.secrets,
      writer: this.writer,
      events: this.events,
      memory: this.memory,
      logger,
      manager: options.manager,
      metrics: this.metrics,
      enqueue: (key) => this.enqueue(key, false),
      entra: options.entra,
    });
    this.route();
  }

  /** Whether every informer has listed its collection once. */
  get synced(): boolean {
    return this.informers.every((i) => i.synced);
  }

  /** Starts the informers and resolves when their caches are filled (standbys keep theirs warm). */
  async startInformers(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
    await Promise.all(this.informers.map((i) => i.waitForSync()));
  }

  /** The current term's work queue (undefined when not reconciling). */
  get queue(): WorkQueue | undefined {
    return this.term?.queue;
  }

  /** Starts reconciling (the leader does): every hub known now is queued. */
  startWorkers(): void {
    if (this.term) return;
    const { logger } = this.options;
    const queue = new WorkQueue({
      concurrency: this.options.maxConcurrentHubs,
      observer: this.metrics.queueObserver(),
      onError: (key, error) =>
        logger.error('reconcile failed', { hub: key, error: (error as Error).message }),
      waitsForApiServer: isApiServerUnreachable,
    });
    const stop = new StopController();
    this.term = { queue, stop, recheck: this.recheckSecretsEvery(queue) };
    const ownership = this.options.ownership;
    queue.start((key, { drain }) => {
      const run = drainAlso(stop.stop, drain);
      if (!ownership) return this.reconciler.reconcile(key, run);
      // Queued while owned, let go since: another replica answers for it now.
      if (!ownership.owns(key)) return Promise.resolve({ kind: 'done' });
      return ownership.guard(key, run, (guarded) => this.reconciler.reconcile(key, guarded));
    });
    for (const key of this.hubKeys()) this.enqueue(key, false);
  }

  /** Queues hub `key` (a replica that has just taken the hub's lease). */
  reconcileHub(key: string): void {
    this.enqueue(key, false);
  }

  /**
   * Stops reconciling: no new work; reconciles in progress stop at their next safe point (no new twin write),
   * and their hub calls are abandoned after `graceMs` (0: at once, as when leadership is lost).
   */
  async stopWorkers(graceMs = this.options.shutdownGraceMs ?? 10_000): Promise<void> {
    const term = this.term;
    if (!term) return;
    this.term = undefined;
    clearInterval(term.recheck);
    this.draining = term;
    term.stop.drain(new Error('stopping the workers'), graceMs);
    await term.queue.shutdown(graceMs + 5000);
    term.stop.settle();
    this.draining = undefined;
  }

  /** Abandons the hub calls of reconciles in progress now (a second SIGTERM/SIGINT). */
  abortWork(): void {
    (this.term ?? this.draining)?.stop.abort(new Error('abandoning the reconciles in progress'));
  }

  /** Stops the workers (within the grace period), forgets the hubs (closing their connections), stops the informers. */
  async stop(): Promise<void> {
    await this.stopWorkers();
    this.memory.closeAll();
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /**
   * An informer got through after failures: the API server is back. The other informers, and the hubs whose
   * reconcile failed because it could not be reached (their status writes), need not wait out their backoffs,
   * which after an outage of a minute can be as long again: they try now.
   */
  private apiServerRestored(): void {
    for (const informers of this.informers) informers?.retryNow();
    this.term?.queue.retryWaitingForApiServer();
  }

  /** Every hub known from the caches: the IoTHubs, and the hubs the resources name. */
  hubKeys(): Set<string> {
    const keys = new Set<string>();
    for (const hub of this.hubs.all()) keys.add(objectKey(hub.metadata));
    for (const config of [...this.configs.all(), ...this.twinConfigs.all()]) {
      const key = hubKeyOf(config);
      if (key) keys.add(key);
    }
    return keys;
  }

  /**
   * Reads the hubs' Secrets again every `secretRecheckMs` while this term lasts (one pass at a time), queuing the hubs
   * whose Secret changed: a rotated key is used, a deleted Secret or key reported, within that period.
   */
  private recheckSecretsEvery(queue: WorkQueue): NodeJS.Timeout {
    let running = false;
    const owns = (key: string) => this.options.ownership?.owns(key) ?? true;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.secrets
        .recheck((key) => {
          if (this.term?.queue === queue) this.enqueue(key, false);
        }, owns)
        .finally(() => {
          running = false;
        });
    }, this.options.secretRecheckMs ?? DEFAULT_SECRET_RECHECK_MS);
    timer.unref();
    return timer;
  }

  private enqueue(key: string | undefined, interrupt: boolean): void {
    if (key && (this.options.ownership?.owns(key) ?? true)) this.term?.queue.add(key, { interrupt });
  }

  /** Every informer, in the order they start. */
  private get informers() {
    return [this.hubs, this.configs, this.twinConfigs];
  }

  private route(): void {
    const onConfig = (change: ObjectChange<ConfigObject & KubernetesObject>) => {
      if (unchanged(change)) return;
      const config = change.object;
      if (change.event === 'delete') {
        this.memory.forgetObject(config.metadata.uid);
        this.metrics.recordStatus(
          configKindOf(config),
          config.metadata.namespace,
          config.metadata.name,
          undefined,
        );
      }
      // Its hub now, and the one it named before (a move: the old hub lets go of its settings).
      this.enqueue(hubKeyOf(config), true);
      const before = change.previous && hubKeyOf(change.previous);
      if (before !== hubKeyOf(config)) this.enqueue(before, true);
    };
    this.configs.onChange(onConfig);
    this.twinConfigs.onChange(onConfig);

    this.hubs.onChange((change) => {
      if (unchanged(change)) return;
      const hub = change.object;
      const key = objectKey(hub.metadata);
      if (change.event === 'delete') {
        // Its backoff goes; the reconcile that finds it gone tells its resources and drops what was kept for it
        // (here, a reconcile of it may still be running).
        this.memory.forgetObject(hub.metadata.uid);
        this.term?.queue.remove(key);
        this.metrics.recordStatus('IoTHub', hub.metadata.namespace, hub.metadata.name, undefined);
      }
      this.enqueue(key, true);
    });
  }
}
