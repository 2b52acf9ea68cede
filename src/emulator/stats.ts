// Request counts by operation class and status code, so tests and benchmarks can count a client's calls.
import type { OperationClass } from '../quotas/index.js';

export type StatsClass = OperationClass | 'admin' | 'unknown';

export interface EmulatorStatsSnapshot {
  since: string;
  totalRequests: number;
  /** requests[class][status] = count */
  requests: Record<string, Record<string, number>>;
  /** 429 answers by class. */
  throttled: Record<string, number>;
  /** Injected faults by class: 500, 503 and reset. */
  faults: Record<string, Record<string, number>>;
  /** Twin updates the hub applied, by twin (`deviceId` or `deviceId/moduleId`): who wrote what how often. */
  twinUpdates: Record<string, number>;
}

export class EmulatorStats {
  private since = new Date();
  private total = 0;
  private requests = new Map<string, Map<number, number>>();
  private faults = new Map<string, Map<string, number>>();
  private updates = new Map<string, number>();

  record(operation: StatsClass, status: number): void {
    this.total++;
    let byStatus = this.requests.get(operation);
    if (!byStatus) {
      byStatus = new Map();
      this.requests.set(operation, byStatus);
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }

  recordFault(operation: StatsClass, kind: '500' | '503' | 'reset'): void {
    let byKind = this.faults.get(operation);
    if (!byKind) {
      byKind = new Map();
      this.faults.set(operation, byKind);
    }
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  }

  /** A twin update (PATCH or PUT) the hub applied. */
  recordTwinUpdate(deviceId: string, moduleId?: string): void {
    const key = moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
    this.updates.set(key, (this.updates.get(key) ?? 0) + 1);
  }

  /** Updates applied to one twin since the last reset. */
  twinUpdates(deviceId: string, moduleId?: string): number {
    return this.updates.get(moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`) ?? 0;
  }

  /** How many requests of a class got a status (any status when omitted). */
  count(operation: StatsClass, status?: number): number {
    const byStatus = this.requests.get(operation);
    if (!byStatus) return 0;
    if (status !== undefined) return byStatus.get(status) ?? 0;
    let sum = 0;
    for (const n of byStatus.values()) sum += n;
    return sum;
  }

  reset(): void {
    this.since = new Date();
    this.total = 0;
    this.requests.clear();
    this.faults.clear();
    this.updates.clear();
  }

  snapshot(): EmulatorStatsSnapshot {
    const requests: Record<string, Record<string, number>> = {};
    const throttled: Record<string, number> = {};
    for (const [operation, byStatus] of this.requests) {
      requests[operation] = Object.fromEntries([...byStatus].map(([status, n]) => [String(status), n]));
      const limited = byStatus.get(429);
      if (limited) throttled[operation] = limited;
    }
    const faults: Record<string, Record<string, number>> = {};
    for (const [operation, byKind] of this.faults) faults[operation] = Object.fromEntries(byKind);
    return {
      since: this.since.toISOString(),
      totalRequests: this.total,
      requests,
      throttled,
      faults,
      twinUpdates: Object.fromEntries(this.updates),
    };
  }
}
