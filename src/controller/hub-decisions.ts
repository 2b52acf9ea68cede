// What one reconcile of a hub decides, from what it read and what the step did: every status to write, the
// finalizer changes, the Events, and when to come back. Pure: no I/O, tested without a server; hub-reconciler.ts
// reads, steps, and applies what these return. An IoTHub in use converges (decideAfterStep); a deleted one is
// cleaned up (decideCleanup) and lets go once its twins hold nothing of its resources.
import { isRetried } from '../api/reasons.js';
import type { StepOutcome } from '../engine/hub-session.js';
import { iotHubStatus } from '../planner/kubernetes-status.js';
import { securityModuleCount } from '../profiles/security-agent/profile.js';
import { configsAfterStep, configsWithoutHub, type PlanInputs, releaseRetained } from './config-decisions.js';
import { type HubProblem, hubMissing } from './hub-problems.js';
import {
  type DecisionContext,
  type ExistingHubView,
  type HubView,
  isDeleting,
  ownedTwins,
  statusContext,
  statusOf,
} from './hub-view.js';
import { hubStatusChange, type KubeChanges, mergeChanges, noChanges } from './kube-changes.js';
import { configKindOf, FINALIZER, type HubObject } from './kube-objects.js';
import type { ReconcileResult } from './reconcile-result.js';

export interface HubDecision {
  changes: KubeChanges;
  result: ReconcileResult;
  /** Forget what is kept for the hub (it lets go now). */
  dropHub: boolean;
}

const hasFinalizer = (object: { metadata: { finalizers?: string[] } }) =>
  Boolean(object.metadata.finalizers?.includes(FINALIZER));

/**
 * Before anything is written to the hub: the IoTHub (unless deleted) and every SecurityModuleConfig of it get the
 * finalizer, and resources deleted with deletionPolicy Retain lose it at once.
 */
export function prepare(view: HubView): KubeChanges {
  const changes = noChanges();
  const hub = view.hub;
  if (hub && !isDeleting(hub) && !hasFinalizer(hub))
    changes.addFinalizers.push({ kind: 'IoTHub', object: hub });
  if (hub)
    for (const config of view.current)
      if (!hasFinalizer(config) && !isDeleting(config))
        changes.addFinalizers.push({ kind: configKindOf(config), object: config });
  changes.removeFinalizers.push(...releaseRetained(view));
  return changes;
}

/** The IoTHub does not exist: its resources say so, and deleting ones let go. */
export function decideWithoutHub(view: HubView, context: DecisionContext): HubDecision {
  return {
    changes: configsWithoutHub(view, hubMissing(view.key), context),
    result: { kind: 'done' },
    dropHub: true,
  };
}

/**
 * The hub cannot be used (invalid spec, Secret, credentials, or a step that failed): the IoTHub and its resources
 * say why. A stalled problem waits for a change (it comes back at the resync); another is retried after its
 * backoff. `letGo`: a deleted IoTHub whose twins cannot be reached at all lets go (its resources say why).
 */
export function decideBlocked(
  view: ExistingHubView,
  problem: HubProblem,
  context: DecisionContext,
  options: { letGo: boolean },
): HubDecision {
  const { hub } = view;
  const changes = mergeChanges(
    hubChange(
      hub,
      context,
      iotHubStatus({ ok: false, ...problem }, lastCounts(hub), statusContext(hub, context)),
    ),
    configsWithoutHub(view, problem, context),
  );
  if (options.letGo) changes.removeFinalizers.push({ kind: 'IoTHub', object: hub });
  const result: ReconcileResult = isRetried(problem.reason)
    ? { kind: 'retry', error: problem.cause ?? new Error(`${problem.reason}: ${problem.message}`) }
    : { kind: 'terminal', requeueAfterMs: context.resyncMs };
  return { changes, result, dropHub: false };
}

/** After a step of a hub in use: its status and every resource's; come back when the session says. */
export function decideAfterStep(
  view: ExistingHubView,
  inputs: PlanInputs,
  outcome: StepOutcome,
  hostName: string,
  context: DecisionContext,
): HubDecision {
  const modules = securityModuleCount(outcome.snapshot);
  const message = `connected to ${hostName}: ${outcome.devices} devices${modules === undefined ? '' : `, ${modules} with the security module`}`;
  const { changes } = afterStep(view, inputs, outcome, message, context);
  // A ConfigMap a resource waits for is looked for again soon: it is picked up when it appears (or can be read).
  const waitingForConfigMap = [...inputs.heldBecause.values()].some((h) => h.reason.startsWith('ConfigMap'));
  const requeueAfterMs = waitingForConfigMap
    ? Math.min(outcome.nextStepInMs, CONFIG_MAP_RECHECK_MS)
    : outcome.nextStepInMs;
  return { changes, result: { kind: 'done', requeueAfterMs }, dropHub: false };
}

/** How soon a missing (or unreadable) ConfigMap is looked for again. */
export const CONFIG_MAP_RECHECK_MS = 10_000;

/**
 * After a step of a deleted IoTHub, which took its resources' settings off its twins by their deletionPolicy: it
 * lets go, and is forgotten, once no twin holds anything of them.
 */
export function decideCleanup(
  view: ExistingHubView,
  inputs: PlanInputs,
  outcome: StepOutcome,
  context: DecisionContext,
): HubDecision {
  const message =
    'being deleted: the settings of its resources are taken off its twins by their deletionPolicy';
  const { changes, clean } = afterStep(view, inputs, outcome, message, context);
  if (!clean)
    return { changes, result: { kind: 'done', requeueAfterMs: outcome.nextStepInMs }, dropHub: false };
  changes.removeFinalizers.push({ kind: 'IoTHub', object: view.hub });
  return { changes, result: { kind: 'done' }, dropHub: true };
}

/**
 * The statuses after a step; resources that moved away and are off its twins now are handed to their hub.
 * `clean`: no twin of the hub holds anything of any resource it answers for.
 */
function afterStep(
  view: ExistingHubView,
  inputs: PlanInputs,
  outcome: StepOutcome,
  message: string,
  context: DecisionContext,
): { changes: KubeChanges; clean: boolean } {
  const { hub } = view;
  const hubStatus = iotHubStatus(
    { ok: true, message },
    { devices: outcome.devices, securityModules: securityModuleCount(outcome.snapshot) },
    statusContext(hub, context),
  );
  const handedOver = noChanges();
  let awayHolding = 0;
  for (const config of view.away) {
    if (ownedTwins(config, outcome.snapshot, context.manager) > 0) {
      awayHolding++;
      continue;
    }
    if (config.metadata.uid !== undefined) handedOver.cleaned.push(config.metadata.uid);
    const target = config.spec?.hubRef?.name;
    if (target) handedOver.enqueue.push(`${config.metadata.namespace}/${target}`);
  }
  const configs = configsAfterStep(view, inputs, outcome, context);
  return {
    changes: mergeChanges(hubChange(hub, context, hubStatus), handedOver, configs.changes),
    clean: configs.remaining === 0 && awayHolding === 0,
  };
}

function hubChange(
  hub: HubObject,
  context: DecisionContext,
  status: ReturnType<typeof iotHubStatus>,
): KubeChanges {
  const changes = noChanges();
  changes.statuses.push(hubStatusChange(hub, status, statusOf(hub, context)));
  return changes;
}

function lastCounts(hub: HubObject): { devices?: number; securityModules?: number } {
  return { devices: hub.status?.devices, securityModules: hub.status?.securityModules };
}
