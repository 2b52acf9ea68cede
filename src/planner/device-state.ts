// Where a device stands for a resource that targets it. Most of it is the device's own state; only whether an
// applied, silent device is stalled depends on the resource (its convergenceTimeout).
import type { DeviceEvaluation } from './device-evaluation.js';
import type { DeviceFailure, DeviceState, PlannedResource } from './types.js';

/** An applied configuration the online agent has not reported yet: pending or stalled, by resource. */
export type DeviceBaseState = DeviceState | 'awaitingAgent';

export function isOnline(evaluation: DeviceEvaluation): boolean {
  return evaluation.device.connectionState === 'Connected' && evaluation.device.status !== 'disabled';
}

export function deviceBaseState(
  evaluation: DeviceEvaluation,
  failure: DeviceFailure | undefined,
): DeviceBaseState {
  if (failure) return 'failed';
  if (evaluation.converged) return 'converged';
  if (!isOnline(evaluation)) return 'offline';
  return evaluation.applied ? 'awaitingAgent' : 'pending';
}

export function deviceState(
  base: DeviceBaseState,
  evaluation: DeviceEvaluation,
  resource: PlannedResource,
  now: number,
): DeviceState {
  if (base !== 'awaitingAgent') return base;
  const written = evaluation.module?.desiredUpdatedAt;
  if (written === undefined) return 'pending';
  const since = Math.max(written, evaluation.device.onlineSince ?? written);
  return now - since > resource.convergenceTimeoutMs ? 'stalled' : 'pending';
}
