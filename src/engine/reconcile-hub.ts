// One reconcile of one hub: read a snapshot, plan, create missing modules, write the twins that differ, re-read
// and re-plan the devices that answered 412, and report the status of every resource. The same engine serves
// `sync` and the Kubernetes controller.
import { type Reason, throttlingReason } from '../api/reasons.js';
import type { HubAccess, SnapshotPage } from '../hub/hub-client-api.js';
import type { Logger } from '../observability/logger.js';
import {
  type HubPlan,
  type HubReconcileInput,
  planHubReconcile,
  twinKey,
} from '../planner/plan-hub-reconcile.js';
import type { DeviceFailure, PlannedResource, TwinWrite } from '../planner/types.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { NO_STOP, type Stop } from '../runtime/stop.js';
import { forEachBounded } from '../runtime/worker-pool.js';
import type { HubSnapshot, ManagedTwin, TwinRef, TwinSlot } from '../twins/types.js';
import { EarlyWrites } from './early-writes.js';
import { FleetSnapshot } from './fleet-snapshot.js';
import { ReadCompletion } from './read-completion.js';
import { type HubMoment, TwinMemory } from './twin-memory.js';
import { WriteQueue } from './write-queue.js';
import { WriteVerifier } from './write-verifier.js';

export interface ReconcileOptions {
  unknownOwners: 'keep' | 'remove';
  departing?: HubReconcileInput['departing'];
  held?: HubReconcileInput['held'];
  /**
   * Twin slots to read besides those of `resources`: where departing and held resources keep settings (their
   * ownership records are there), or every slot a prune must cover.
   */
  slots?: readonly TwinSlot[];
  /** Whose ownership record is read and written (the planner's DEFAULT_MANAGER unless given). */
  manager?: string;
  /** The resources of that record this reconcile answers for (all when undefined). */
  scope?: HubReconcileInput['scope'];
  /** Plan only: nothing is written, no module created. */
  dryRun?: boolean;
  /**
   * `drain`: no new write or module creation starts, the ones in flight finish, and the outcome says
   * `interrupted` (e.g. the resources changed: plan again at once rather than finish a stale plan). `abort`: hub
   * calls in flight are abandoned, and the reconcile rejects with a 'Cancelled' HubError.
   */
  stop?: Stop;
  clock?: Clock;
  /**
   * Twin writes in flight at once (64). The rate limiter sets the pace; this only has to cover the hub's latency
   * at that pace (500 writes/s answered in 100 ms need 50 in flight), or the latency, not the quota, sets it.
   */
  concurrency?: number;
  /** Carried between reconciles of the same hub in one process. */
  memory?: TwinMemory;
  /**
   * Reuse this snapshot (e.g. refreshed in part by the caller) instead of reading a new one; what the reconcile
   * learns (its writes' answers, twins re-read) is put in it.
   */
  snapshot?: FleetSnapshot;
  /**
   * How the whole hub is read when no `snapshot` is given (`access.readSnapshot` of the step's slots unless
   * given), handing on each page as it comes: devices it completes are planned and written while the rest is read
   * (see early-writes.ts).
   */
  read?: (onPage: (page: SnapshotPage) => void) => Promise<HubSnapshot>;
  /**
   * Resources whose current revision an earlier plan found on devices (a rollout under way, perhaps halted): no
   * device of their twins is written before the whole read, whose plan alone counts the rollout's batches and
   * failures (the devices it reached may come after those it holds back).
   */
  rolloutsUnderWay?: ReadonlySet<string>;
  /** Called with the snapshot once that read is whole, before any plan of it (the session keeps it). */
  onRead?: (snapshot: FleetSnapshot) => void;
  logger?: Logger;
  /**
   * Read the agents' answers while writes go on (on by default for runs of more than `verifyAbove` writes,
   * 500): see write-verifier.ts.
   */
  verifyAbove?: number;
}

export interface ReconcileOutcome {
  /** The plan as first made, before any write: what --dry-run shows. */
  initialPlan: HubPlan;
  /** The plan after the writes: its reports are the resources' status. */
  finalPlan: HubPlan;
  snapshot: HubSnapshot;
  writesSucceeded: number;
  /** The twins this step wrote (the hub took the write). */
  writtenTwins: TwinRef[];
  writesFailed: number;
  conflictsReplanned: number;
  modulesCreated: number;
  /** The drain came before every planned write was made. */
  interrupted: boolean;
}

const MAX_CONFLICT_ROUNDS = 3;
const DEFAULT_WRITE_CONCURRENCY = 64;

function errorKind(error: unknown): string | undefined {
  return (error as { kind?: string } | undefined)?.kind;
}

/**
 * Errors that end the step rather than fail one twin: cancelled, or the hub refusing the credential itself (a role
 * missing, a key revoked, a token the authority no longer gives), which every other write would meet too. The
 * IoTHub then says why (HubRoleMissing, Unauthorized, AuthorityRefused) and is retried with backoff, instead of
 * each device failing alone until the next resync.
 */
const STEP_ENDING = new Set(['Cancelled', 'Forbidden', 'Unauthorized', 'CredentialRefused']);
const endsStep = (error: unknown) => STEP_ENDING.has(errorKind(error) ?? '');

/** A 429 or an unavailable hub passes (the device is retried); a used-up daily quota (403) or a refusal does not. */
function reasonOf(kind: string, statusCode: number | undefined): Reason {
  if (kind === 'Throttled') return throttlingReason(statusCode);
  return kind === 'Transient' ? 'HubUnavailable' : 'TwinWriteFailed';
}

function failureOf(deviceId: string, error: unknown): DeviceFailure {
  const kind = errorKind(error) ?? 'Unknown';
  return {
    deviceId,
    reason: reasonOf(kind, (error as { statusCode?: number } | undefined)?.statusCode),
    message: (error as Error).message ?? String(error),
  };
}

/** Twins by slot, for the reads that take one slot at a time. */
function bySlot(refs: readonly TwinRef[]): Map<TwinSlot, string[]> {
  const groups = new Map<TwinSlot, string[]>();
  for (const { slot, deviceId } of refs) groups.set(slot, [...(groups.get(slot) ?? []), deviceId]);
  return groups;
}

/**
 * Fresh twins of `refs` by GET, put in the snapshot. A device without one lacks the module now (the hub may have
 * lost it): it is planned as missing (created again where a resource creates modules), and no write of ours
 * stands in.
 */
async function rereadByGet(
  access: HubAccess,
  snapshot: FleetSnapshot,
  memory: TwinMemory,
  refs: readonly TwinRef[],
  abort: AbortSignal | undefined,
): Promise<void> {
  for (const [slot, deviceIds] of bySlot(refs)) {
    const fresh = await access.readTwins(slot, deviceIds, { abort, consistent: true });
    for (const deviceId of snapshot.takeFresh(slot, deviceIds, fresh)) memory.forget({ slot, deviceId });
  }
}

/**
 * Twins whose writes the hub may have lost (see twin-memory.ts), read again by GET: older than our write, they are
 * planned and written again.
 */
async function rereadSuspects(
  access: HubAccess,
  snapshot: FleetSnapshot,
  memory: TwinMemory,
  suspects: TwinRef[],
  options: ReconcileOptions,
  moment: () => HubMoment,
): Promise<void> {
  options.logger?.info('re-reading twins the queries show without our writes', { devices: suspects.length });
  try {
    await rereadByGet(access, snapshot, memory, suspects, options.stop?.abort);
  } catch (error) {
    if (errorKind(error) === 'Cancelled') throw error;
    // The step goes on with what is remembered standing in for them; the next step suspects them again.
    options.logger?.warn('re-reading twins failed; trying again at the next step', {
      devices: suspects.length,
      error: (error as Error).message,
    });
    return;
  }
  memory.overlay(snapshot, moment());
}

/** The twins a step reads: those its resources manage, and those named besides (departing or held resources'). */
export function slotsToRead(
  resources: readonly PlannedResource[],
  extra: readonly TwinSlot[] = [],
): TwinSlot[] {
  return [...new Set([...resources.map((r) => r.slot), ...extra])].sort();
}

export async function reconcileHub(
  access: HubAccess,
  resources: readonly PlannedResource[],
  options: ReconcileOptions,
): Promise<ReconcileOutcome> {
  const clock = options.clock ?? systemClock;
  const { drain, abort } = options.stop ?? NO_STOP;
  const memory = options.memory ?? new TwinMemory();
  const moment = () => ({ now: clock.now(), outages: access.outages });
  const writeFailures = new Map<string, DeviceFailure>();
  const admitted = new Set<string>();
  const counts = {
    writesSucceeded: 0,
    writtenTwins: [] as TwinRef[],
    writesFailed: 0,
    conflictsReplanned: 0,
    modulesCreated: 0,
  };
  // Where the hub's answers to writes go: held until the read is whole and planned (the first plan is made from
  // the twins as read), then into the snapshot, the memory and the verifier as they come.
  let snapshot: FleetSnapshot | undefined = options.snapshot;
  let verifier: WriteVerifier | undefined;
  let answersHeld: { ref: TwinRef; twin: ManagedTwin; at: HubMoment }[] | undefined = snapshot
    ? undefined
    : [];
  const takeAnswer = (ref: TwinRef, twin: ManagedTwin, at: HubMoment) => {
    if (answersHeld || !snapshot) {
      answersHeld?.push({ ref, twin, at });
      return;
    }
    memory.remember(ref, twin, at, snapshot.applyWriteAnswer(ref, twin));
    verifier?.written(ref.slot, ref.deviceId, twin.version);
  };
  const releaseAnswers = () => {
    const held = answersHeld ?? [];
    answersHeld = undefined;
    for (const { ref, twin, at } of held) {
      if (snapshot) takeAnswer(ref, twin, at);
      else memory.remember(ref, twin, at);
    }
  };

  /** One write; a 412 is put in `conflicted` while rounds remain, to be re-read and planned again. */
  const writeTwin = async (write: TwinWrite, round: number, conflicted: TwinRef[]) => {
    const ref = { slot: write.slot, deviceId: write.deviceId };
    try {
      const twin = await access.patchTwin(ref, write.patch, write.etag, { abort });
      takeAnswer(ref, twin, moment());
      counts.writesSucceeded++;
      counts.writtenTwins.push(ref);
    } catch (error) {
      if (endsStep(error)) throw error;
      if (errorKind(error) === 'PreconditionFailed') {
        if (round < MAX_CONFLICT_ROUNDS) {
          conflicted.push(ref);
          return;
        }
        // Another writer keeps changing the twin: a failure that passes (retried at the next step), reported
        // so that a run without one says the twin is not written.
        counts.writesFailed++;
        writeFailures.set(twinKey(write), {
          deviceId: write.deviceId,
          reason: 'TwinBusy',
          message: `another writer changed the twin before each of ${MAX_CONFLICT_ROUNDS + 1} writes (412 Precondition Failed)`,
        });
        options.logger?.info('twin still changing under another writer; retrying at the next step', {
          deviceId: write.deviceId,
        });
        return;
      }
      counts.writesFailed++;
      writeFailures.set(twinKey(write), failureOf(write.deviceId, error));
      options.logger?.warn('twin write failed', {
        deviceId: write.deviceId,
        error: (error as Error).message,
      });
    }
  };

  // Writes planned page by page while the hub is read (round 0 of the conflict rounds, through the same calls).
  const earlyConflicts: TwinRef[] = [];
  const early = snapshot
    ? undefined
    : new WriteQueue<TwinWrite>(
        options.concurrency ?? DEFAULT_WRITE_CONCURRENCY,
        (write) => writeTwin(write, 0, earlyConflicts),
        drain,
      );
  if (!snapshot) {
    const slots = slotsToRead(resources, options.slots);
    const read = options.read ?? ((onPage) => access.readSnapshot(slots, { abort, onPage }));
    const completion = new ReadCompletion(slots);
    const planner = options.dryRun
      ? undefined
      : new EarlyWrites(
          resources,
          {
            unknownOwners: options.unknownOwners,
            departing: options.departing,
            held: options.held,
            manager: options.manager,
            scope: options.scope,
          },
          memory,
          moment,
          (write) => early?.push(write),
          options.rolloutsUnderWay,
        );
    const onPage = (page: SnapshotPage) => {
      if (!planner || drain.aborted) return;
      for (const [slot, completed] of completion.take(page)) planner.plan(slot, completed);
    };
    try {
      snapshot = new FleetSnapshot(await read(onPage));
    } catch (error) {
      // The writes started stay whole (each a device's whole plan, guarded by its etag) and are remembered; the
      // next step reads the hub again and plans everything else from it.
      await early?.finished().catch(() => undefined);
      releaseAnswers();
      throw error;
    }
    options.onRead?.(snapshot);
    if (planner?.planned)
      options.logger?.info('writes started while reading the hub', { writes: planner.planned });
  }
  const finishEarly = async () => {
    try {
      await early?.finished();
    } finally {
      releaseAnswers();
    }
  };

  try {
    const suspects = memory.overlay(snapshot, moment());
    if (suspects.length) await rereadSuspects(access, snapshot, memory, suspects, options, moment);
  } catch (error) {
    await finishEarly();
    throw error;
  }
  const plan = () =>
    planHubReconcile({
      snapshot: snapshot!,
      resources,
      now: clock.now(),
      unknownOwners: options.unknownOwners,
      departing: options.departing,
      held: options.held,
      manager: options.manager,
      scope: options.scope,
      writeFailures,
      admitted,
    });
  // The plan of the whole read, as read: the early writes are in it, as they are in a dry run's.
  const initialPlan = plan();
  const outcome = (): ReconcileOutcome => ({
    initialPlan,
    finalPlan,
    snapshot: snapshot!,
    ...counts,
    interrupted,
  });
  let finalPlan = initialPlan;
  let interrupted = false;
  if (options.dryRun) return outcome();

  if (initialPlan.writes.length > (options.verifyAbove ?? 500))
    verifier = new WriteVerifier(access, snapshot, { clock, abort });
  try {
    releaseAnswers();
    await finishEarly();
    if (earlyConflicts.length && !drain.aborted) {
      // Someone else wrote these twins since the page that showed them: re-read, and planned again below.
      counts.conflictsReplanned += earlyConflicts.length;
      await rereadByGet(access, snapshot, memory, earlyConflicts, abort);
    }

    if (initialPlan.moduleCreations.length) {
      await forEachBounded(
        initialPlan.moduleCreations,
        options.concurrency ?? 8,
        async (ref) => {
          try {
            if ((await access.ensureModule(ref, { abort })) === 'created') counts.modulesCreated++;
          } catch (error) {
            if (endsStep(error)) throw error;
            writeFailures.set(twinKey(ref), {
              deviceId: ref.deviceId,
              reason: 'ModuleCreationFailed',
              message: (error as Error).message,
            });
          }
        },
        drain,
      );
      for (const [slot, deviceIds] of bySlot(initialPlan.moduleCreations)) {
        snapshot.replaceTwins(slot, await access.readTwins(slot, deviceIds, { abort }));
      }
    }

    let writes: TwinWrite[] =
      initialPlan.moduleCreations.length || early?.size ? plan().writes : initialPlan.writes;
    for (let round = 0; writes.length > 0 && round <= MAX_CONFLICT_ROUNDS && !drain.aborted; round++) {
      const conflicted: TwinRef[] = [];
      for (const write of writes) admitted.add(twinKey(write));
      await forEachBounded(
        writes,
        options.concurrency ?? DEFAULT_WRITE_CONCURRENCY,
        (write) => writeTwin(write, round, conflicted),
        drain,
      );
      if (conflicted.length === 0 || drain.aborted) break;
      // Someone else wrote these twins since the snapshot: re-read them and plan them again.
      counts.conflictsReplanned += conflicted.length;
      await rereadByGet(access, snapshot, memory, conflicted, abort);
      const retry = new Set(conflicted.map(twinKey));
      writes = plan().writes.filter((w) => retry.has(twinKey(w)));
    }
  } finally {
    await verifier?.stop();
  }
  finalPlan = plan();
  interrupted = drain.aborted && finalPlan.writes.length > 0;
  return outcome();
}
