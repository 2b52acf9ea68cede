// TwinConfig statuses as the operator computes them, without a hub or a cluster: from device counts through the
// planner's conditions (resourceConditions) and twinConfigStatus, or, for a resource the planner cannot report on
// (its ConfigMap missing), through blockedConditions as the controller holds it. For tests of how tools read them.
import type { Reason } from '../../src/api/reasons.js';
import {
  blockedConditions,
  blockedSecurityModuleConfigStatus,
  twinConfigStatus,
} from '../../src/planner/kubernetes-status.js';
import {
  type DeviceCounts,
  emptyCounts,
  type ResourceReport,
  readiness,
  resourceConditions,
} from '../../src/planner/resource-report.js';

export interface PlannedTwinConfig {
  /** Device counts besides targetedDevices (12 by default); the rest are 0. */
  counts?: Partial<DeviceCounts>;
  /** The rollout halted past its failureThreshold (10%). */
  halted?: boolean;
  /** metadata.generation the status is computed for (1). */
  generation?: number;
  now?: Date;
}

const THRESHOLD = '10%';
/** What a thermostat on the legacy firmware answers to 33 °C (as the emulator's say it). */
const REJECTION =
  'targetTemperature refused (400): targetTemperature 33 is outside 10..30 °C, the range firmware 1.9.3 accepts';

/** The status the planner gives a TwinConfig whose devices are as `counts` say. */
export function plannedTwinConfigStatus({
  counts = {},
  halted = false,
  generation = 1,
  now = new Date(0),
}: PlannedTwinConfig = {}) {
  const all: DeviceCounts = { ...emptyCounts(), targetedDevices: 12, ...counts };
  const rejected = Array.from({ length: Math.min(all.rejectedDevices, 3) }, (_, i) => ({
    deviceId: `pnp-00000${i + 1}`,
    reason: 'DeviceRejected' as Reason,
    message: REJECTION,
  }));
  const partial: Omit<ResourceReport, 'conditions' | 'ready' | 'stuck'> = {
    resourceKey: 'iot/TwinConfig/setpoint',
    revision: 'r1',
    counts: all,
    failures: rejected,
    firstRejection: rejected[0],
    // One batch of every targeted device, all of them written.
    rollout: {
      reached: all.targetedDevices,
      inFlight: all.pendingDevices,
      failing: all.rejectedDevices + all.failedDevices + all.stalledDevices,
      batchSize: all.targetedDevices,
      halted,
      capacity: 0,
    },
    suspended: false,
    plannedWrites: 0,
    changingSettings: [],
    sampleDeviceIds: [],
    deferredDevices: 0,
    retryingDevices: 0,
    busyDevices: 0,
    lostConflictDevices: 0,
    managedElsewhereDevices: 0,
    outOfScopeDevices: 0,
    unanswered: 'not acknowledging the values',
  };
  const conditions = resourceConditions(partial, THRESHOLD);
  return twinConfigStatus({ ...partial, conditions, ...readiness(partial, conditions) }, { now, generation });
}

/** The status the controller gives a TwinConfig it holds for `reason` (ConfigMapNotFound, ConfigMapKeyMissing...). */
export function heldTwinConfigStatus(
  reason: Reason,
  message: string,
  { generation = 1, now = new Date(0) }: Pick<PlannedTwinConfig, 'generation' | 'now'> = {},
) {
  return blockedSecurityModuleConfigStatus(blockedConditions(reason, message), undefined, {
    now,
    generation,
  });
}
