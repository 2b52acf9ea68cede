// reconcile(hub): the controller's one unit of work, as a list of named phases. Read the IoTHub and its Secret,
// validate every SecurityModuleConfig of the hub with the shared validator, keep finalizers, run one step of the
// hub's engine session, write the status of every object that changed, and record the transitions as Events.
// It knows nothing of queues or watches: it reads caches and says when it wants to run again.
import type { IoTHubStatus, SecurityModuleConfigStatus } from '../api/generated/types.js';
import { parseKubeDuration } from '../api/kube-duration.js';
import type { StepOutcome } from '../engine/hub-session.js';
import { isHubError, needsChangeToRecover } from '../hub/errors.js';
import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import {
  blockedConditions,
  blockedSecurityModuleConfigStatus,
  iotHubStatus,
  securityModuleConfigStatus,
} from '../planner/kubernetes-status.js';
import { readOwnership } from '../planner/ownership.js';
import { toPlannedResource } from '../planner/resource-input.js';
import type { PlannedResource } from '../planner/types.js';
import { formatFieldPath } from '../validation/issues.js';
import { validateResource } from '../validation/validate-resource.js';
import type { EventRecorder } from './event-recorder.js';
import type { HubConnections } from './hub-connections.js';
import { resolveHubCredentials, type SecretLookup } from './hub-credentials.js';
import {
  type ApiObject,
  asWritten,
  type ConfigObject,
  FINALIZER,
  type HubObject,
  hubKeyOf,
  objectKey,
  RECONCILE_REQUESTED_ANNOTATION,
  splitKey,
} from './kube-objects.js';
import type { KubeWriter } from './kube-writer.js';
import { configEvents, hubEvents } from './status-events.js';
import type { WorkResult } from './work-queue.js';

export interface ObjectCache<T> {
  get(namespace: string, name: string): T | undefined;
  list(namespace: string): readonly T[];
}

export interface HubReconcilerDeps {
  hubs: ObjectCache<HubObject>;
  configs: ObjectCache<ConfigObject>;
  secrets: SecretLookup;
  writer: KubeWriter;
  events: EventRecorder;
  connections: HubConnections;
  logger: Logger;
  manager: string;
  metrics?: OperatorMetrics;
  clock?: () => number;
}

/** Why a hub cannot be used right now, and whether waiting can help or only a change will. */
interface HubProblem {
  reason: string;
  message: string;
  stalled: boolean;
}

/** The SecurityModuleConfigs of one hub, sorted for the step. */
interface PlanInputs {
  resources: PlannedResource[];
  held: Map<string, number>;
  departing: Map<string, 'Remove' | 'Retain'>;
  invalid: Map<string, string>;
}

const DEFAULT_RESYNC_MS = 10 * 60_000;
const MAX_MESSAGE_ISSUES = 5;

const isDeleting = (object: ApiObject) => Boolean(object.metadata.deletionTimestamp);

/** The reconcile-now annotation, when it asks for a reconcile the status has not acknowledged yet. */
function requestedAt(object: ApiObject): string | undefined {
  const value = object.metadata.annotations?.[RECONCILE_REQUESTED_ANNOTATION];
  const handled = (object.status as { lastHandledReconcileAt?: string } | undefined)?.lastHandledReconcileAt;
  return value !== undefined && value !== handled ? value : undefined;
}

/** The annotation's value to acknowledge in status (kept once handled). */
function handledAt(object: ApiObject): string | undefined {
  return (
    object.metadata.annotations?.[RECONCILE_REQUESTED_ANNOTATION] ??
    (object.status as { lastHandledReconcileAt?: string } | undefined)?.lastHandledReconcileAt
  );
}

export class HubReconciler {
  constructor(private readonly deps: HubReconcilerDeps) {}

  async reconcile(
    hubKey: string,
    options: { interrupt?: AbortSignal; signal?: AbortSignal } = {},
  ): Promise<WorkResult> {
    const { namespace, name } = splitKey(hubKey);
    const logger = this.deps.logger.child({ hub: hubKey });
    const configs = this.deps.configs.list(namespace).filter((c) => hubKeyOf(c) === hubKey);
    const failures: unknown[] = [];
    await this.ensureFinalizers(configs, failures);

    const hub = this.deps.hubs.get(namespace, name);
    if (!hub) {
      this.deps.connections.release(hubKey);
      await this.reportBlocked(
        configs,
        undefined,
        {
          reason: 'HubNotFound',
          message: `IoTHub ${hubKey} does not exist (a SecurityModuleConfig may only use an IoTHub of its own namespace)`,
          stalled: true,
        },
        failures,
      );
      return this.result(failures, undefined);
    }
    const problem = this.checkHub(hub);
    if (problem) {
      this.deps.connections.release(hubKey);
      await this.writeHubStatus(
        hub,
        iotHubStatus({ ok: false, ...problem }, this.lastCounts(hub), this.context(hub)),
        failures,
      );
      await this.reportBlocked(configs, hub, problem, failures);
      return this.result(failures, problem.stalled ? this.resyncMs(hub) : undefined);
    }

    const credentials = resolveHubCredentials(hub, this.deps.secrets);
    if (!credentials.ok) {
      const stalled = { reason: credentials.reason, message: credentials.message, stalled: true };
      this.deps.connections.release(hubKey);
      await this.writeHubStatus(
        hub,
        iotHubStatus({ ok: false, ...stalled }, this.lastCounts(hub), this.context(hub)),
        failures,
      );
      await this.reportBlocked(configs, hub, stalled, failures);
      return this.result(failures, undefined);
    }

    const inputs = this.planInputs(configs);
    await this.releaseRetained(configs, failures);
    let outcome: StepOutcome;
    try {
      const connection = this.deps.connections.connect(
        hubKey,
        hub,
        credentials.credentials,
        this.resyncMs(hub),
      );
      const fullRead = [hub, ...configs].some((o) => requestedAt(o) !== undefined);
      outcome = await connection.session.step(inputs.resources, {
        departing: inputs.departing,
        held: inputs.held,
        interrupt: options.interrupt,
        signal: options.signal,
        fullRead,
      });
    } catch (error) {
      if (options.signal?.aborted) return {};
      const unreachable = this.hubProblemOf(error, credentials.hostName);
      logger.warn('hub reconcile failed', { reason: unreachable.reason, error: unreachable.message });
      await this.writeHubStatus(
        hub,
        iotHubStatus({ ok: false, ...unreachable }, this.lastCounts(hub), this.context(hub)),
        failures,
      );
      await this.reportBlocked(configs, hub, unreachable, failures);
      if (unreachable.stalled) return this.result(failures, this.resyncMs(hub));
      return { failed: true };
    }

    await this.writeHubStatus(
      hub,
      iotHubStatus(
        {
          ok: true,
          message: `connected to ${credentials.hostName}: ${outcome.devices} devices, ${outcome.securityModules} with the security module`,
        },
        { devices: outcome.devices, securityModules: outcome.securityModules },
        this.context(hub),
      ),
      failures,
    );
    await this.reportConfigs(configs, inputs, outcome, failures);
    if (outcome.writesSucceeded || outcome.writesFailed)
      logger.info('hub reconciled', {
        read: outcome.read,
        writes: outcome.writesSucceeded,
        failedWrites: outcome.writesFailed,
        nextStepInMs: outcome.nextStepInMs,
      });
    return this.result(failures, outcome.nextStepInMs);
  }

  // --- phases -------------------------------------------------------------------------------------------------

  /** Every SecurityModuleConfig carries the finalizer before anything is written for it. */
  private async ensureFinalizers(configs: readonly ConfigObject[], failures: unknown[]): Promise<void> {
    for (const config of configs) {
      if (isDeleting(config) || config.metadata.finalizers?.includes(FINALIZER)) continue;
      try {
        await this.deps.writer.addFinalizer('SecurityModuleConfig', config);
      } catch (error) {
        failures.push(error);
      }
    }
  }

  /** The IoTHub itself as the shared validator judges it (a Basic tier has no twins). */
  private checkHub(hub: HubObject): HubProblem | undefined {
    const errors = validateResource(asWritten(hub)).issues.filter((i) => i.severity === 'error');
    if (errors.length === 0) return undefined;
    const tier = errors.find((i) => formatFieldPath(i.path) === 'spec.tier');
    return {
      reason: tier ? 'TierWithoutTwins' : 'InvalidSpec',
      message: errors
        .slice(0, MAX_MESSAGE_ISSUES)
        .map((i) => `${formatFieldPath(i.path)}: ${i.message}`)
        .join('; '),
      stalled: true,
    };
  }

  /** Valid resources to plan; invalid ones held as they are; deleting ones departing by their policy. */
  private planInputs(configs: readonly ConfigObject[]): PlanInputs {
    const inputs: PlanInputs = { resources: [], held: new Map(), departing: new Map(), invalid: new Map() };
    for (const config of configs) {
      const key = objectKey(config.metadata);
      if (isDeleting(config)) {
        inputs.departing.set(key, config.spec?.deletionPolicy === 'Retain' ? 'Retain' : 'Remove');
        continue;
      }
      const validation = validateResource(asWritten(config));
      const errors = validation.issues.filter((i) => i.severity === 'error');
      if (errors.length || !validation.resource) {
        const priority = config.spec?.priority;
        inputs.held.set(key, Number.isInteger(priority) ? (priority as number) : 0);
        inputs.invalid.set(
          key,
          `the spec is invalid, nothing is written for it and the settings it set stay as they are: ${errors
            .slice(0, MAX_MESSAGE_ISSUES)
            .map((i) => `${formatFieldPath(i.path)}: ${i.message}`)
            .join(
              '; ',
            )}${errors.length > MAX_MESSAGE_ISSUES ? `; and ${errors.length - MAX_MESSAGE_ISSUES} more` : ''}`,
        );
        continue;
      }
      inputs.resources.push(toPlannedResource(validation.resource as ConfigObject as never));
    }
    return inputs;
  }

  /** deletionPolicy Retain lets go at once, whether or not the hub can be reached. */
  private async releaseRetained(configs: readonly ConfigObject[], failures: unknown[]): Promise<void> {
    for (const config of configs) {
      if (!isDeleting(config) || config.spec?.deletionPolicy !== 'Retain') continue;
      try {
        await this.deps.writer.removeFinalizer('SecurityModuleConfig', config);
      } catch (error) {
        failures.push(error);
      }
    }
  }

  /** Status of every SecurityModuleConfig after a step; departing ones let go once their settings are gone. */
  private async reportConfigs(
    configs: readonly ConfigObject[],
    inputs: PlanInputs,
    outcome: StepOutcome,
    failures: unknown[],
  ): Promise<void> {
    const context = (config: ConfigObject) => this.context(config);
    for (const config of configs) {
      const key = objectKey(config.metadata);
      if (isDeleting(config)) {
        if (config.spec?.deletionPolicy === 'Retain') continue;
        const left = this.devicesStillOwnedBy(key, outcome);
        if (left === 0) {
          try {
            await this.deps.writer.removeFinalizer('SecurityModuleConfig', config);
          } catch (error) {
            failures.push(error);
          }
          continue;
        }
        const conditions = blockedConditions(
          'Deleting',
          `removing the settings it manages from ${left} device twin${left === 1 ? '' : 's'} before the finalizer goes (set spec.deletionPolicy: Retain to leave them and let go now)`,
          { stalled: false },
        );
        await this.writeConfigStatus(
          config,
          blockedSecurityModuleConfigStatus(conditions, config.status, context(config)),
          failures,
        );
        continue;
      }
      const invalid = inputs.invalid.get(key);
      if (invalid) {
        const conditions = blockedConditions('InvalidSpec', invalid, { stalled: true });
        await this.writeConfigStatus(
          config,
          blockedSecurityModuleConfigStatus(conditions, config.status, context(config)),
          failures,
        );
        continue;
      }
      const report = outcome.finalPlan.reports.get(key);
      if (report)
        await this.writeConfigStatus(config, securityModuleConfigStatus(report, context(config)), failures);
    }
  }

  /** Status of the hub's resources when the hub cannot be used; deleting ones wait, or go (Retain). */
  private async reportBlocked(
    configs: readonly ConfigObject[],
    hub: HubObject | undefined,
    problem: HubProblem,
    failures: unknown[],
  ): Promise<void> {
    await this.releaseRetained(configs, failures);
    for (const config of configs) {
      if (isDeleting(config) && config.spec?.deletionPolicy === 'Retain') continue;
      const message = isDeleting(config)
        ? `waiting to remove the settings it manages: ${problem.message}; set spec.deletionPolicy: Retain to leave them on the twins and let go now`
        : hub
          ? `hub ${objectKey(hub.metadata)} is not Ready (${problem.reason}): ${problem.message}`
          : problem.message;
      const reason = isDeleting(config) ? 'DeletionBlocked' : hub ? problem.reason : 'HubNotFound';
      const conditions = blockedConditions(reason, message, { stalled: problem.stalled });
      await this.writeConfigStatus(
        config,
        blockedSecurityModuleConfigStatus(conditions, config.status, this.context(config)),
        failures,
      );
    }
  }

  // --- helpers --------------------------------------------------------------------------------------------------

  private async writeHubStatus(hub: HubObject, status: IoTHubStatus, failures: unknown[]): Promise<void> {
    this.deps.metrics?.recordStatus('IoTHub', hub.metadata.namespace, hub.metadata.name, status);
    try {
      if (await this.deps.writer.writeStatus('IoTHub', hub, status))
        for (const event of hubEvents(hub.status, status))
          await this.deps.events.record({ kind: 'IoTHub', metadata: hub.metadata }, event);
    } catch (error) {
      failures.push(error);
    }
  }

  private async writeConfigStatus(
    config: ConfigObject,
    status: SecurityModuleConfigStatus,
    failures: unknown[],
  ): Promise<void> {
    this.deps.metrics?.recordStatus(
      'SecurityModuleConfig',
      config.metadata.namespace,
      config.metadata.name,
      status,
    );
    try {
      if (await this.deps.writer.writeStatus('SecurityModuleConfig', config, status))
        for (const event of configEvents(config.status, status))
          await this.deps.events.record({ kind: 'SecurityModuleConfig', metadata: config.metadata }, event);
    } catch (error) {
      failures.push(error);
    }
  }

  private context(object: ApiObject) {
    return {
      previous: object.status,
      generation: object.metadata.generation,
      now: new Date((this.deps.clock ?? Date.now)()),
      lastHandledReconcileAt: handledAt(object),
    };
  }

  private lastCounts(hub: HubObject): { devices?: number; securityModules?: number } {
    return { devices: hub.status?.devices, securityModules: hub.status?.securityModules };
  }

  private resyncMs(hub: HubObject): number {
    return parseKubeDuration(hub.spec.resyncInterval ?? '10m') ?? DEFAULT_RESYNC_MS;
  }

  /** Device twins whose ownership record (this manager's) still names `key`. */
  private devicesStillOwnedBy(key: string, outcome: StepOutcome): number {
    let count = 0;
    for (const twin of outcome.snapshot.modules.values()) {
      const ownership = readOwnership(twin.tags, this.deps.manager);
      if (ownership.revisions.has(key) || [...ownership.owners.values()].includes(key)) count++;
    }
    return count;
  }

  private hubProblemOf(error: unknown, hostName: string): HubProblem {
    const message = (error as Error)?.message ?? String(error);
    if (isHubError(error, 'Unauthorized'))
      return {
        reason: 'Unauthorized',
        message: `hub ${hostName} refused the credentials: ${message}`,
        stalled: true,
      };
    if (needsChangeToRecover(error)) return { reason: 'InvalidConnectionString', message, stalled: true };
    return {
      reason: 'HubUnreachable',
      message: `hub ${hostName} cannot be reached: ${message}`,
      stalled: false,
    };
  }

  private result(failures: unknown[], requeueAfterMs: number | undefined): WorkResult {
    if (failures.length) return { failed: true };
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }
}
