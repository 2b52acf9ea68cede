// Ready, Reconciling and Stalled for one Ready reason, in the Kubernetes conventions (kstatus polarity). Their
// statuses come from the table of reasons (src/api/reasons.ts); the callers say only which reason, and the words.
import { conditionOn, REASONS, type Reason, type Situation } from '../api/reasons.js';
import type { PlannedCondition } from './resource-report.js';

export interface ConditionWording extends Situation {
  /** What Reconciling says when it is True, and when it is False. */
  reconciling: { on: [Reason, string]; off: [Reason, string] };
  /** What Stalled says when it is False (True, it shows Ready's reason and message). */
  notStalled: [Reason, string];
}

export function readyConditions(
  reason: Reason,
  message: string,
  wording: ConditionWording,
): PlannedCondition[] {
  const ready = REASONS[reason] as { ready?: 'True' | 'False' };
  if (!ready.ready) throw new Error(`${reason} is no reason of Ready`);
  const reconciling = conditionOn(reason, 'reconciling', wording);
  const stalled = conditionOn(reason, 'stalled', wording);
  const [reconcilingReason, reconcilingMessage] = reconciling
    ? wording.reconciling.on
    : wording.reconciling.off;
  const [stalledReason, stalledMessage] = stalled ? [reason, message] : wording.notStalled;
  return [
    { type: 'Ready', status: ready.ready, reason, message },
    {
      type: 'Reconciling',
      status: reconciling ? 'True' : 'False',
      reason: reconcilingReason,
      message: reconcilingMessage,
    },
    { type: 'Stalled', status: stalled ? 'True' : 'False', reason: stalledReason, message: stalledMessage },
  ];
}
