// A per-hub convergence session: the one loop body both drivers run (`sync` from the command line, the
// controller from its work queue). It keeps what one process knows of a hub between steps (the last snapshot,
// the twins it wrote, when it last read what), and each step chooses how much to read, plans, writes, and says
// when the next step is due.
import type { HubAccess } from '../hub/hub-client-api.js';
import type { Logger } from '../observability/logger.js';
import { type HubPlan, type HubReconcileInput, twinKey } from '../planner/plan-hub-reconcile.js';
import { resourceRevision } from '../planner/revision.js';
import type { PlannedResource } from '../planner/types.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { NO_STOP, type Stop } from '../runtime/stop.js';
import type { TwinRef, TwinSlot } from '../twins/types.js';
import type { FleetSnapshot } from './fleet-snapshot.js';
import { type ReconcileOutcome, reconcileHub, slotsToRead } from './reconcile-hub.js';
import { RereadSchedule } from './reread-schedule.js';
import { TwinMemory } from './twin-memory.js';

export interface HubSessionOptions {
  /** Owners recorded in twins that are not among the step's resources: keep their settings, or remove them. */
  unknownOwners: 'keep' | 'remove';
  /** Whose ownership record is read and written (the planner's DEFAULT_MANAGER unless given). */
  manager?: string;
  /** The resources of that record this session answers for (all when undefined). */
  scope?: HubReconcileInput['scope'];
  clock?: Clock;
  logger?: Logger;
  /** While agents have yet to answer, their twins are re-read at most this far apart (2 s). */
  pollMs?: number;
  /**
   * A twin written (or found awaiting its agent) is re-read this soon (250 ms); each re-read that finds it still
   * silent makes the next one twice as late, up to pollMs: agents that answer at once are seen at once, slow ones
   * cost few reads, each twin on its own schedule (see reread-schedule.ts). Steps with no twin to re-read but
   * something to retry come as soon after writes, twice as late after each step without progress. (A poll
   * schedule, not a retry backoff: nothing failed, and it starts over as soon as there is something new.)
   */
  firstCheckMs?: number;
  /** While anything is in progress, the whole hub is re-read this often (30 s): devices coming online, drift. */
  fullReadWhileWaitingMs?: number;
  /** When everything is settled, the whole hub is re-read this often to detect drift (10 min). */
  resyncMs?: number;
  /** Twin writes in flight at once (the rate limiter sets the pace). */
  concurrency?: number;
}

export interface StepOptions {
  departing?: HubReconcileInput['departing'];
  held?: HubReconcileInput['held'];
  /** Twin slots to read besides those of the resources (where departing or held resources keep settings). */
  slots?: readonly TwinSlot[];
  /**
   * `drain`: no new write starts; the ones in flight finish and the step returns with `interrupted`. `abort`: hub
   * calls in flight are abandoned too (their outcome is unknown, see CallOptions.abort) and the step rejects.
   */
  stop?: Stop;
  /** Read the whole hub whatever the schedule says (a reconcile requested by hand). */
  fullRead?: boolean;
  /** Plan only: nothing is written. */
  dryRun?: boolean;
  /**
   * Resources known, from a record outside this session (the operator's status of them), to be rolling out their
   * current revision: their twins wait for the whole read, as those the session's own last plan found under way.
   */
  rolloutsUnderWay?: ReadonlySet<string>;
}

export type SnapshotRead = 'full' | 'partial' | 'none';

export interface StepOutcome extends ReconcileOutcome {
  /** What the step read: the whole hub, the twins of devices awaiting their agent, or nothing new. */
  read: SnapshotRead;
  /** Something can still progress without a change: agents to answer, rollout batches to start. */
  waiting: boolean;
  /** When the next step is due, in milliseconds from the end of this one (0: at once). */
  nextStepInMs: number;
  /** Devices in the hub, at this step. */
  devices: number;
}

export const DEFAULT_POLL_MS = 2000;
export const DEFAULT_FIRST_CHECK_MS = 250;
export const DEFAULT_FULL_READ_WHILE_WAITING_MS = 30_000;
export const DEFAULT_RESYNC_MS = 10 * 60_000;

/** Whether anything in the plan can progress without a change of spec or fleet. */
export function isWaiting(plan: HubPlan): boolean {
  if (plan.unsettledTwins.length > 0) return true;
  for (const report of plan.reports.values()) {
    if (report.suspended || report.rollout.halted) continue;
    if (report.counts.pendingDevices > 0 || report.deferredDevices > 0 || report.retryingDevices > 0)
      return true;
  }
  return false;
}

export class HubSession {
  readonly memory = new TwinMemory();
  private snapshot?: FleetSnapshot;
  private lastPlan?: HubPlan;
  private lastFullReadAt = Number.NEGATIVE_INFINITY;
  private lastReadAt = Number.NEGATIVE_INFINITY;
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly firstCheckMs: number;
  /** When each twin awaiting its agent is read again. */
  private readonly rereads: RereadSchedule;
  /** With no twin awaiting its agent, how long after the last read the next step is due (retries, batches). */
  private checkDelayMs: number;
  /** Devices awaiting their agent after the last step. */
  private lastUnsettled = Number.POSITIVE_INFINITY;
  private readonly fullReadWhileWaitingMs: number;
  private readonly resyncMs: number;

  constructor(
    readonly access: HubAccess,
    private readonly options: HubSessionOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.firstCheckMs = Math.min(options.firstCheckMs ?? DEFAULT_FIRST_CHECK_MS, this.pollMs);
    this.checkDelayMs = this.pollMs;
    this.rereads = new RereadSchedule(this.firstCheckMs, this.pollMs);
    this.fullReadWhileWaitingMs = options.fullReadWhileWaitingMs ?? DEFAULT_FULL_READ_WHILE_WAITING_MS;
    this.resyncMs = options.resyncMs ?? DEFAULT_RESYNC_MS;
  }

  /** Read the whole hub at the next step (the hub's connection or the fleet is known to have changed). */
  invalidate(): void {
    this.lastFullReadAt = Number.NEGATIVE_INFINITY;
  }

  /** One step: read what the schedule calls for, plan, write what differs, and say when the next step is due. */
  async step(resources: readonly PlannedResource[], options: StepOptions = {}): Promise<StepOutcome> {
    const stop = options.stop ?? NO_STOP;
    const slots = slotsToRead(resources, options.slots);
    // A slot the last snapshot did not read (a new kind of resource): the whole hub is read again.
    const newSlot = slots.some((slot) => !this.snapshot?.hasSlot(slot));
    const read = this.chooseRead(options.fullRead === true || newSlot);
    const reread = read === 'partial' ? this.rereads.due(this.clock.now()) : [];
    // A whole read is the reconcile's own: it plans and writes the devices each page completes while the rest is
    // read. Otherwise the session's snapshot, refreshed in part or not at all.
    const previous = this.snapshot;
    let snapshot = read === 'full' ? undefined : await this.refresh(read, reread, stop.abort);
    const outcome = await reconcileHub(this.access, resources, {
      unknownOwners: this.options.unknownOwners,
      manager: this.options.manager,
      scope: this.options.scope,
      departing: options.departing,
      held: options.held,
      slots: options.slots,
      dryRun: options.dryRun,
      stop,
      clock: this.clock,
      memory: this.memory,
      snapshot,
      rolloutsUnderWay: this.rolloutsUnderWay(resources, options.rolloutsUnderWay),
      read: (onPage) => this.access.readSnapshot(slots, { abort: stop.abort, previous, onPage }),
      onRead: (whole) => {
        this.snapshot = snapshot = whole;
        this.lastFullReadAt = this.lastReadAt = this.clock.now();
      },
      concurrency: this.options.concurrency,
      logger: this.options.logger,
    });
    const whole = snapshot!;
    const unsettled = outcome.finalPlan.unsettledTwins.length;
    const progress = outcome.writesSucceeded > 0 || unsettled < this.lastUnsettled;
    this.checkDelayMs = progress ? this.firstCheckMs : Math.min(this.pollMs, this.checkDelayMs * 2);
    if (!options.dryRun) {
      this.lastPlan = outcome.finalPlan;
      this.lastUnsettled = unsettled;
      const wasReread = new Set(reread.map(twinKey));
      const written = new Set(outcome.writtenTwins.map(twinKey));
      this.rereads.update(
        outcome.finalPlan.unsettledTwins,
        (ref) => written.has(twinKey(ref)),
        read === 'full' ? (ref) => whole.hasSlot(ref.slot) : (ref) => wasReread.has(twinKey(ref)),
        this.clock.now(),
      );
    }
    const waiting = isWaiting(outcome.finalPlan);
    return {
      ...outcome,
      read,
      waiting,
      nextStepInMs: this.nextStepInMs(outcome, waiting),
      devices: whole.devices.length,
    };
  }

  /** The resources whose current revision the last step's plan found on devices, or a record shows: a rollout under way. */
  private rolloutsUnderWay(
    resources: readonly PlannedResource[],
    recorded: ReadonlySet<string> = new Set(),
  ): Set<string> {
    const keys = new Set<string>(recorded);
    for (const resource of resources) {
      const report = this.lastPlan?.reports.get(resource.key);
      if (report && report.rollout.reached > 0 && report.revision === resourceRevision(resource))
        keys.add(resource.key);
    }
    return keys;
  }

  private chooseRead(forced: boolean): SnapshotRead {
    if (!this.snapshot || forced) return 'full';
    const now = this.clock.now();
    const waiting = this.lastPlan ? isWaiting(this.lastPlan) : true;
    if (now - this.lastFullReadAt >= (waiting ? this.fullReadWhileWaitingMs : this.resyncMs)) return 'full';
    return this.rereads.due(now).length > 0 ? 'partial' : 'none';
  }

  /** The session's snapshot, with (partial) the twins of `reread` read again. */
  private async refresh(
    read: Exclude<SnapshotRead, 'full'>,
    reread: readonly TwinRef[],
    abort: AbortSignal,
  ): Promise<FleetSnapshot> {
    if (!this.snapshot) throw new Error('a partial read needs a whole read first');
    if (read === 'partial') {
      for (const slot of new Set(reread.map((t) => t.slot))) {
        const ids = reread.filter((t) => t.slot === slot).map((t) => t.deviceId);
        const fleetSize = this.snapshot.twins.get(slot)?.size ?? 0;
        this.snapshot.replaceTwins(slot, await this.access.readTwins(slot, ids, { abort, fleetSize }));
      }
      this.lastReadAt = this.clock.now();
    }
    return this.snapshot;
  }

  private nextStepInMs(outcome: ReconcileOutcome, waiting: boolean): number {
    if (outcome.interrupted) return 0;
    const now = this.clock.now();
    if (!waiting) return Math.max(0, this.resyncMs - (now - this.lastFullReadAt));
    const untilFull = this.fullReadWhileWaitingMs - (now - this.lastFullReadAt);
    const nextReread = this.rereads.nextDueAt();
    const untilCheck = this.checkDelayMs - (now - this.lastReadAt);
    // Failed writes that are retried come back at the check's pace, not at the pace of the slowest devices.
    const retrying = [...outcome.finalPlan.reports.values()].some((r) => r.retryingDevices > 0);
    const untilPoll =
      nextReread === undefined
        ? untilCheck
        : retrying
          ? Math.min(untilCheck, nextReread - now)
          : nextReread - now;
    return Math.max(0, Math.min(untilFull, Math.max(untilPoll, 0)));
  }
}
