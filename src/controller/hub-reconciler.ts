// reconcile(hub): the controller's one unit of work. It reads (the IoTHub, its resources and Secrets from the
// informer caches, and what the hub's state keeps), decides (pure functions: hub-decisions.ts,
// config-decisions.ts), runs one step of the hub's engine session when the hub can be used, and applies what it
// decided in one place (kube-changes.ts), gathering the errors. A deleted IoTHub takes its own branch: its
// resources' settings come off its twins by their deletionPolicy before its finalizer goes.
// It knows nothing of queues or watches: it says when it wants to run again.
import { parseKubeDuration } from '../api/kube-duration.js';
import type { HubSession, StepOutcome } from '../engine/hub-session.js';
import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { NO_STOP, type Stop } from '../runtime/stop.js';
import { type PlanInputs, planInputs } from './config-decisions.js';
import type { EventRecorder } from './event-recorder.js';
import { resolveHubCredentials, type SecretLookup } from './hub-credentials.js';
import {
  decideAfterStep,
  decideBlocked,
  decideWithoutHub,
  type HubDecision,
  prepare,
} from './hub-decisions.js';
import { checkHub, type HubProblem, hubProblemOf } from './hub-problems.js';
import type { HubStates } from './hub-states.js';
import {
  type DecisionContext,
  type HubView,
  isDeleting,
  mayHoldSettings,
  reconcileRequested,
} from './hub-view.js';
import { type Applied, applyChanges, type KubeChanges } from './kube-changes.js';
import {
  type ConfigObject,
  FINALIZER,
  type HubObject,
  hubKeyOf,
  objectKey,
  splitKey,
} from './kube-objects.js';
import type { KubeWriter } from './kube-writer.js';
import { type ReconcileResult, withApplyErrors } from './reconcile-result.js';

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
  states: HubStates;
  logger: Logger;
  manager: string;
  metrics?: OperatorMetrics;
  /** Queue another hub (a resource moved away from this one was cleaned: its own hub may now let it go). */
  enqueue?: (hubKey: string) => void;
  clock?: Clock;
}

const DEFAULT_RESYNC_MS = 10 * 60_000;

/** An IoTHub, not a SecurityModuleConfig (objects from a list may lack `kind`: only a resource has a hubRef). */
const isHubObject = (object: { kind?: string; spec?: unknown }) =>
  object.kind ? object.kind === 'IoTHub' : !(object.spec as { hubRef?: unknown } | undefined)?.hubRef;

type Stepped =
  | { ok: true; outcome: StepOutcome; hostName: string }
  | { ok: false; problem: HubProblem; stepFailed: boolean }
  /** Aborted: hub calls were abandoned, nothing is known to report. */
  | { ok: false; aborted: true };

export class HubReconciler {
  constructor(private readonly deps: HubReconcilerDeps) {}

  async reconcile(hubKey: string, stop: Stop = NO_STOP): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(hubKey);
    const hub = this.deps.hubs.get(namespace, name);
    const context = this.context(hub);
    const view = this.read(hubKey, hub, context);
    const prepared = await this.apply(hubKey, prepare(view));
    if (!view.hub) {
      // Its connection goes (the IoTHub's delete event drops the rest of its state).
      this.deps.states.disconnect(hubKey);
      return this.conclude(hubKey, decideWithoutHub(view, context), prepared);
    }
    const hubView = { ...view, hub: view.hub };
    return isDeleting(view.hub)
      ? this.finalize(hubView, context, prepared, stop)
      : this.converge(hubView, context, prepared, stop);
  }

  /** The IoTHub is in use: plan its valid resources (held: invalid ones, and those without the finalizer yet). */
  private async converge(
    view: HubView & { hub: HubObject },
    context: DecisionContext,
    prepared: Applied,
    stop: Stop,
  ): Promise<ReconcileResult> {
    const finalized = (config: ConfigObject) =>
      isDeleting(config) ||
      (config.metadata.finalizers?.includes(FINALIZER) ?? false) ||
      !prepared.finalizerMissing.has(objectKey(config.metadata));
    return this.stepAndDecide(view, planInputs(view, finalized), context, prepared, stop);
  }

  /** The IoTHub is being deleted: every resource departs; it lets go once its twins hold nothing of them. */
  private async finalize(
    view: HubView & { hub: HubObject },
    context: DecisionContext,
    prepared: Applied,
    stop: Stop,
  ): Promise<ReconcileResult> {
    return this.stepAndDecide(
      view,
      planInputs(view, () => true),
      context,
      prepared,
      stop,
    );
  }

  private async stepAndDecide(
    view: HubView & { hub: HubObject },
    inputs: PlanInputs,
    context: DecisionContext,
    prepared: Applied,
    stop: Stop,
  ): Promise<ReconcileResult> {
    const stepped = await this.step(view, inputs, context, stop);
    if ('aborted' in stepped) return withApplyErrors({ kind: 'done' }, prepared.errors);
    const decision = stepped.ok
      ? decideAfterStep(view, inputs, stepped.outcome, stepped.hostName, context)
      : decideBlocked(view, stepped.problem, context, { stepFailed: stepped.stepFailed });
    if (stepped.ok) this.logStep(view.key, stepped.outcome);
    return this.conclude(view.key, decision, prepared);
  }

  // --- read ---------------------------------------------------------------------------------------------------

  private read(key: string, hub: HubObject | undefined, context: DecisionContext): HubView {
    const { namespace, name } = splitKey(key);
    const inNamespace = this.deps.configs.list(namespace);
    return {
      key,
      namespace,
      name,
      hub,
      current: inNamespace.filter((c) => c.spec?.hubRef?.name === name),
      away: inNamespace.filter((c) => c.spec?.hubRef?.name !== name && mayHoldSettings(c, name, context)),
    };
  }

  private context(hub: HubObject | undefined): DecisionContext {
    const { states, hubs } = this.deps;
    return {
      now: new Date((this.deps.clock ?? systemClock).now()),
      manager: this.deps.manager,
      resyncMs: hub
        ? (parseKubeDuration(hub.spec.resyncInterval ?? '10m') ?? DEFAULT_RESYNC_MS)
        : DEFAULT_RESYNC_MS,
      // An object's status was written by the reconcile of the hub it points at: that hub's memory knows it.
      statusOf: (object) => {
        const hubKey = isHubObject(object) ? objectKey(object.metadata) : hubKeyOf(object as ConfigObject);
        const memory = hubKey === undefined ? undefined : states.peek(hubKey)?.statuses;
        return memory ? memory.currentStatus(object) : object.status;
      },
      hubExists: (namespace, name) => hubs.get(namespace, name) !== undefined,
      cleanedFrom: (namespace, hubName, uid) =>
        uid !== undefined && (states.peek(`${namespace}/${hubName}`)?.cleaned.has(uid) ?? false),
    };
  }

  // --- step ---------------------------------------------------------------------------------------------------

  /** One step of the hub's session, or why there can be none. */
  private async step(
    view: HubView & { hub: HubObject },
    inputs: PlanInputs,
    context: DecisionContext,
    stop: Stop,
  ): Promise<Stepped> {
    const invalid = checkHub(view.hub);
    if (invalid) return { ok: false, problem: invalid, stepFailed: false };
    const connection = this.connect(view, context);
    if ('reason' in connection) return { ok: false, problem: connection, stepFailed: false };
    try {
      const outcome = await connection.session.step(inputs.resources, {
        departing: inputs.departing,
        held: inputs.held,
        stop,
        fullRead: [view.hub, ...view.current].some((object) => reconcileRequested(object, context)),
      });
      return { ok: true, outcome, hostName: connection.hostName };
    } catch (error) {
      if (stop.abort.aborted) return { ok: false, aborted: true };
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
  private connect(
    view: HubView & { hub: HubObject },
    context: DecisionContext,
  ): { session: HubSession; hostName: string } | HubProblem {
    const { hub } = view;
    const credentials = resolveHubCredentials(hub, this.deps.secrets);
    if (!credentials.ok) {
      const open = this.deps.states.connection(view.key);
      if (open && (isDeleting(hub) || view.current.some(isDeleting)))
        return { session: open.session, hostName: open.client.hubName };
      return { reason: credentials.reason, message: credentials.message };
    }
    try {
      const { session } = this.deps.states.connect(view.key, hub, credentials.credentials, context.resyncMs);
      return { session, hostName: credentials.hostName };
    } catch (error) {
      return { reason: 'InvalidHubConfiguration', message: (error as Error).message };
    }
  }

  // --- apply ----------------------------------------------------------------------------------------------------

  private apply(hubKey: string, changes: KubeChanges): Promise<Applied> {
    return applyChanges(changes, { ...this.deps, state: this.deps.states.of(hubKey) });
  }

  private async conclude(hubKey: string, decision: HubDecision, prepared: Applied): Promise<ReconcileResult> {
    const applied = await this.apply(hubKey, decision.changes);
    if (decision.dropHub) this.deps.states.drop(hubKey);
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
