// reconcile(hub): the controller's one unit of work, as a list of named phases. Read the IoTHub and its Secret,
// validate every SecurityModuleConfig of the hub with the shared validator, keep finalizers, run one step of the
// hub's engine session, write the status of every object that changed, and record the transitions as Events.
// It knows nothing of queues or watches: it reads caches and says when it wants to run again.
//
// Which resources a hub answers for: those that point at it, and those that pointed at it before and may still
// have settings on its twins (status.hubs): these are taken off its twins by their deletionPolicy. A deleted
// IoTHub (it carries the finalizer too) applies every resource's deletionPolicy to its twins before it goes.

import type { SecurityModuleConfig } from '../api/generated/types.js';
import { parseKubeDuration } from '../api/kube-duration.js';
import type { HubSession, StepOutcome } from '../engine/hub-session.js';
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
import { drainAlso, stopOnAbort } from '../runtime/stop.js';
import { formatFieldPath, type ValidationIssue } from '../validation/issues.js';
import { printable } from '../validation/printable-text.js';
import { validateResource } from '../validation/validate-resource.js';
import type { EventRecorder } from './event-recorder.js';
import type { HubConnections } from './hub-connections.js';
import { resolveHubCredentials, type SecretLookup } from './hub-credentials.js';
import {
  asWritten,
  type ConfigObject,
  FINALIZER,
  type HubObject,
  objectKey,
  splitKey,
} from './kube-objects.js';
import { KubeWriteError, type KubeWriter } from './kube-writer.js';
import { reconcileRequested, StatusReporter } from './status-reporter.js';
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
  /** Queue another hub (a resource moved away from this one was cleaned: its own hub may now let it go). */
  enqueue?: (hubKey: string) => void;
  clock?: () => number;
}

/** Why a hub cannot be used right now, and whether waiting can help or only a change will. */
interface HubProblem {
  reason: string;
  message: string;
  stalled: boolean;
}

interface PlanInputs {
  resources: PlannedResource[];
  held: Map<string, number>;
  departing: Map<string, 'Remove' | 'Retain'>;
  /** Why a resource of this hub is held, by key: an invalid spec, or no finalizer yet. */
  heldBecause: Map<string, { reason: string; message: string; stalled: boolean }>;
}

const DEFAULT_RESYNC_MS = 10 * 60_000;
const MAX_MESSAGE_ISSUES = 5;

const isDeleting = (object: { metadata: { deletionTimestamp?: string } }) =>
  Boolean(object.metadata.deletionTimestamp);
const hasFinalizer = (object: { metadata: { finalizers?: string[] } }) =>
  Boolean(object.metadata.finalizers?.includes(FINALIZER));

/** The issues in one line for a condition or Event; control characters in echoed values shown escaped. */
function issuesText(issues: readonly ValidationIssue[]): string {
  const shown = issues.slice(0, MAX_MESSAGE_ISSUES).map((i) => `${formatFieldPath(i.path)}: ${i.message}`);
  const more = issues.length > MAX_MESSAGE_ISSUES ? `; and ${issues.length - MAX_MESSAGE_ISSUES} more` : '';
  return printable(`${shown.join('; ')}${more}`);
}

export class HubReconciler {
  private readonly status: StatusReporter;
  /** `uid@hub`: resources this process saw gone from a hub's twins they no longer point at. */
  private readonly cleaned = new Set<string>();

  constructor(private readonly deps: HubReconcilerDeps) {
    this.status = new StatusReporter(deps);
  }

  async reconcile(
    hubKey: string,
    options: { interrupt?: AbortSignal; signal?: AbortSignal } = {},
  ): Promise<WorkResult> {
    const { namespace, name } = splitKey(hubKey);
    const logger = this.deps.logger.child({ hub: hubKey });
    const inNamespace = this.deps.configs.list(namespace);
    const current = inNamespace.filter((c) => c.spec?.hubRef?.name === name);
    const away = inNamespace.filter((c) => c.spec?.hubRef?.name !== name && this.mayHoldSettings(c, name));
    const failures: unknown[] = [];

    const hub = this.deps.hubs.get(namespace, name);
    if (!hub) {
      this.deps.connections.forget(hubKey);
      await this.reportWithoutHub(current, undefined, hubMissing(hubKey), failures);
      return this.result(failures, undefined);
    }
    const finalized = await this.ensureFinalizers(hub, current, failures);
    const problem = this.checkHub(hub);
    if (problem) return this.blocked(hub, current, problem, failures);

    const connection = this.connect(hubKey, hub, current);
    if ('reason' in connection) return this.blocked(hub, current, connection, failures);

    const inputs = this.planInputs(hub, current, away, finalized);
    await this.releaseRetained(current, failures);
    let outcome: StepOutcome;
    try {
      outcome = await connection.session.step(inputs.resources, {
        departing: inputs.departing,
        held: inputs.held,
        stop: drainAlso(stopOnAbort(options.signal), options.interrupt),
        fullRead: [hub, ...current].some(reconcileRequested),
      });
    } catch (error) {
      if (options.signal?.aborted) return {};
      const unreachable = hubProblemOf(error, connection.hostName);
      logger.warn('hub reconcile failed', { reason: unreachable.reason, error: unreachable.message });
      await this.status.hub(
        hub,
        iotHubStatus({ ok: false, ...unreachable }, lastCounts(hub), this.status.context(hub)),
        failures,
      );
      await this.reportWithoutHub(current, hub, unreachable, failures);
      return unreachable.stalled ? this.result(failures, this.resyncMs(hub)) : { failed: true };
    }

    await this.status.hub(hub, this.connectedStatus(hub, connection.hostName, outcome), failures);
    await this.cleanUpAway(away, name, outcome);
    const remaining = await this.reportConfigs(hub, current, inputs, outcome, failures);
    if (isDeleting(hub) && remaining === 0 && away.every((c) => this.owned(c, outcome) === 0)) {
      await this.removeFinalizer('IoTHub', hub, failures);
      this.deps.connections.forget(hubKey);
      return this.result(failures, undefined);
    }
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

  /** The IoTHub and every SecurityModuleConfig of it carry the finalizer before anything is written for them. */
  private async ensureFinalizers(
    hub: HubObject,
    configs: readonly ConfigObject[],
    failures: unknown[],
  ): Promise<Set<string>> {
    if (!isDeleting(hub) && !hasFinalizer(hub)) await this.addFinalizer('IoTHub', hub, failures);
    const finalized = new Set<string>();
    for (const config of configs) {
      if (hasFinalizer(config) || isDeleting(config)) {
        finalized.add(objectKey(config.metadata));
        continue;
      }
      if (await this.addFinalizer('SecurityModuleConfig', config, failures))
        finalized.add(objectKey(config.metadata));
    }
    return finalized;
  }

  /** The IoTHub itself as the shared validator judges it (a Basic tier has no twins). */
  private checkHub(hub: HubObject): HubProblem | undefined {
    const errors = validateResource(asWritten(hub)).issues.filter((i) => i.severity === 'error');
    if (errors.length === 0) return undefined;
    const tier = errors.some((i) => formatFieldPath(i.path) === 'spec.tier');
    return { reason: tier ? 'TierWithoutTwins' : 'InvalidSpec', message: issuesText(errors), stalled: true };
  }

  /**
   * The hub's connection and session, made from its Secrets. While the IoTHub or a resource of it is being deleted,
   * a Secret deleted with them does not stop the clean-up: the connection already open is used.
   */
  private connect(
    hubKey: string,
    hub: HubObject,
    configs: readonly ConfigObject[],
  ): { session: HubSession; hostName: string } | HubProblem {
    const credentials = resolveHubCredentials(hub, this.deps.secrets);
    if (!credentials.ok) {
      const open = this.deps.connections.get(hubKey);
      if (open && (isDeleting(hub) || configs.some(isDeleting)))
        return { session: open.session, hostName: open.client.hubName };
      return { reason: credentials.reason, message: credentials.message, stalled: true };
    }
    try {
      const { session } = this.deps.connections.connect(
        hubKey,
        hub,
        credentials.credentials,
        this.resyncMs(hub),
      );
      return { session, hostName: credentials.hostName };
    } catch (error) {
      return { reason: 'InvalidHubConfiguration', message: (error as Error).message, stalled: true };
    }
  }

  /** Valid resources to plan; invalid ones (or without the finalizer yet) held as they are; the rest departing. */
  private planInputs(
    hub: HubObject,
    configs: readonly ConfigObject[],
    away: readonly ConfigObject[],
    finalized: ReadonlySet<string>,
  ): PlanInputs {
    const inputs: PlanInputs = {
      resources: [],
      held: new Map(),
      departing: new Map(),
      heldBecause: new Map(),
    };
    const policy = (c: ConfigObject) => (c.spec?.deletionPolicy === 'Retain' ? 'Retain' : 'Remove');
    for (const config of away) inputs.departing.set(objectKey(config.metadata), policy(config));
    for (const config of configs) {
      const key = objectKey(config.metadata);
      if (isDeleting(config) || isDeleting(hub)) {
        inputs.departing.set(key, policy(config));
        continue;
      }
      const validation = validateResource(asWritten(config));
      const errors = validation.issues.filter((i) => i.severity === 'error');
      const priority = Number.isInteger(config.spec?.priority) ? (config.spec.priority as number) : 0;
      if (errors.length || !validation.resource) {
        inputs.held.set(key, priority);
        inputs.heldBecause.set(key, {
          reason: 'InvalidSpec',
          message: `the spec is invalid, nothing is written for it and the settings it set stay as they are: ${issuesText(errors)}`,
          stalled: true,
        });
      } else if (!finalized.has(key)) {
        inputs.held.set(key, priority);
        inputs.heldBecause.set(key, {
          reason: 'FinalizerMissing',
          message: `nothing is written before the finalizer ${FINALIZER} is on the resource (it could not be added; see the operator's log)`,
          stalled: false,
        });
      } else {
        inputs.resources.push(toPlannedResource(validation.resource as SecurityModuleConfig));
      }
    }
    return inputs;
  }

  /** deletionPolicy Retain lets go at once, whether or not the hub can be reached. */
  private async releaseRetained(configs: readonly ConfigObject[], failures: unknown[]): Promise<void> {
    for (const config of configs)
      if (isDeleting(config) && config.spec?.deletionPolicy === 'Retain')
        await this.removeFinalizer('SecurityModuleConfig', config, failures);
  }

  /** Resources that pointed at this hub before: once its twins hold nothing of them, their own hub is told. */
  private async cleanUpAway(
    away: readonly ConfigObject[],
    hubName: string,
    outcome: StepOutcome,
  ): Promise<void> {
    for (const config of away) {
      if (this.owned(config, outcome) > 0) continue;
      this.cleaned.add(`${config.metadata.uid}@${hubName}`);
      const target = config.spec?.hubRef?.name;
      if (target) this.deps.enqueue?.(`${config.metadata.namespace}/${target}`);
    }
  }

  /**
   * Status of every resource of the hub after a step; a deleting one lets go once no twin of any hub it may
   * have written holds its settings. Returns how many resources still hold settings on this hub's twins.
   */
  private async reportConfigs(
    hub: HubObject,
    configs: readonly ConfigObject[],
    inputs: PlanInputs,
    outcome: StepOutcome,
    failures: unknown[],
  ): Promise<number> {
    let remaining = 0;
    for (const config of configs) {
      const key = objectKey(config.metadata);
      const owned = this.owned(config, outcome);
      if (owned > 0) remaining++;
      const others = this.otherHubs(config, hub.metadata.name);
      const hubs = owned > 0 || !inputs.departing.has(key) ? [hub.metadata.name, ...others].sort() : others;
      const context = this.status.context(config, { hubs });
      if (inputs.departing.has(key)) {
        if (config.spec?.deletionPolicy === 'Retain' && isDeleting(config)) continue;
        if (isDeleting(config) && owned === 0 && others.length === 0) {
          await this.removeFinalizer('SecurityModuleConfig', config, failures);
          continue;
        }
        await this.status.config(
          config,
          blockedSecurityModuleConfigStatus(
            this.departingConditions(hub, config, owned, others, outcome),
            config.status,
            context,
          ),
          failures,
        );
        continue;
      }
      const held = inputs.heldBecause.get(key);
      const report = outcome.finalPlan.reports.get(key);
      if (held) {
        const conditions = blockedConditions(held.reason, held.message, { stalled: held.stalled });
        await this.status.config(
          config,
          blockedSecurityModuleConfigStatus(conditions, config.status, context),
          failures,
        );
      } else if (report) {
        await this.status.config(config, securityModuleConfigStatus(report, context), failures);
      }
    }
    return remaining;
  }

  private departingConditions(
    hub: HubObject,
    config: ConfigObject,
    owned: number,
    others: string[],
    outcome: StepOutcome,
  ) {
    const key = objectKey(config.metadata);
    const why = isDeleting(config)
      ? 'before the finalizer goes'
      : `the IoTHub ${hub.metadata.name} is being deleted`;
    if (owned === 0)
      return blockedConditions(
        'Deleting',
        `waiting for the twins of ${others.join(', ')} to let go of its settings ${why}`,
        { stalled: false },
      );
    // Still owned, and nothing planned to remove it: the hub refuses the writes, or the result would be invalid.
    const removing = outcome.finalPlan.foreignOwners.some((o) => o.owner === key && o.fate !== 'kept');
    if (removing || outcome.interrupted)
      return blockedConditions(
        'Deleting',
        `removing the settings it manages from ${owned} device twin${owned === 1 ? '' : 's'} ${why} (set spec.deletionPolicy: Retain to leave them and let go now)`,
        { stalled: false },
      );
    return blockedConditions(
      'DeletionBlocked',
      `${owned} device twin${owned === 1 ? '' : 's'} still hold its settings and cannot be written (the hub refuses the write, or the configuration left would be invalid: see the other resources' failures); set spec.deletionPolicy: Retain to leave them and let go`,
      { stalled: true },
    );
  }

  /** Status of the hub's resources when the hub cannot be used; deleting ones wait, or go (Retain). */
  private async reportWithoutHub(
    configs: readonly ConfigObject[],
    hub: HubObject | undefined,
    problem: HubProblem,
    failures: unknown[],
  ): Promise<void> {
    await this.releaseRetained(configs, failures);
    for (const config of configs) {
      if (isDeleting(config) && config.spec?.deletionPolicy === 'Retain') continue;
      const others = this.otherHubs(config, config.spec?.hubRef?.name ?? '');
      // No IoTHub: nothing of its twins can be reached or remains ours to clean (a deleted IoTHub cleaned them).
      if (!hub && isDeleting(config) && others.length === 0) {
        await this.removeFinalizer('SecurityModuleConfig', config, failures);
        continue;
      }
      const message = isDeleting(config)
        ? `waiting to remove the settings it manages: ${problem.message}; set spec.deletionPolicy: Retain to leave them on the twins and let go now`
        : hub
          ? `hub ${objectKey(hub.metadata)} is not Ready (${problem.reason}): ${problem.message}`
          : problem.message;
      const reason = isDeleting(config) ? 'DeletionBlocked' : problem.reason;
      const conditions = blockedConditions(reason, message, { stalled: problem.stalled });
      const context = this.status.context(config, hub ? {} : { hubs: others });
      await this.status.config(
        config,
        blockedSecurityModuleConfigStatus(conditions, config.status, context),
        failures,
      );
    }
  }

  private async blocked(
    hub: HubObject,
    configs: readonly ConfigObject[],
    problem: HubProblem,
    failures: unknown[],
  ): Promise<WorkResult> {
    // The open connection stays: if the IoTHub and its resources are being deleted with the Secret gone first, it
    // is what takes their settings off the twins.
    await this.status.hub(
      hub,
      iotHubStatus({ ok: false, ...problem }, lastCounts(hub), this.status.context(hub)),
      failures,
    );
    await this.reportWithoutHub(configs, hub, problem, failures);
    // A deleted IoTHub whose twins cannot be reached cannot be cleaned: it lets go (its resources say why).
    if (isDeleting(hub)) await this.removeFinalizer('IoTHub', hub, failures);
    return this.result(failures, problem.stalled ? this.resyncMs(hub) : undefined);
  }

  // --- helpers --------------------------------------------------------------------------------------------------

  private connectedStatus(hub: HubObject, hostName: string, outcome: StepOutcome) {
    const message = isDeleting(hub)
      ? `being deleted: the settings of its resources are taken off its twins by their deletionPolicy`
      : `connected to ${hostName}: ${outcome.devices} devices, ${outcome.securityModules} with the security module`;
    return iotHubStatus(
      { ok: true, message },
      { devices: outcome.devices, securityModules: outcome.securityModules },
      this.status.context(hub),
    );
  }

  /** Whether a resource that no longer points at `hubName` may still hold settings on its twins. */
  private mayHoldSettings(config: ConfigObject, hubName: string): boolean {
    return (
      this.status.listedHubs(config).includes(hubName) &&
      !this.cleaned.has(`${config.metadata.uid}@${hubName}`)
    );
  }

  /** The other hubs whose twins may hold the resource's settings: listed, existing, not seen cleaned. */
  private otherHubs(config: ConfigObject, hubName: string): string[] {
    const namespace = config.metadata.namespace;
    return this.status
      .listedHubs(config)
      .filter(
        (h) =>
          h !== hubName &&
          this.deps.hubs.get(namespace, h) &&
          !this.cleaned.has(`${config.metadata.uid}@${h}`),
      )
      .sort();
  }

  /** Device twins whose ownership record (this manager's) still names the resource. */
  private owned(config: ConfigObject, outcome: StepOutcome): number {
    const key = objectKey(config.metadata);
    let count = 0;
    for (const twin of outcome.snapshot.modules.values()) {
      const ownership = readOwnership(twin.tags, this.deps.manager);
      if (ownership.revisions.has(key) || [...ownership.owners.values()].includes(key)) count++;
    }
    return count;
  }

  private async addFinalizer(
    kind: 'IoTHub' | 'SecurityModuleConfig',
    object: HubObject | ConfigObject,
    failures: unknown[],
  ): Promise<boolean> {
    try {
      await this.deps.writer.addFinalizer(kind, object);
      return true;
    } catch (error) {
      failures.push(error);
      return false;
    }
  }

  private async removeFinalizer(
    kind: 'IoTHub' | 'SecurityModuleConfig',
    object: HubObject | ConfigObject,
    failures: unknown[],
  ): Promise<void> {
    try {
      await this.deps.writer.removeFinalizer(kind, object);
    } catch (error) {
      failures.push(error);
    }
  }

  private resyncMs(hub: HubObject): number {
    return parseKubeDuration(hub.spec.resyncInterval ?? '10m') ?? DEFAULT_RESYNC_MS;
  }

  private result(failures: unknown[], requeueAfterMs: number | undefined): WorkResult {
    if (failures.length) return { failed: true, waitingForApiServer: failures.some(apiServerUnreachable) };
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }
}

/**
 * A write the API server did not answer, or that a proxy in front of it could not pass on (502, 503, 504): worth
 * trying again as soon as a watch gets through. Not a 429 or a 500: the server answered, and a watch coming back
 * says nothing about its load or its webhooks; those keep their backoff.
 */
function apiServerUnreachable(error: unknown): boolean {
  return error instanceof KubeWriteError && [0, 502, 503, 504].includes(error.status);
}

function hubMissing(hubKey: string): HubProblem {
  return {
    reason: 'HubNotFound',
    message: `IoTHub ${hubKey} does not exist (a SecurityModuleConfig may only use an IoTHub of its own namespace)`,
    stalled: true,
  };
}

function lastCounts(hub: HubObject): { devices?: number; securityModules?: number } {
  return { devices: hub.status?.devices, securityModules: hub.status?.securityModules };
}

/** A failed step as a condition: what a person can do about it, and whether only a change helps. */
export function hubProblemOf(error: unknown, hostName: string): HubProblem {
  const message = (error as Error)?.message ?? String(error);
  if (isHubError(error, 'Unauthorized'))
    return {
      reason: 'Unauthorized',
      message: `hub ${hostName} refused the credentials: ${message}`,
      stalled: true,
    };
  if (needsChangeToRecover(error)) return { reason: 'InvalidHubConfiguration', message, stalled: true };
  if (isHubError(error, 'Throttled')) {
    const daily = (error as { statusCode?: number }).statusCode === 403;
    return daily
      ? {
          reason: 'QuotaExceeded',
          message: `hub ${hostName} has used up its daily quota: ${message}`,
          stalled: true,
        }
      : {
          reason: 'HubThrottled',
          message: `hub ${hostName} keeps answering 429: ${message}`,
          stalled: false,
        };
  }
  return {
    reason: 'HubUnreachable',
    message: `hub ${hostName} cannot be reached: ${message}`,
    stalled: false,
  };
}
