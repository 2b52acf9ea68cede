// Where a device stands for one resource that targets it.
import type { DeviceEvaluation } from './device-evaluation.js';
import type { DeviceFailure, DeviceState, PlannedResource } from './types.js';

export function isOnline(evaluation: DeviceEvaluation): boolean {
  return evaluation.device.connectionState === 'Connected' && evaluation.device.status !== 'disabled';
}

export function deviceState(
  evaluation: DeviceEvaluation,
  resource: PlannedResource,
  failure: DeviceFailure | undefined,
  now: number,
): DeviceState {
  if (failure) return 'failed';
  if (evaluation.converged) return 'converged';
  if (!isOnline(evaluation)) return 'offline';
  if (!evaluation.applied) return 'pending';
  const since = evaluation.module?.desiredUpdatedAt;
  if (since !== undefined && now - since > resource.convergenceTimeoutMs) return 'stalled';
  return 'pending';
}
