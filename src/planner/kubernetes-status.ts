// The status a resource carries in Kubernetes, computed in one place for both drivers: the controller writes it,
// `sync --output json` prints it. Pure: the previous status, the generation and the time are inputs.
import type {
  Condition,
  IoTHubStatus,
  SecurityModuleConfigStatus,
  TwinConfigStatus,
} from '../api/generated/types.js';
import { formatKubeTime } from '../api/kube-time.js';
import type { Reason } from '../api/reasons.js';
import { readyConditions } from './ready-conditions.js';
import type { PlannedCondition, ResourceReport } from './resource-report.js';

export interface StatusContext {
  /** The status the object carries now (from the cluster, or the last one printed): transition times are kept. */
  previous?: { conditions?: Condition[] };
  /** metadata.generation of the object the status is for. */
  generation?: number;
  now: Date;
}

/**
 * Conditions with `lastTransitionTime` kept from the previous status unless the condition's status changes,
 * and `observedGeneration` set to the generation they were computed from.
 */
export function kubernetesConditions(
  planned: readonly PlannedCondition[],
  context: StatusContext,
): Condition[] {
  const now = formatKubeTime(context.now);
  return planned.map((c) => {
    const before = context.previous?.conditions?.find((p) => p.type === c.type);
    return {
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now,
      ...(context.generation === undefined ? {} : { observedGeneration: context.generation }),
    };
  });
}

function generationOf(context: StatusContext): { observedGeneration?: number } {
  return context.generation === undefined ? {} : { observedGeneration: context.generation };
}

/** What the controller adds to a SecurityModuleConfig's status (sync has no use for them). */
export interface ConfigStatusExtras {
  lastHandledReconcileAt?: string;
  /** IoTHubs whose twins may hold the resource's settings. */
  hubs?: string[];
}

function extras(context: ConfigStatusExtras): ConfigStatusExtras {
  return {
    ...(context.hubs === undefined ? {} : { hubs: context.hubs }),
    ...(context.lastHandledReconcileAt === undefined
      ? {}
      : { lastHandledReconcileAt: context.lastHandledReconcileAt }),
  };
}

function withoutRejected(
  counts: ResourceReport['counts'],
): Omit<ResourceReport['counts'], 'rejectedDevices'> {
  const { rejectedDevices: _rejected, ...rest } = counts;
  return rest;
}

function rolloutStatus(report: ResourceReport): NonNullable<SecurityModuleConfigStatus['rollout']> {
  return {
    revision: report.revision,
    batchSize: report.rollout.batchSize,
    reachedDevices: report.rollout.reached,
    halted: report.rollout.halted,
  };
}

/** A SecurityModuleConfig's status from the planner's report of it. */
export function securityModuleConfigStatus(
  report: ResourceReport,
  context: StatusContext & ConfigStatusExtras,
): SecurityModuleConfigStatus {
  return {
    ...generationOf(context),
    conditions: kubernetesConditions(report.conditions, context),
    // A SecurityModuleConfig's devices never reject (the agent does not say so): its status has no such count.
    ...withoutRejected(report.counts),
    failures: report.failures,
    rollout: rolloutStatus(report),
    ...extras(context),
  };
}

/** A TwinConfig's status from the planner's report of it: a SecurityModuleConfig's, with the devices that rejected. */
export function twinConfigStatus(
  report: ResourceReport,
  context: StatusContext & ConfigStatusExtras,
): TwinConfigStatus {
  const { rejectedDevices, ...counts } = report.counts;
  return {
    ...generationOf(context),
    conditions: kubernetesConditions(report.conditions, context),
    ...counts,
    rejectedDevices,
    failures: report.failures,
    rollout: rolloutStatus(report),
    ...extras(context),
  };
}

/**
 * Conditions of a resource the planner cannot report on: its hub is not usable, or its spec is invalid. Whether it
 * is Stalled (waits for a change: a fix of the spec, the Secret, the hub) or Reconciling (retried) comes from the
 * table of reasons; a reason that follows its cause (DeletionBlocked) takes the cause's.
 */
export function blockedConditions(reason: Reason, message: string, cause?: Reason): PlannedCondition[] {
  return readyConditions(reason, message, {
    cause,
    reconciling: { on: ['Retrying', `retrying: ${message}`], off: [reason, message] },
    notStalled: [reason, message],
  });
}

/**
 * The status of a SecurityModuleConfig that was not planned (hub not Ready, invalid spec): the new conditions,
 * and the counts and failures it carried, which are the last known (a removal of them would read as "0 devices").
 */
export function blockedSecurityModuleConfigStatus(
  conditions: readonly PlannedCondition[],
  previous: SecurityModuleConfigStatus | undefined,
  context: StatusContext & { lastHandledReconcileAt?: string },
): SecurityModuleConfigStatus {
  const {
    conditions: _old,
    observedGeneration: _gen,
    lastHandledReconcileAt: _handled,
    ...kept
  } = previous ?? {};
  return {
    ...kept,
    ...generationOf(context),
    conditions: kubernetesConditions(conditions, { ...context, previous }),
    ...(context.lastHandledReconcileAt === undefined
      ? {}
      : { lastHandledReconcileAt: context.lastHandledReconcileAt }),
  };
}

/** An IoTHub's status: Ready (and Stalled when only a change can help), the devices at the last snapshot. */
export function iotHubStatus(
  ready: { ok: true; message: string } | { ok: false; reason: Reason; message: string },
  counts: { devices?: number; securityModules?: number },
  context: StatusContext & { lastHandledReconcileAt?: string },
): IoTHubStatus {
  // An IoTHub has no Reconciling condition: Ready and Stalled, from the table of reasons.
  const reason = ready.ok ? 'Connected' : ready.reason;
  const conditions = readyConditions(reason, ready.message, {
    reconciling: { on: [reason, ready.message], off: [reason, ready.message] },
    notStalled: [reason, ready.message],
  }).filter((c) => c.type !== 'Reconciling');
  return {
    ...generationOf(context),
    conditions: kubernetesConditions(conditions, context),
    ...(counts.devices === undefined ? {} : { devices: counts.devices }),
    ...(counts.securityModules === undefined ? {} : { securityModules: counts.securityModules }),
    ...(context.lastHandledReconcileAt === undefined
      ? {}
      : { lastHandledReconcileAt: context.lastHandledReconcileAt }),
  };
}
