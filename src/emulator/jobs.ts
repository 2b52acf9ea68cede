// Bulk twin update jobs (PUT /jobs/v2/{id} type scheduleUpdateTwin): the devices a query condition selects
// get a tags/desired patch, paced by the tier's job device operation quota, with the tier's limit on jobs
// active at once. Jobs target device twins, as on the hub.
import { compileCondition, parseQuery, type TwinPredicate } from '../condition/index.js';
import { type HubTier, maxConcurrentJobs } from '../quotas/index.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { HubErrorResponse, hubErrors } from './errors.js';
import type { QueryEngine } from './query-engine.js';
import type { RegistryStore } from './registry-store.js';
import type { HubThrottle } from './throttling.js';
import { etagMatches, isJsonObject, type JsonObject } from './twin-document.js';
import { etagOf, newTwinState, patchTwin } from './twin-state.js';

export type JobStatus = 'queued' | 'scheduled' | 'running' | 'completed' | 'failed' | 'cancelled';
const ACTIVE: ReadonlySet<JobStatus> = new Set(['queued', 'scheduled', 'running']);
const BATCH = 500;
const DEFAULT_MAX_EXECUTION_SECONDS = 3600;

interface Job {
  jobId: string;
  queryCondition: string;
  predicate: TwinPredicate;
  createdTime: number;
  startTime: number;
  endTime: number | undefined;
  maxExecutionTimeInSeconds: number;
  updateTwin: JsonObject;
  status: JobStatus;
  failureReason: string | undefined;
  targets: string[];
  next: number;
  succeeded: number;
  failed: number;
  timer: NodeJS.Timeout | undefined;
}

export interface JobManagerOptions {
  store: RegistryStore;
  engine: QueryEngine;
  throttle: HubThrottle;
  tier: HubTier;
  clock?: Pick<Clock, 'now'>;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

export class JobManager {
  private readonly jobs = new Map<string, Job>();
  private readonly clock: Pick<Clock, 'now'>;
  private closed = false;

  constructor(private readonly options: JobManagerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  get activeCount(): number {
    let count = 0;
    for (const job of this.jobs.values()) if (ACTIVE.has(job.status)) count++;
    return count;
  }

  create(jobId: string, body: unknown): JsonObject {
    if (!isJsonObject(body)) throw hubErrors.argumentInvalid('The job must be a JSON object');
    if (body.jobId !== undefined && body.jobId !== jobId) {
      throw hubErrors.argumentInvalid(
        `The job id in the body (${String(body.jobId)}) differs from the path (${jobId})`,
      );
    }
    if (body.type !== 'scheduleUpdateTwin') {
      throw hubErrors.argumentInvalid(
        `Job type ${String(body.type)} is not supported by the emulator; use scheduleUpdateTwin`,
      );
    }
    if (this.jobs.has(jobId)) throw hubErrors.jobAlreadyExists(jobId);
    const updateTwin = body.updateTwin;
    if (!isJsonObject(updateTwin)) throw hubErrors.argumentInvalid('updateTwin must be a twin patch object');
    const checked = patchTwin(newTwinState({ at: 0 }), updateTwin, 0);
    if (checked instanceof HubErrorResponse) throw checked;
    if (typeof body.queryCondition !== 'string' || body.queryCondition.trim() === '') {
      throw hubErrors.argumentNull('queryCondition');
    }
    const parsed = parseQuery(`SELECT * FROM devices WHERE ${body.queryCondition}`);
    if (!parsed.ok) throw hubErrors.argumentInvalid(`queryCondition is not valid: ${parsed.error.message}`);
    const limit = maxConcurrentJobs(this.options.tier);
    if (this.activeCount >= limit) throw hubErrors.tooManyActiveJobs(limit);

    const now = this.clock.now();
    const requestedStart = typeof body.startTime === 'string' ? Date.parse(body.startTime) : Number.NaN;
    const startTime = Number.isNaN(requestedStart) ? now : Math.max(now, requestedStart);
    const job: Job = {
      jobId,
      queryCondition: body.queryCondition,
      predicate: parsed.query.where ? compileCondition(parsed.query.where) : () => true,
      createdTime: now,
      startTime,
      endTime: undefined,
      maxExecutionTimeInSeconds:
        typeof body.maxExecutionTimeInSeconds === 'number' && body.maxExecutionTimeInSeconds > 0
          ? body.maxExecutionTimeInSeconds
          : DEFAULT_MAX_EXECUTION_SECONDS,
      updateTwin,
      status: startTime > now ? 'scheduled' : 'queued',
      failureReason: undefined,
      targets: [],
      next: 0,
      succeeded: 0,
      failed: 0,
      timer: undefined,
    };
    this.jobs.set(jobId, job);
    this.wake(job, startTime - now);
    return this.render(job);
  }

  get(jobId: string): JsonObject {
    return this.render(this.require(jobId));
  }

  cancel(jobId: string): JsonObject {
    const job = this.require(jobId);
    if (ACTIVE.has(job.status)) {
      this.stop(job, 'cancelled');
    }
    return this.render(job);
  }

  list(filter: { jobType?: string; jobStatus?: string }): JsonObject[] {
    return [...this.jobs.values()]
      .filter(
        (job) =>
          (!filter.jobType || filter.jobType === 'scheduleUpdateTwin') &&
          (!filter.jobStatus || job.status === filter.jobStatus),
      )
      .map((job) => this.render(job));
  }

  close(): void {
    this.closed = true;
    for (const job of this.jobs.values()) if (job.timer) clearTimeout(job.timer);
  }

  private require(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw hubErrors.jobNotFound(jobId);
    return job;
  }

  private wake(job: Job, delayMs: number): void {
    if (this.closed) return;
    job.timer = setTimeout(() => this.step(job), Math.max(0, delayMs));
    job.timer.unref();
  }

  private stop(job: Job, status: JobStatus, failureReason?: string): void {
    if (job.timer) clearTimeout(job.timer);
    job.timer = undefined;
    job.status = status;
    job.failureReason = failureReason;
    job.endTime = this.clock.now();
  }

  private step(job: Job): void {
    job.timer = undefined;
    if (!ACTIVE.has(job.status)) return;
    const now = this.clock.now();
    if (job.status !== 'running') {
      job.status = 'running';
      job.targets = this.options.engine.selectDeviceIds(job.predicate);
    }
    if (now > job.startTime + job.maxExecutionTimeInSeconds * 1000) {
      job.failed += job.targets.length - job.next;
      job.next = job.targets.length;
      this.stop(job, 'failed', 'The job did not finish within its maxExecutionTimeInSeconds');
      return;
    }
    let done = 0;
    while (
      job.next < job.targets.length &&
      done < BATCH &&
      this.options.throttle.tryTake('jobDeviceOperations')
    ) {
      this.updateDevice(job, job.targets[job.next++], now);
      done++;
    }
    if (job.next >= job.targets.length) {
      this.stop(job, 'completed');
      return;
    }
    this.wake(job, Math.max(1, this.options.throttle.msUntilAvailable('jobDeviceOperations')));
  }

  private updateDevice(job: Job, deviceId: string, now: number): void {
    const device = this.options.store.getDevice(deviceId);
    const etag = typeof job.updateTwin.etag === 'string' ? job.updateTwin.etag : '*';
    if (!device || !etagMatches(etag, etagOf(device.state))) {
      job.failed++;
      return;
    }
    const next = patchTwin(device.state, job.updateTwin, now);
    if (next instanceof HubErrorResponse) {
      job.failed++;
      return;
    }
    this.options.store.setState(device, next);
    job.succeeded++;
  }

  private render(job: Job): JsonObject {
    const deviceCount = job.targets.length;
    const pending = job.status === 'running' ? deviceCount - job.next : 0;
    return {
      jobId: job.jobId,
      queryCondition: job.queryCondition,
      createdTime: iso(job.createdTime),
      startTime: iso(job.startTime),
      endTime: iso(job.endTime),
      maxExecutionTimeInSeconds: job.maxExecutionTimeInSeconds,
      type: 'scheduleUpdateTwin',
      updateTwin: job.updateTwin,
      status: job.status,
      failureReason: job.failureReason ?? null,
      statusMessage: null,
      deviceJobStatistics: {
        deviceCount,
        failedCount: job.failed,
        succeededCount: job.succeeded,
        runningCount: 0,
        pendingCount: pending,
      },
    };
  }
}
