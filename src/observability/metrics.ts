// The operator's Prometheus metrics (prom-client): the families users know from controller-runtime (reconciles,
// the work queue, leader election) and the hub's (calls by class and result, 429s, rate-limiter waits, devices by
// state per resource). Hub counters are read from the clients' telemetry at scrape time.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RateClassState } from '../hub/rate-limiter.js';
import type { HubTelemetrySnapshot } from '../hub/telemetry.js';
import { twinSchemaCompilations } from '../twin-models/index.js';

export const CONTROLLER = 'iothub';
export const QUEUE = 'iothub';

/** What the metrics read from the live hub connections at each scrape. */
export interface HubMetricsSource {
  /** Telemetry per IoTHub resource (`namespace/name`), summed over the clients it had (counters never go back). */
  telemetry(): Map<string, HubTelemetrySnapshot>;
  rateLimits(): Map<string, Record<string, RateClassState>>;
}

const DEVICE_STATES = [
  'targeted',
  'applied',
  'converged',
  'pending',
  'offline',
  'stalled',
  'failed',
  'conflicting',
] as const;

/** A TwinConfig's devices can also refuse what they are sent. */
const statesOf = (kind: string): readonly string[] =>
  kind === 'TwinConfig' ? [...DEVICE_STATES, 'rejected'] : DEVICE_STATES;

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'],
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: ['name', 'controller'],
    registers: [this.registry],
  });
  readonly queueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name', 'controller'],
    registers: [this.registry],
  });
  readonly queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name', 'controller'],
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 60],
    registers: [this.registry],
  });
  readonly workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes',
    labelNames: ['name', 'controller'],
    buckets: [0.005, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly queueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name', 'controller'],
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'leader_election_master_status',
    help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
    labelNames: ['name'],
    registers: [this.registry],
  });
  readonly shardOwned = new Gauge({
    name: 'iot_security_hub_shard_owned',
    help: 'With hubs sharded across replicas: 1 for each hub (IoTHub resource) whose Lease this replica holds',
    labelNames: ['hub'],
    registers: [this.registry],
  });
  readonly shardHubs = new Gauge({
    name: 'iot_security_shard_hubs',
    help: 'With hubs sharded across replicas: how many hubs this replica holds',
    registers: [this.registry],
  });
  readonly shardMembers = new Gauge({
    name: 'iot_security_shard_members',
    help: 'With hubs sharded across replicas: the live replicas sharing the hubs, as this one sees them',
    registers: [this.registry],
  });
  readonly resourceDevices = new Gauge({
    name: 'iot_security_resource_devices',
    help: 'Devices of a SecurityModuleConfig by state, at its last reconcile',
    labelNames: ['namespace', 'name', 'state'],
    registers: [this.registry],
  });
  /** A family of its own: the SecurityModuleConfig family's labels stay as dashboards know them. */
  readonly twinConfigDevices = new Gauge({
    name: 'iot_security_twinconfig_devices',
    help: 'Devices of a TwinConfig by state, at its last reconcile',
    labelNames: ['namespace', 'name', 'state'],
    registers: [this.registry],
  });
  readonly resourceReady = new Gauge({
    name: 'iot_security_resource_ready',
    help: 'Whether a SecurityModuleConfig, TwinConfig or IoTHub (kind label) is Ready (1) or not (0), with the Ready reason',
    labelNames: ['kind', 'namespace', 'name', 'reason'],
    registers: [this.registry],
  });
  readonly twinSchemaCompilations = new Counter({
    name: 'iot_security_twin_schema_compilations_total',
    help: "JSON Schemas and DTDL models compiled to judge TwinConfigs (not taken from the cache); flat while nothing changes: a verdict is kept until its TwinConfig's spec or ConfigMap changes",
    registers: [this.registry],
    collect() {
      this.reset();
      this.inc(twinSchemaCompilations());
    },
  });
  private readonly readyReasons = new Map<string, string>();

  constructor(hubs?: HubMetricsSource) {
    if (hubs) this.registerHubMetrics(hubs);
  }

  /** The work queue's observer: controller-runtime's workqueue families. */
  queueObserver() {
    const labels = { name: QUEUE, controller: CONTROLLER };
    return {
      added: () => this.queueAdds.inc(labels),
      depth: (depth: number) => this.queueDepth.set(labels, depth),
      started: (_key: string, waitedMs: number) => this.queueDuration.observe(labels, waitedMs / 1000),
      finished: (_key: string, tookMs: number, outcome: 'success' | 'error' | 'requeue_after') => {
        this.workDuration.observe(labels, tookMs / 1000);
        this.reconcileTime.observe({ controller: CONTROLLER }, tookMs / 1000);
        this.reconcileTotal.inc({ controller: CONTROLLER, result: outcome });
        if (outcome === 'error') this.reconcileErrors.inc({ controller: CONTROLLER });
      },
      retried: () => this.queueRetries.inc(labels),
    };
  }

  setLeader(lease: string, leading: boolean): void {
    this.leader.set({ name: lease }, leading ? 1 : 0);
  }

  /** The hubs this replica holds, and the replicas it shares them with. */
  setShard(hubs: readonly string[], members: number): void {
    this.shardOwned.reset();
    for (const hub of hubs) this.shardOwned.set({ hub }, 1);
    this.shardHubs.set(hubs.length);
    this.shardMembers.set(members);
  }

  /** A resource's status as last written (undefined: the resource is gone). */
  recordStatus(
    kind: 'IoTHub' | 'SecurityModuleConfig' | 'TwinConfig',
    namespace: string,
    name: string,
    status: { conditions?: { type: string; status: string; reason: string }[] } | undefined,
  ): void {
    const key = `${kind}/${namespace}/${name}`;
    const previousReason = this.readyReasons.get(key);
    if (previousReason !== undefined)
      this.resourceReady.remove({ kind, namespace, name, reason: previousReason });
    const devices = this.devicesFamily(kind);
    if (devices) for (const state of statesOf(kind)) devices.remove({ namespace, name, state });
    if (!status) {
      this.readyReasons.delete(key);
      return;
    }
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    const reason = ready?.reason ?? 'Unknown';
    this.readyReasons.set(key, reason);
    this.resourceReady.set({ kind, namespace, name, reason }, ready?.status === 'True' ? 1 : 0);
    if (!devices) return;
    for (const state of statesOf(kind)) {
      const count = (status as Record<string, unknown>)[`${state}Devices`];
      if (typeof count === 'number') devices.set({ namespace, name, state }, count);
    }
  }

  private devicesFamily(kind: string): Gauge<'namespace' | 'name' | 'state'> | undefined {
    if (kind === 'SecurityModuleConfig') return this.resourceDevices;
    if (kind === 'TwinConfig') return this.twinConfigDevices;
    return undefined;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private registerHubMetrics(hubs: HubMetricsSource): void {
    const registers = [this.registry];
    new Counter({
      name: 'iot_security_hub_requests_total',
      help: 'Requests sent to a hub, by IoTHub resource (namespace/name), operation class and answer (HTTP status, or network when none came)',
      labelNames: ['hub', 'class', 'code'],
      registers,
      collect() {
        this.reset();
        for (const [hub, snapshot] of hubs.telemetry())
          for (const [cls, counters] of Object.entries(snapshot))
            for (const [code, n] of Object.entries(counters.answers)) this.inc({ hub, class: cls, code }, n);
      },
    });
    new Counter({
      name: 'iot_security_hub_calls_total',
      help: 'Hub calls as the engine saw them (after retries), by operation class and result (ok or the error kind)',
      labelNames: ['hub', 'class', 'result'],
      registers,
      collect() {
        this.reset();
        for (const [hub, snapshot] of hubs.telemetry())
          for (const [cls, counters] of Object.entries(snapshot))
            for (const [result, n] of Object.entries(counters.calls))
              this.inc({ hub, class: cls, result }, n ?? 0);
      },
    });
    new Counter({
      name: 'iot_security_hub_throttled_total',
      help: 'Requests a hub answered 429 (throttled), by operation class',
      labelNames: ['hub', 'class'],
      registers,
      collect() {
        this.reset();
        for (const [hub, snapshot] of hubs.telemetry())
          for (const [cls, counters] of Object.entries(snapshot))
            this.inc({ hub, class: cls }, counters.throttled);
      },
    });
    new Counter({
      name: 'iot_security_hub_rate_limiter_wait_seconds_total',
      help: 'Time calls waited for the client-side rate limiter, by hub and operation class',
      labelNames: ['hub', 'class'],
      registers,
      collect() {
        this.reset();
        for (const [hub, snapshot] of hubs.telemetry())
          for (const [cls, counters] of Object.entries(snapshot))
            this.inc({ hub, class: cls }, counters.rateLimiterWaitSeconds);
      },
    });
    new Gauge({
      name: 'iot_security_hub_rate_limit_per_second',
      help: 'The rate the client allows itself now (below nominal after 429s), by hub and operation class',
      labelNames: ['hub', 'class', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const [hub, classes] of hubs.rateLimits())
          for (const [cls, state] of Object.entries(classes)) {
            this.set({ hub, class: cls, kind: 'current' }, state.currentPerSecond);
            this.set({ hub, class: cls, kind: 'nominal' }, state.nominalPerSecond);
          }
      },
    });
  }
}
