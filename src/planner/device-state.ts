// Where a device stands for a resource that targets it: from its failure if any, what its device reports for the
// resource's settings, whether it is online, and (for a silent online device) the resource's convergenceTimeout.
import type { ReportedState } from '../profiles/twin-profile.js';
import { type DeviceEvaluation, writtenAtFor } from './device-evaluation.js';
import type { DeviceFailure, DeviceState, PlannedResource } from './types.js';

/** Desired carries the plan and the online device has not answered yet: pending or stalled, by resource. */
export type DeviceBaseState = DeviceState | 'awaitingDevice';

export function isOnline(evaluation: DeviceEvaluation): boolean {
  return evaluation.device.connectionState === 'Connected' && evaluation.device.status !== 'disabled';
}

export function deviceBaseState(
  evaluation: DeviceEvaluation,
  reported: ReportedState,
  failure: DeviceFailure | undefined,
): DeviceBaseState {
  if (failure) return 'failed';
  if (reported.state === 'converged') return 'converged';
  if (reported.state === 'rejected') return 'rejected';
  if (!isOnline(evaluation)) return 'offline';
  return evaluation.applied ? 'awaitingDevice' : 'pending';
}

export function deviceState(
  base: DeviceBaseState,
  evaluation: DeviceEvaluation,
  resource: PlannedResource,
  now: number,
): DeviceState {
  if (base !== 'awaitingDevice') return base;
  const written = writtenAtFor(evaluation, resource);
  if (written === undefined) return 'pending';
  const since = Math.max(written, evaluation.device.onlineSince ?? written);
  return now - since > resource.convergenceTimeoutMs ? 'stalled' : 'pending';
}
