// Request counts by operation class and status code, so tests and benchmarks can count a client's calls.
import type { OperationClass } from '../quotas/index.js';

/** 'entra': the token authority's requests (discovery, keys, tokens), counted apart from the hub's. */
export type StatsClass = OperationClass | 'admin' | 'entra' | 'unknown';

/** An injected fault: an error status, a connection dropped before handling, or reset after it. */
export type FaultKind = '429' | '500' | '503' | 'drop' | 'reset';

type TwinClass = 'twinRead' | 'twinUpdate';

/** Writes (twin updates, registry PUTs and DELETEs) asked for in a row by one client (its User-Agent), between two of another client's. */
export interface TwinWriterRun {
  client: string;
  requests: number;
  /** When the first and the last of them arrived. */
  from: string;
  to: string;
}

/** Most runs kept: the oldest go first (a run is a change of writer, so few in a sound test). */
const WRITER_RUNS_KEPT = 1000;

export interface EmulatorStatsSnapshot {
  since: string;
  totalRequests: number;
  /** requests[class][status] = count */
  requests: Record<string, Record<string, number>>;
  /** 429 answers by class. */
  throttled: Record<string, number>;
  /** Injected faults by class: 429, 500, 503, drop and reset. */
  faults: Record<string, Record<string, number>>;
  /** Twin updates the hub applied, by twin (`deviceId` or `deviceId/moduleId`): who wrote what how often. */
  twinUpdates: Record<string, number>;
  /** Twin reads and updates asked for, by twin, whatever their answer (faults and refusals too). */
  twinRequests: Record<TwinClass, Record<string, number>>;
  /** Writable property acknowledgements the IoT Plug and Play devices reported, by `ac` (200, 203, 400). */
  pnpAcknowledgements: Record<string, number>;
  /**
   * Who wrote twins and the registry (modules), in order: one run per change of client; `overlapping` counts the
   * writes that arrived while another client's write was still being answered (two writers at once).
   */
  twinWriters: { runs: TwinWriterRun[]; overlapping: number };
}

const twinKey = (deviceId: string, moduleId?: string) =>
  moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;

export class EmulatorStats {
  private since = new Date();
  private total = 0;
  private requests = new Map<string, Map<number, number>>();
  private faults = new Map<string, Map<string, number>>();
  private updates = new Map<string, number>();
  private twinCalls: Record<TwinClass, Map<string, number>> = { twinRead: new Map(), twinUpdate: new Map() };
  private acknowledgements = new Map<number, number>();
  /** When the first and the latest twin update were applied (ms since the epoch). */
  private updateSpan?: { firstAt: number; lastAt: number };
  private writerRuns: { client: string; requests: number; from: number; to: number }[] = [];
  /** Twin updates being answered, by client. */
  private writesInFlight = new Map<string, number>();
  private overlappingWrites = 0;

  /** A request and its answer; status 0 is a connection dropped without an answer. */
  record(operation: StatsClass, status: number): void {
    this.total++;
    let byStatus = this.requests.get(operation);
    if (!byStatus) {
      byStatus = new Map();
      this.requests.set(operation, byStatus);
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }

  recordFault(operation: StatsClass, kind: FaultKind): void {
    let byKind = this.faults.get(operation);
    if (!byKind) {
      byKind = new Map();
      this.faults.set(operation, byKind);
    }
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  }

  /** A twin update (PATCH or PUT) the hub applied. */
  recordTwinUpdate(deviceId: string, moduleId?: string): void {
    const key = twinKey(deviceId, moduleId);
    this.updates.set(key, (this.updates.get(key) ?? 0) + 1);
    const now = Date.now();
    if (this.updateSpan) this.updateSpan.lastAt = now;
    else this.updateSpan = { firstAt: now, lastAt: now };
  }

  /**
   * When the first and the latest twin update since the last reset were applied (ms since the epoch), to tell from
   * several hubs' stats whether their writes overlapped in time.
   */
  twinUpdateSpan(): { firstAt: number; lastAt: number } | undefined {
    return this.updateSpan && { ...this.updateSpan };
  }

  /** Updates applied to one twin since the last reset. */
  twinUpdates(deviceId: string, moduleId?: string): number {
    return this.updates.get(twinKey(deviceId, moduleId)) ?? 0;
  }

  /** A read or update of one twin asked for, whatever came of it. */
  recordTwinRequest(operation: TwinClass, deviceId: string, moduleId?: string): void {
    const key = twinKey(deviceId, moduleId);
    const calls = this.twinCalls[operation];
    calls.set(key, (calls.get(key) ?? 0) + 1);
  }

  /** Reads or updates of one twin asked for since the last reset (so a client's calls per device can be bounded). */
  twinRequests(operation: TwinClass, deviceId: string, moduleId?: string): number {
    return this.twinCalls[operation].get(twinKey(deviceId, moduleId)) ?? 0;
  }

  /**
   * A twin update from `client` arrived at `now` (whatever its answer will be); call the function returned once it
   * is answered.
   */
  twinWriteStarted(client: string, now: number): () => void {
    for (const [other, count] of this.writesInFlight)
      if (other !== client && count > 0) {
        this.overlappingWrites++;
        break;
      }
    this.writesInFlight.set(client, (this.writesInFlight.get(client) ?? 0) + 1);
    const last = this.writerRuns.at(-1);
    if (last?.client === client) {
      last.requests++;
      last.to = now;
    } else {
      this.writerRuns.push({ client, requests: 1, from: now, to: now });
      if (this.writerRuns.length > WRITER_RUNS_KEPT) this.writerRuns.shift();
    }
    return () => {
      const left = (this.writesInFlight.get(client) ?? 1) - 1;
      if (left > 0) this.writesInFlight.set(client, left);
      else this.writesInFlight.delete(client);
    };
  }

  /** A writable property acknowledgement an IoT Plug and Play device reported. */
  recordPnpAcknowledgement(ac: number): void {
    this.acknowledgements.set(ac, (this.acknowledgements.get(ac) ?? 0) + 1);
  }

  /** Acknowledgements reported with this `ac` since the last reset. */
  pnpAcknowledgements(ac: number): number {
    return this.acknowledgements.get(ac) ?? 0;
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
    this.twinCalls.twinRead.clear();
    this.twinCalls.twinUpdate.clear();
    this.acknowledgements.clear();
    this.updateSpan = undefined;
    this.writerRuns = [];
    this.overlappingWrites = 0;
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
      twinRequests: {
        twinRead: Object.fromEntries(this.twinCalls.twinRead),
        twinUpdate: Object.fromEntries(this.twinCalls.twinUpdate),
      },
      pnpAcknowledgements: Object.fromEntries([...this.acknowledgements].map(([ac, n]) => [String(ac), n])),
      twinWriters: {
        runs: this.writerRuns.map((run) => ({
          ...run,
          from: new Date(run.from).toISOString(),
          to: new Date(run.to).toISOString(),
        })),
        overlapping: this.overlappingWrites,
      },
    };
  }
}
