// The status of one resource after a plan: device counts, the first failures, and conditions in the
// Kubernetes conventions (Ready, Reconciling, Stalled), with messages a person can act on.
import type { Reason } from '../api/reasons.js';
import { cutText } from '../validation/value-words.js';
import { type ConditionWording, readyConditions } from './ready-conditions.js';
import type { RolloutProgress } from './rollout.js';
import type { DeviceFailure, DeviceState } from './types.js';

export interface DeviceCounts {
  targetedDevices: number;
  appliedDevices: number;
  convergedDevices: number;
  pendingDevices: number;
  offlineDevices: number;
  stalledDevices: number;
  failedDevices: number;
  /** Devices that refused the values (TwinConfig: an IoT Plug and Play acknowledgement that is not 2xx). */
  rejectedDevices: number;
  conflictingDevices: number;
}

export interface PlannedCondition {
  type: 'Ready' | 'Reconciling' | 'Stalled';
  status: 'True' | 'False';
  reason: Reason;
  message: string;
}

export interface ResourceReport {
  resourceKey: string;
  /** The resource's revision: a hash of what it asks of devices (recorded in twins it reached). */
  revision: string;
  counts: DeviceCounts;
  /** A sample of the failures (at most 20, each reason present its share, see failure-sample.ts), by device id. */
  failures: DeviceFailure[];
  /** The rejection of the lowest device id, whether or not the sample lists it: the Ready message quotes it. */
  firstRejection?: DeviceFailure;
  /**
   * What its stalled devices are not doing, in the words of its profile and convergence ('not acknowledging the
   * values'), for the Ready message.
   */
  unanswered: string;
  conditions: PlannedCondition[];
  rollout: RolloutProgress;
  suspended: boolean;
  /** Devices this plan writes for this resource, the settings that change, and a few of their ids. */
  plannedWrites: number;
  changingSettings: string[];
  sampleDeviceIds: string[];
  /** Devices that need a write but wait for the next rollout batch. */
  deferredDevices: number;
  /** Of the failed devices, those whose write failed for a cause that passes (retried, in the table of reasons). */
  retryingDevices: number;
  /** Of those, devices whose twin another writer kept changing (TwinBusy): no fault of the hub. */
  busyDevices: number;
  /** Devices where an equal-priority resource's value won over this resource's, or another manager's did. */
  lostConflictDevices: number;
  /** Of those, devices where another manager owns a setting this resource sets. */
  managedElsewhereDevices: number;
  /**
   * Of those, devices where every such owner is this manager's own resource out of this plan's scope (one it keeps
   * for another IoTHub): the same manager, not another one.
   */
  outOfScopeDevices: number;
  /** The Ready condition is True. */
  ready: boolean;
  /**
   * Not Ready, and nothing left in progress that could change that without a change of spec or fleet (failed or
   * stalled devices, a halted rollout, a lost conflict): what `sync --wait` stops on.
   */
  stuck: boolean;
}

/** Whether a report with these conditions is Ready, and whether it is stuck short of it. */
export function readiness(
  report: Pick<
    ResourceReport,
    'suspended' | 'counts' | 'rollout' | 'lostConflictDevices' | 'retryingDevices'
  >,
  conditions: readonly PlannedCondition[],
): { ready: boolean; stuck: boolean } {
  const ready = conditions.some((c) => c.type === 'Ready' && c.status === 'True');
  const c = report.counts;
  // A halted rollout writes nothing more: its later batches stay pending (and failed writes unretried) until the
  // spec changes. Only the answers of the devices it wrote are worth waiting for.
  const halted = report.rollout.halted && report.rollout.inFlight === 0;
  const stuck =
    !ready &&
    !report.suspended &&
    (halted ||
      (c.pendingDevices === 0 &&
        report.retryingDevices === 0 &&
        (c.failedDevices + c.stalledDevices + c.rejectedDevices > 0 || report.lostConflictDevices > 0)));
  return { ready, stuck };
}

export function emptyCounts(): DeviceCounts {
  return {
    targetedDevices: 0,
    appliedDevices: 0,
    convergedDevices: 0,
    pendingDevices: 0,
    offlineDevices: 0,
    stalledDevices: 0,
    failedDevices: 0,
    rejectedDevices: 0,
    conflictingDevices: 0,
  };
}

const COUNT_OF_STATE: Record<DeviceState, keyof DeviceCounts> = {
  converged: 'convergedDevices',
  pending: 'pendingDevices',
  offline: 'offlineDevices',
  stalled: 'stalledDevices',
  failed: 'failedDevices',
  rejected: 'rejectedDevices',
};

export function countState(counts: DeviceCounts, state: DeviceState): void {
  counts[COUNT_OF_STATE[state]]++;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** How much of a device's own words a condition message quotes (the Event of a transition carries the message). */
const QUOTED_WORDS = 200;

/**
 * The first rejection (by device id) in the device's words, `pnp-000004: targetTemperature refused (400): ...`, so
 * that the condition and the Event of its transition say what the devices said, not only how many.
 */
function quoted(rejection: DeviceFailure | undefined): string | undefined {
  if (!rejection) return undefined;
  return `${rejection.deviceId}: ${cutText(rejection.message, QUOTED_WORDS)}`;
}

export function resourceConditions(
  report: Omit<ResourceReport, 'conditions' | 'ready' | 'stuck'>,
  thresholdText: string,
): PlannedCondition[] {
  const c = report.counts;
  const pending = c.pendingDevices > 0;
  const progressMessage = `${plural(c.pendingDevices, 'device')} of ${c.targetedDevices} pending (${c.convergedDevices} converged${report.deferredDevices ? `, ${report.deferredDevices} waiting for a rollout batch of ${report.rollout.batchSize}` : ''})`;
  // Devices being written or awaited make Reconciling True; nothing failed or stalled makes Stalled False.
  const progress = {
    pending,
    reconciling: {
      on: ['Progressing', progressMessage],
      off: ['Idle', 'nothing to do'],
    },
    notStalled: ['NoFailures', 'no device failed or stalled'],
  } satisfies ConditionWording;
  /** Words for a reason that says everything itself on all three conditions. */
  const itself = (reason: Reason, message: string): ConditionWording => ({
    reconciling: { on: [reason, message], off: [reason, message] },
    notStalled: [reason, message],
  });

  if (report.suspended) {
    const message =
      'suspended: nothing is written for this resource; the settings it owns stay as they are unless a resource of higher priority sets them';
    return readyConditions('Suspended', message, itself('Suspended', message));
  }
  const rejection = quoted(report.firstRejection);
  if (report.rollout.halted) {
    const what = c.rejectedDevices ? 'stalled, failed or rejected' : 'stalled or failed';
    const message = `rollout halted: ${report.rollout.failing} of ${plural(report.rollout.reached, 'device')} reached are ${what}, above failureThreshold ${thresholdText}${rejection ? ` (${rejection})` : ''}; fix the cause (see status.failures) and change the spec to resume`;
    return readyConditions('RolloutHalted', message, itself('RolloutHalted', message));
  }
  const troubled = c.failedDevices + c.stalledDevices + c.rejectedDevices;
  if (troubled > 0 && troubled === report.retryingDevices) {
    // Another writer's changes are no hub fault: HubErrors (a Warning Event) only when the hub failed some writes.
    const busyOnly = report.busyDevices === report.retryingDevices;
    const message = busyOnly
      ? `${plural(report.retryingDevices, 'device')} not written yet: another writer kept changing their twins (see status.failures); retrying`
      : `${plural(report.retryingDevices, 'device')} not written yet: the hub throttled or was unavailable${report.busyDevices ? ', or another writer kept changing them' : ''} (see status.failures); retrying`;
    return readyConditions(busyOnly ? 'TwinsBusy' : 'HubErrors', message, itself('RetryingWrites', message));
  }
  if (troubled > 0) {
    const reason: Reason = c.failedDevices
      ? 'DevicesFailed'
      : c.rejectedDevices
        ? 'DevicesRejected'
        : 'DevicesStalled';
    const parts = [
      c.failedDevices ? `${plural(c.failedDevices, 'device')} failed` : '',
      c.rejectedDevices
        ? `${plural(c.rejectedDevices, 'device')} rejected the values${rejection ? ` (${rejection})` : ''}`
        : '',
      c.stalledDevices
        ? `${plural(c.stalledDevices, 'device')} stalled (online, ${report.unanswered} within convergenceTimeout)`
        : '',
    ].filter(Boolean);
    return readyConditions(reason, `${parts.join(', ')}; see status.failures`, progress);
  }
  if (report.lostConflictDevices > 0) {
    const elsewhere = report.managedElsewhereDevices;
    const lost = report.lostConflictDevices;
    const message =
      elsewhere === lost && report.outOfScopeDevices === lost
        ? `on ${plural(lost, 'device')} settings this resource sets are owned by resources the same manager keeps for another IoTHub (out of this one's scope), and stay theirs (see status.failures); if those were written to this hub by mistake, remove them (sync: a run whose files leave them out, with --prune), else remove the settings from one of the two`
        : elsewhere === lost
          ? `on ${plural(elsewhere, 'device')} another manager of this hub owns settings this resource sets, and keeps them (see status.failures); remove them from one of the two`
          : `on ${plural(lost, 'device')} a resource of the same priority${elsewhere ? ' (or another manager of this hub)' : ''} sets other values, and they win (see status.failures); give the resources different priorities`;
    return readyConditions('ConflictingSettings', message, progress);
  }
  if (pending) return readyConditions('Progressing', progressMessage, progress);
  if (c.targetedDevices === 0) return readyConditions('NoTargets', 'the target matches no device', progress);
  const offlineNote = c.offlineDevices
    ? `; ${plural(c.offlineDevices, 'offline device')} will get it when they connect`
    : '';
  const conflictNote = c.conflictingDevices
    ? `; on ${plural(c.conflictingDevices, 'device')} a resource of the same priority disagrees, and this one wins (see status.failures)`
    : '';
  return readyConditions(
    'Converged',
    `all ${plural(c.targetedDevices - c.offlineDevices, 'online targeted device')} report the configuration${offlineNote}${conflictNote}`,
    progress,
  );
}
