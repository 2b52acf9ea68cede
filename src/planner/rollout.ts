// Staged rollout of a resource's new revision: devices it newly affects go in batches; the next batch starts
// when the previous one has converged or timed out; too many stalled or failed devices halt it.

export interface RolloutProgress {
  /** Targeted devices already written at the current revision (the twins record it). */
  reached: number;
  /** Of those, online devices still waiting for their agent, within the convergence timeout. */
  inFlight: number;
  /** Of those, devices stalled or failed. */
  failing: number;
  /** Devices per batch, resolved from a count or a percentage of the targeted devices. */
  batchSize: number;
  halted: boolean;
  /** Devices this reconcile may newly write for this resource. */
  capacity: number;
}

/** A count, or a percentage of `total` rounded up (at least 1 when the percentage is not 0). */
export function resolveAmount(amount: number | string, total: number): number {
  if (typeof amount === 'number') return amount;
  const percent = Number.parseInt(amount, 10);
  return percent === 0 ? 0 : Math.max(1, Math.ceil((percent * total) / 100));
}

export function exceedsThreshold(threshold: number | string, failing: number, reached: number): boolean {
  if (failing === 0) return false;
  if (typeof threshold === 'number') return failing > threshold;
  return (failing * 100) / Math.max(reached, 1) > Number.parseInt(threshold, 10);
}

export function rolloutProgress(
  rollout: { batchSize: number | string; failureThreshold: number | string },
  targeted: number,
  reached: number,
  inFlight: number,
  failing: number,
): RolloutProgress {
  const batchSize = Math.max(1, resolveAmount(rollout.batchSize, targeted));
  const halted = exceedsThreshold(rollout.failureThreshold, failing, reached);
  // Strict batches: nothing beyond the current batch starts while it is in flight. A batch written in part (a
  // reconcile interrupted, or some writes refused) is completed first; `reached` counts whole batches before it.
  const filled = reached % batchSize;
  const capacity = halted ? 0 : inFlight === 0 ? batchSize : filled === 0 ? 0 : batchSize - filled;
  return { reached, inFlight, failing, batchSize, halted, capacity };
}
