// reconcile(hub): the controller's one unit of work. It reads (the IoTHub and its resources from the informer
// caches, the Secrets it names by GET, and what the controller's memory keeps), prepares (finalizers), runs one step of the hub's
// engine session when the hub can be used, decides from the outcome (pure functions: hub-decisions.ts,
// config-decisions.ts), and applies what it decided in one place (kube-changes.ts), gathering the errors.
// Three branches: no IoTHub (its resources say so; nothing is kept for it), a deleted IoTHub (its resources'
// settings come off its twins by their deletionPolicy before its finalizer goes), an IoTHub in use (converge).
// It knows nothing of queues or watches: it says when it wants to run again.
import { parseKubeDuration } from '../api/kube-duration.js';
import type { HubSession, StepOutcome } from '../engine/hub-session.js';
import { isHubError } from '../hub/errors.js';
import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { NO_STOP, type Stop } from '../runtime/stop.js';
import { departAll, type PlanInputs, planInputs, type ReadConfigMaps } from './config-decisions.js';
import type { ConfigMapReader } from './config-maps.js';
import type { ControllerMemory } from './controller-memory.js';
import type { EntraSettings } from './entra-access.js';
import type { EventRecorder } from './event-recorder.js';
import { resolveHubCredentials } from './hub-credentials.js';
import {
  decideAfterStep,
  decideBlocked,
  decideCleanup,
  decideWithoutHub,
  type HubDecision,
  prepare,
} from './hub-decisions.js';
import { checkHub, type HubProblem, hubProblemOf } from './hub-problems.js';
import {
  type DecisionContext,
  type ExistingHubView,
  type HubView,
  isDeleting,
  mayHoldSettings,
  reconcileRequested,
} from './hub-view.js';
import { type Applied, applyChanges, finalizerTarget, type KubeChanges } from './kube-changes.js';
import {
  asWritten,
  type ConfigObject,
  configKindOf,
  configMapNameOf,
  FINALIZER,
  type HubObject,
  splitKey,
} from './kube-objects.js';
import { isApiServerUnreachable, type KubeWriter } from './kube-writer.js';
import { type ReconcileResult, withApplyErrors } from './reconcile-result.js';
import type { SecretReader } from './secret-reader.js';

export interface ObjectCache<T> {
  get(namespace: string, name: string): T | undefined;
  list(namespace: string): readonly T[];
}

export interface HubReconcilerDeps {
  hubs: ObjectCache<HubObject>;
  configs: ObjectCache<ConfigObject>;
  /** Reads the ConfigMaps TwinConfigs name (only those). */
  configMaps?: ConfigMapReader;
  /** Reads the Secrets the IoTHub names (only those, only the keys used). */
  secrets: Pick<SecretReader, 'forHub' | 'forget'>;
  writer: KubeWriter;
  events: EventRecorder;
  memory: ControllerMemory;
  logger: Logger;
  manager: string;
  metrics?: OperatorMetrics;
  /** Queue another hub (a resource moved away from this one was cleaned: its own hub may now let it go). */
  enqueue?: (hubKey: string) => void;
  clock?: Clock;
  /** What IoTHubs may do with Microsoft Entra ID (entra-access.ts); the defaults when absent. */
  entra?: EntraSettings;
}

const DEFAULT_RESYNC_MS = 10 * 60_000;

type Stepped =
  | { ok: true; outcome: StepOutcome; hostName: string }
  | { ok: false; problem: HubProblem; stepFailed: boolean }
  /** Aborted: hub calls were abandoned, nothing is known to report. */
  | { ok: false; aborted: true };

/**
 * A ConfigMap the API server did not answer for (isApiServerUnreachable) makes a reconcile that was otherwise done a
 * retry carrying that error: the queue runs the hub again as soon as a watch gets through, as for any call that did
 * not reach the API server. After a refusal or a failure it answered (403, 500) the hub comes back within 10 s, as
 * for a missing ConfigMap (decideAfterStep).
 */
export function retryWhileApiServerUnreachable(
  result: ReconcileResult,
  configMaps: ReadConfigMaps,
): ReconcileResult {
  if (result.kind !== 'done') return result;
  for (const read of configMaps.values())
    if (!read.found && read.unreadable && isApiServerUnreachable(read.unreadable))
      return { kind: 'retry', error: read.unreadable };
  return result;
}

export class HubReconciler {
  private readonly clock: Clock;

  constructor(private readonly deps: HubReconcilerDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  async reconcile(hubKey: string, stop: Stop = NO_STOP): Promise<ReconcileResult> {
    const { view, context } = this.read(hubKey);
    const prepared = await this.apply(view, prepare(view));
    if (!view.hub) {
      // Nothing is kept for a hub that does not exist (its resources' statuses go with their own delete events).
      const applied = await this.apply(view, decideWithoutHub(view, context).changes);
      this.deps.memory.drop(hubKey);
      this.deps.secrets.forget(hubKey);
      return withApplyErrors({ kind: 'done' }, [...prepared.errors, ...applied.errors]);
    }
    const existing: ExistingHubView = { ...view, hub: view.hub };
    return isDeleting(view.hub)
      ? this.finalize(existing, context, prepared, stop)
      : this.converge(existing, context, prepared, stop);
  }

  /** The IoTHub is in use: its valid resources are planned (invalid ones, and those without the finalizer, held). */
  private async converge(
    view: ExistingHubView,
    context: DecisionContext,
    prepared: Applied,
    stop: Stop,
  ): Promise<ReconcileResult> {
    const finalized = (config: ConfigObject) =>
      (config.metadata.finalizers?.includes(FINALIZER) ?? false) ||
      !prepared.finalizerMissing.has(finalizerTarget(configKindOf(config), config));
    // A ConfigMap that cannot be read holds the TwinConfigs that name it (ConfigMapUnreadable), not the hub.
    const configMaps = await this.readConfigMaps(view);
    await this.judgeChanged(view, configMaps);
    const inputs = planInputs(view, finalized, configMaps, this.deps.memory.validations.validate);
    const stepped = await this.step(view, inputs, context, stop);
    if ('aborted' in stepped) return withApplyErrors({ kind: 'done' }, prepared.errors);
    const now = this.now(context);
    const decision = stepped.ok
      ? decideAfterStep(view, inputs, stepped.outcome, stepped.hostName, now)
      : decideBlocked(view, stepped.problem, now, { letGo: false });
    return retryWhileApiServerUnreachable(await this.conclude(view, decision, prepared), configMaps);
  }

  /**
   * The IoTHub is being deleted: every resource departs by its deletionPolicy; it lets go once its twins hold
   * nothing of them, or at once when its spec or Secrets leave no way to reach them.
   */
  private async finalize(
    view: ExistingHubView,
    context: DecisionContext,
    prepared: Applied,
    stop: Stop,
  ): Promise<ReconcileResult> {
    const inputs = departAll(view);
    const stepped = await this.step(view, inputs, context, stop);
    if ('aborted' in stepped) return withApplyErrors({ kind: 'done' }, prepared.errors);
    const now = this.now(context);
    const decision = stepped.ok
      ? decideCleanup(view, inputs, stepped.outcome, now)
      : decideBlocked(view, stepped.problem, now, { letGo: !stepped.stepFailed });
    return this.conclude(view, decision, prepared);
  }

  // --- read ---------------------------------------------------------------------------------------------------

  /** The hub's objects and what the controller knows of them, as of now. */
  private read(key: string): { view: HubView; context: DecisionContext } {
    const { namespace, name } = splitKey(key);
    const { hubs, configs, memory } = this.deps;
    const hub = hubs.get(namespace, name);
    const inNamespace = configs.list(namespace);
    const hubsInNamespace = hubs.list(namespace);
    const statuses = new Map<string, unknown>();
    for (const object of [...hubsInNamespace, ...inNamespace]) {
      const uid = object.metadata.uid;
      if (uid !== undefined) statuses.set(uid, memory.statuses.currentStatus(object));
    }
    const cleaned = new Map<string, ReadonlySet<string>>();
    for (const other of hubsInNamespace) {
      const state = memory.peek(`${namespace}/${other.metadata.name}`);
      if (state) cleaned.set(other.metadata.name, state.cleaned);
    }
    const context: DecisionContext = {
      now: new Date(this.clock.now()),
      manager: this.deps.manager,
      resyncMs: hub
        ? (parseKubeDuration(hub.spec.resyncInterval ?? '10m') ?? DEFAULT_RESYNC_MS)
        : DEFAULT_RESYNC_MS,
      statuses,
      hubNames: new Set(hubsInNamespace.map((h) => h.metadata.name)),
      cleaned,
    };
    const view: HubView = {
      key,
      namespace,
      name,
      hub,
      current: inNamespace.filter((c) => c.spec?.hubRef?.name === name),
      away: inNamespace.filter((c) => c.spec?.hubRef?.name !== name && mayHoldSettings(c, name, context)),
    };
    return { view, context };
  }

  /** The context with the time after the step: transition times are when the status is written. */
  private now(context: DecisionContext): DecisionContext {
    return { ...context, now: new Date(this.clock.now()) };
  }

  /** The ConfigMaps the hub's TwinConfigs name, each read once (only those: see config-maps.ts). */
  private async readConfigMaps(view: HubView): Promise<ReadConfigMaps> {
    const names = view.current.map(configMapNameOf).filter((n): n is string => n !== undefined);
    if (names.length === 0 || !this.deps.configMaps) return new Map();
    return this.deps.configMaps.readAll(view.namespace, names);
  }

  /**
   * Judges the resources whose spec or ConfigMap changed since their last verdict (the others are remembered), one
   * per turn of the event loop: compiling a schema may take half a second, and forty at once would hold up the
   * lease's renewal, the watches and the other hubs' reconciles for as many.
   */
  private async judgeChanged(view: HubView, configMaps: ReadConfigMaps): Promise<void> {
    const { validations } = this.deps.memory;
    for (const config of view.current) {
      if (isDeleting(config) || validations.has(config, configMaps)) continue;
      // One whose ConfigMap is missing or unreadable is held before it is judged (planInputs).
      const configMap = configMapNameOf(config);
      if (configMap !== undefined && !configMaps.get(configMap)?.found) continue;
      validations.validate(config, asWritten(config), configMaps);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  // --- step ---------------------------------------------------------------------------------------------------

  /** One step of the hub's session, or why there can be none. */
  private async step(
    view: ExistingHubView,
    inputs: PlanInputs,
    context: DecisionContext,
    stop: Stop,
  ): Promise<Stepped> {
    const invalid = checkHub(view.hub);
    if (invalid) {
      // Its credentials are not read while its spec is invalid: the Secrets it named before are not rechecked.
      this.deps.secrets.forget(view.key);
      return { ok: false, problem: invalid, stepFailed: false };
    }
    const connection = await this.connect(view, context);
    if ('reason' in connection) return { ok: false, problem: connection, stepFailed: false };
    try {
      const outcome = await connection.session.step(inputs.resources, {
        departing: inputs.departing,
        held: inputs.held,
        // Where departing and held resources keep settings: their twins are read though nothing plans them.
        slots: [...inputs.slots],
        stop,
        fullRead: [view.hub, ...view.current].some((object) => reconcileRequested(object, context)),
        rolloutsUnderWay: inputs.rolloutsRecorded,
      });
      this.logStep(view.key, outcome);
      return { ok: true, outcome, hostName: connection.hostName };
    } catch (error) {
      // Cancelled with no abort: a write refused because this replica no longer holds the hub (owned-hub-access.ts),
      // a stop of this hub's reconcile whose abort is yet to come; another replica answers for the hub now.
      if (stop.abort.aborted || isHubError(error, 'Cancelled')) return { ok: false, aborted: true };
      const problem = hubProblemOf(error, connection.hostName);
      this.deps.logger.warn('hub reconcile failed', {
        hub: view.key,
        reason: problem.reason,
        error: problem.message,
      });
      return { ok: false, problem, stepFailed: true };
    }
  }

  /**
   * The hub's connection and session, made from its Secrets. While the IoTHub or a resource of it is being deleted,
   * a Secret deleted with them does not stop the clean-up: the connection already open is used.
   */
  private async connect(
    view: ExistingHubView,
    context: DecisionContext,
  ): Promise<{ session: HubSession; hostName: string } | HubProblem> {
    const { hub } = view;
    const credentials = await this.deps.secrets.forHub(view.key, (lookup) =>
      resolveHubCredentials(hub, lookup, this.deps.entra),
    );
    if (!credentials.ok) {
      const open = this.deps.memory.connection(view.key);
      if (open && (isDeleting(hub) || view.current.some(isDeleting)))
        return { session: open.session, hostName: open.client.hubName };
      return { reason: credentials.reason, message: credentials.message, cause: credentials.cause };
    }
    try {
      const { session } = this.deps.memory.connect(view.key, hub, credentials.credentials, context.resyncMs);
      return { session, hostName: credentials.hostName };
    } catch (error) {
      return { reason: 'InvalidHubConfiguration', message: (error as Error).message };
    }
  }

  // --- apply ----------------------------------------------------------------------------------------------------

  private apply(view: HubView, changes: KubeChanges): Promise<Applied> {
    const { memory } = this.deps;
    return applyChanges(changes, {
      ...this.deps,
      statuses: memory.statuses,
      cleaned: view.hub ? memory.ensure(view.key).cleaned : undefined,
    });
  }

  private async conclude(view: HubView, decision: HubDecision, prepared: Applied): Promise<ReconcileResult> {
    const applied = await this.apply(view, decision.changes);
    if (decision.dropHub) this.deps.memory.drop(view.key);
    return withApplyErrors(decision.result, [...prepared.errors, ...applied.errors]);
  }

  private logStep(hubKey: string, outcome: StepOutcome): void {
    if (outcome.writesSucceeded || outcome.writesFailed)
      this.deps.logger.info('hub reconciled', {
        hub: hubKey,
        read: outcome.read,
        writes: outcome.writesSucceeded,
        failedWrites: outcome.writesFailed,
        nextStepInMs: outcome.nextStepInMs,
      });
  }
}
