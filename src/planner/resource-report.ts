// The status of one resource after a plan: device counts, the first failures, and conditions in the
// Kubernetes conventions (Ready, Reconciling, Stalled), with messages a person can act on.
import { isStalled, type Reason } from '../api/reasons.js';
import type { RolloutProgress } from './rollout.js';
import type { DeviceFailure, DeviceState } from './types.js';

export const MAX_REPORTED_FAILURES = 20;

export interface DeviceCounts {
  targetedDevices: number;
  appliedDevices: number;
  convergedDevices: number;
  pendingDevices: number;
  offlineDevices: number;
  stalledDevices: number;
  failedDevices: number;
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
  /** The first failures by device id (at most 20). */
  failures: DeviceFailure[];
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
  const stuck =
    !ready &&
    !report.suspended &&
    c.pendingDevices === 0 &&
    report.retryingDevices === 0 &&
    (c.failedDevices + c.stalledDevices > 0 || report.rollout.halted || report.lostConflictDevices > 0);
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
    conflictingDevices: 0,
  };
}

const COUNT_OF_STATE: Record<DeviceState, keyof DeviceCounts> = {
  converged: 'convergedDevices',
  pending: 'pendingDevices',
  offline: 'offlineDevices',
  stalled: 'stalledDevices',
  failed: 'failedDevices',
};

export function countState(counts: DeviceCounts, state: DeviceState): void {
  counts[COUNT_OF_STATE[state]]++;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function condition(
  type: PlannedCondition['type'],
  on: boolean,
  reason: Reason,
  message: string,
): PlannedCondition {
  return { type, status: on ? 'True' : 'False', reason, message };
}

/** Stalled as the table of reasons says for Ready's reason. */
function stalledFor(reason: Reason, message: string): PlannedCondition {
  return condition('Stalled', isStalled(reason), reason, message);
}

export function resourceConditions(
  report: Omit<ResourceReport, 'conditions' | 'ready' | 'stuck'>,
  thresholdText: string,
): PlannedCondition[] {
  const c = report.counts;
  if (report.suspended) {
    const message =
      'suspended: nothing is written for this resource; the settings it owns stay as they are unless a resource of higher priority sets them';
    return [
      condition('Ready', false, 'Suspended', message),
      condition('Reconciling', false, 'Suspended', message),
      stalledFor('Suspended', message),
    ];
  }
  const offlineNote = c.offlineDevices
    ? `; ${plural(c.offlineDevices, 'offline device')} will get it when they connect`
    : '';
  if (report.rollout.halted) {
    const message = `rollout halted: ${report.rollout.failing} of ${plural(report.rollout.reached, 'device')} reached are stalled or failed, above failureThreshold ${thresholdText}; fix the cause (see failures) and change the spec to resume`;
    return [
      condition('Ready', false, 'RolloutHalted', message),
      condition('Reconciling', false, 'RolloutHalted', message),
      stalledFor('RolloutHalted', message),
    ];
  }
  const troubled = c.failedDevices + c.stalledDevices;
  const progressing = c.pendingDevices > 0;
  const progressMessage = `${plural(c.pendingDevices, 'device')} of ${c.targetedDevices} pending (${c.convergedDevices} converged${report.deferredDevices ? `, ${report.deferredDevices} waiting for a rollout batch of ${report.rollout.batchSize}` : ''})`;
  const reconciling = condition(
    'Reconciling',
    progressing,
    progressing ? 'Progressing' : 'Idle',
    progressing ? progressMessage : 'nothing to do',
  );
  if (troubled > 0 && troubled === report.retryingDevices) {
    // Another writer's changes are no hub fault: HubErrors (a Warning Event) only when the hub failed some writes.
    const busyOnly = report.busyDevices === report.retryingDevices;
    const message = busyOnly
      ? `${plural(report.retryingDevices, 'device')} not written yet: another writer kept changing their twins (see status.failures); retrying`
      : `${plural(report.retryingDevices, 'device')} not written yet: the hub throttled or was unavailable${report.busyDevices ? ', or another writer kept changing them' : ''} (see status.failures); retrying`;
    return [
      condition('Ready', false, busyOnly ? 'TwinsBusy' : 'HubErrors', message),
      condition('Reconciling', true, 'RetryingWrites', message),
      condition('Stalled', false, 'RetryingWrites', message),
    ];
  }
  if (troubled > 0) {
    const reason: Reason = c.failedDevices ? 'DevicesFailed' : 'DevicesStalled';
    const parts = [
      c.failedDevices ? `${plural(c.failedDevices, 'device')} failed` : '',
      c.stalledDevices
        ? `${plural(c.stalledDevices, 'device')} stalled (online, not reporting the configuration within convergenceTimeout)`
        : '',
    ].filter(Boolean);
    const message = `${parts.join(', ')}; see status.failures`;
    return [condition('Ready', false, reason, message), reconciling, stalledFor(reason, message)];
  }
  if (report.lostConflictDevices > 0) {
    const elsewhere = report.managedElsewhereDevices;
    const message =
      elsewhere === report.lostConflictDevices
        ? `on ${plural(elsewhere, 'device')} another manager of this hub owns settings this resource sets, and keeps them (see status.failures); remove them from one of the two`
        : `on ${plural(report.lostConflictDevices, 'device')} a resource of the same priority${elsewhere ? ' (or another manager of this hub)' : ''} sets other values, and they win (see status.failures); give the resources different priorities`;
    return [
      condition('Ready', false, 'ConflictingSettings', message),
      reconciling,
      stalledFor('ConflictingSettings', message),
    ];
  }
  const stalledOff = condition('Stalled', false, 'NoFailures', 'no device failed or stalled');
  if (progressing)
    return [condition('Ready', false, 'Progressing', progressMessage), reconciling, stalledOff];
  if (c.targetedDevices === 0)
    return [condition('Ready', true, 'NoTargets', 'the target matches no device'), reconciling, stalledOff];
  const conflictNote = c.conflictingDevices
    ? `; on ${plural(c.conflictingDevices, 'device')} a resource of the same priority disagrees, and this one wins (see status.failures)`
    : '';
  return [
    condition(
      'Ready',
      true,
      'Converged',
      `all ${plural(c.targetedDevices - c.offlineDevices, 'online targeted device')} report the configuration${offlineNote}${conflictNote}`,
    ),
    reconciling,
    stalledOff,
  ];
}
