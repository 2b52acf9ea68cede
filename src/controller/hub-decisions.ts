// What one reconcile of a hub decides, from what it read and what the step did: every status to write, the
// finalizer changes, the Events, and when to come back. Pure: no I/O, tested without a server; hub-reconciler.ts
// reads, steps, and applies what these return.
import { isStalled } from '../api/reasons.js';
import type { StepOutcome } from '../engine/hub-session.js';
import { iotHubStatus } from '../planner/kubernetes-status.js';
import { configsAfterStep, configsWithoutHub, type PlanInputs, releaseRetained } from './config-decisions.js';
import { type HubProblem, hubMissing } from './hub-problems.js';
import { type DecisionContext, type HubView, isDeleting, ownedTwins, statusContext } from './hub-view.js';
import { hubStatusChange, type KubeChanges, noChanges, type StatusChange } from './kube-changes.js';
import { FINALIZER, type HubObject } from './kube-objects.js';
import type { ReconcileResult } from './reconcile-result.js';

export interface HubDecision {
  changes: KubeChanges;
  result: ReconcileResult;
  /** Forget everything kept for the hub (it is gone, or lets go now). */
  dropHub: boolean;
}

const hasFinalizer = (object: { metadata: { finalizers?: string[] } }) =>
  Boolean(object.metadata.finalizers?.includes(FINALIZER));

/**
 * Before anything is written to the hub: the IoTHub and every SecurityModuleConfig of it get the finalizer, and
 * resources deleted with deletionPolicy Retain lose it at once.
 */
export function prepare(view: HubView): KubeChanges {
  const changes = noChanges();
  const hub = view.hub;
  if (hub && !isDeleting(hub) && !hasFinalizer(hub))
    changes.addFinalizers.push({ kind: 'IoTHub', object: hub });
  if (hub)
    for (const config of view.current)
      if (!hasFinalizer(config) && !isDeleting(config))
        changes.addFinalizers.push({ kind: 'SecurityModuleConfig', object: config });
  releaseRetained(view, changes);
  return changes;
}

/** The IoTHub does not exist: its resources say so, and deleting ones let go. */
export function decideWithoutHub(view: HubView, context: DecisionContext): HubDecision {
  const changes = noChanges();
  configsWithoutHub(view, hubMissing(view.key), context, changes);
  return { changes, result: { kind: 'done' }, dropHub: false };
}

/**
 * The hub cannot be used (invalid spec, Secret, credentials, or a step that failed): the IoTHub and its resources
 * say why. A deleted IoTHub whose twins cannot be reached cannot be cleaned: it lets go (its resources say why).
 * Only a change helps a stalled problem (it comes back at the resync); another is retried after its backoff.
 */
export function decideBlocked(
  view: HubView & { hub: HubObject },
  problem: HubProblem,
  context: DecisionContext,
  options: { stepFailed: boolean },
): HubDecision {
  const { hub } = view;
  const changes = noChanges();
  changes.statuses.push(
    hubChange(
      hub,
      context,
      iotHubStatus({ ok: false, ...problem }, lastCounts(hub), statusContext(hub, context)),
    ),
  );
  configsWithoutHub(view, problem, context, changes);
  const letGo = !options.stepFailed && isDeleting(hub);
  if (letGo) changes.removeFinalizers.push({ kind: 'IoTHub', object: hub });
  const result: ReconcileResult = isStalled(problem.reason)
    ? { kind: 'terminal', reason: problem.reason, message: problem.message, requeueAfterMs: context.resyncMs }
    : { kind: 'retry', error: new Error(`${problem.reason}: ${problem.message}`) };
  return { changes, result, dropHub: false };
}

/**
 * After a step: the hub's and every resource's status; resources that moved away and are off its twins now are
 * handed to their hub; a deleted IoTHub lets go once no twin holds anything of its resources.
 */
export function decideAfterStep(
  view: HubView & { hub: HubObject },
  inputs: PlanInputs,
  outcome: StepOutcome,
  hostName: string,
  context: DecisionContext,
): HubDecision {
  const { hub } = view;
  const changes = noChanges();
  const message = isDeleting(hub)
    ? 'being deleted: the settings of its resources are taken off its twins by their deletionPolicy'
    : `connected to ${hostName}: ${outcome.devices} devices, ${outcome.securityModules} with the security module`;
  changes.statuses.push(
    hubChange(
      hub,
      context,
      iotHubStatus(
        { ok: true, message },
        { devices: outcome.devices, securityModules: outcome.securityModules },
        statusContext(hub, context),
      ),
    ),
  );
  const awayOwned = view.away.map((config) => ({
    config,
    owned: ownedTwins(config, outcome.snapshot, context.manager),
  }));
  for (const { config, owned } of awayOwned) {
    if (owned > 0) continue;
    if (config.metadata.uid !== undefined) changes.cleaned.push(config.metadata.uid);
    const target = config.spec?.hubRef?.name;
    if (target) changes.enqueue.push(`${config.metadata.namespace}/${target}`);
  }
  const remaining = configsAfterStep(view, inputs, outcome, context, changes);
  if (isDeleting(hub) && remaining === 0 && awayOwned.every((a) => a.owned === 0)) {
    changes.removeFinalizers.push({ kind: 'IoTHub', object: hub });
    return { changes, result: { kind: 'done' }, dropHub: true };
  }
  return { changes, result: { kind: 'done', requeueAfterMs: outcome.nextStepInMs }, dropHub: false };
}

function hubChange(
  hub: HubObject,
  context: DecisionContext,
  status: ReturnType<typeof iotHubStatus>,
): StatusChange {
  return hubStatusChange(hub, status, context.statusOf(hub));
}

function lastCounts(hub: HubObject): { devices?: number; securityModules?: number } {
  return { devices: hub.status?.devices, securityModules: hub.status?.securityModules };
}
