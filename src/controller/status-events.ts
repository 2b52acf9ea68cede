// Which Events a status change is worth: transitions only (a rollout started or moved to its next batch, halted,
// converged, a conflict, an invalid spec, a hub that became unreachable), read off the status before and after,
// so that a restart of the operator does not repeat them.
// The Event type of a transition of Ready comes from the table of reasons (src/api/reasons.ts).
import type { Condition, IoTHubStatus, SecurityModuleConfigStatus } from '../api/generated/types.js';
import { eventTypeOf, REASONS } from '../api/reasons.js';
import type { RecordedEvent } from './event-recorder.js';

function ready(status: { conditions?: Condition[] } | undefined): Condition | undefined {
  return status?.conditions?.find((c) => c.type === 'Ready');
}

export function configEvents(
  before: SecurityModuleConfigStatus | undefined,
  after: SecurityModuleConfigStatus,
): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  const rollout = after.rollout;
  const previous = before?.rollout;
  if (rollout?.revision && rollout.revision !== previous?.revision && (after.targetedDevices ?? 0) > 0) {
    const batches = rollout.batchSize ? Math.ceil((after.targetedDevices ?? 0) / rollout.batchSize) : 1;
    events.push({
      type: REASONS.RolloutStarted.event,
      reason: 'RolloutStarted',
      message: `rolling out revision ${rollout.revision} to ${after.targetedDevices} devices${batches > 1 ? ` in ${batches} batches of ${rollout.batchSize}` : ''}`,
    });
  } else if (
    rollout?.batchSize &&
    rollout.revision === previous?.revision &&
    Math.ceil((rollout.reachedDevices ?? 0) / rollout.batchSize) >
      Math.ceil((previous?.reachedDevices ?? 0) / rollout.batchSize)
  ) {
    const batch = Math.ceil((rollout.reachedDevices ?? 0) / rollout.batchSize);
    const batches = Math.ceil((after.targetedDevices ?? 0) / rollout.batchSize);
    events.push({
      type: REASONS.BatchAdvanced.event,
      reason: 'BatchAdvanced',
      message: `batch ${batch} of ${batches} written: ${rollout.reachedDevices} of ${after.targetedDevices} devices reached`,
    });
  }
  events.push(...readyTransition(before, after));
  return events;
}

export function hubEvents(before: IoTHubStatus | undefined, after: IoTHubStatus): RecordedEvent[] {
  return readyTransition(before, after);
}

/** The Event of Ready's new reason, when Ready changed and its reason records one. */
function readyTransition(
  before: { conditions?: Condition[] } | undefined,
  after: { conditions?: Condition[] },
): RecordedEvent[] {
  const was = ready(before);
  const now = ready(after);
  if (!now || (now.status === was?.status && now.reason === was?.reason)) return [];
  const type = eventTypeOf(now.reason);
  return type ? [{ type, reason: now.reason, message: now.message }] : [];
}
