// One reconcile of one hub: read a snapshot, plan, create missing modules, write the twins that differ, re-read
// and re-plan the devices that answered 412, and report the status of every resource. The same engine serves
// `sync` and the Kubernetes controller.
import { type Reason, throttlingReason } from '../api/reasons.js';
import type { HubAccess } from '../hub/hub-client-api.js';
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
import type { HubSnapshot, TwinRef, TwinSlot } from '../twins/types.js';
import { FleetSnapshot } from './fleet-snapshot.js';
import { type HubMoment, TwinMemory } from './twin-memory.js';
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
  const snapshot =
    options.snapshot ??
    new FleetSnapshot(await access.readSnapshot(slotsToRead(resources, options.slots), { abort }));
  const moment = () => ({ now: clock.now(), outages: access.outages });
  const suspects = memory.overlay(snapshot, moment());
  if (suspects.length) await rereadSuspects(access, snapshot, memory, suspects, options, moment);
  const writeFailures = new Map<string, DeviceFailure>();
  const admitted = new Set<string>();
  const plan = () =>
    planHubReconcile({
      snapshot,
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
  const initialPlan = plan();
  const outcome: Omit<ReconcileOutcome, 'writtenTwins'> & { writtenTwins: TwinRef[] } = {
    initialPlan,
    finalPlan: initialPlan,
    snapshot,
    writesSucceeded: 0,
    writtenTwins: [],
    writesFailed: 0,
    conflictsReplanned: 0,
    modulesCreated: 0,
    interrupted: false,
  };
  if (options.dryRun) return outcome;

  if (initialPlan.moduleCreations.length) {
    await forEachBounded(
      initialPlan.moduleCreations,
      options.concurrency ?? 8,
      async (ref) => {
        try {
          if ((await access.ensureModule(ref, { abort })) === 'created') outcome.modulesCreated++;
        } catch (error) {
          if (errorKind(error) === 'Cancelled') throw error;
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

  let writes: TwinWrite[] = initialPlan.moduleCreations.length ? plan().writes : initialPlan.writes;
  const verifier =
    writes.length > (options.verifyAbove ?? 500)
      ? new WriteVerifier(access, snapshot, { clock, abort })
      : undefined;
  try {
    for (let round = 0; writes.length > 0 && round <= MAX_CONFLICT_ROUNDS && !drain.aborted; round++) {
      const conflicted: TwinRef[] = [];
      for (const write of writes) admitted.add(twinKey(write));
      await forEachBounded(
        writes,
        options.concurrency ?? DEFAULT_WRITE_CONCURRENCY,
        async (write) => {
          try {
            const ref = { slot: write.slot, deviceId: write.deviceId };
            const twin = await access.patchTwin(ref, write.patch, write.etag, { abort });
            memory.remember(ref, twin, moment(), snapshot.applyWriteAnswer(ref, twin));
            verifier?.written(write.slot, write.deviceId, twin.version);
            outcome.writesSucceeded++;
            outcome.writtenTwins.push(ref);
          } catch (error) {
            if (errorKind(error) === 'Cancelled') throw error;
            if (errorKind(error) === 'PreconditionFailed') {
              if (round < MAX_CONFLICT_ROUNDS) {
                conflicted.push({ slot: write.slot, deviceId: write.deviceId });
                return;
              }
              // Another writer keeps changing the twin: a failure that passes (retried at the next step), reported
              // so that a run without one says the twin is not written.
              outcome.writesFailed++;
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
            outcome.writesFailed++;
            writeFailures.set(twinKey(write), failureOf(write.deviceId, error));
            options.logger?.warn('twin write failed', {
              deviceId: write.deviceId,
              error: (error as Error).message,
            });
          }
        },
        drain,
      );
      if (conflicted.length === 0 || drain.aborted) break;
      // Someone else wrote these twins since the snapshot: re-read them and plan them again.
      outcome.conflictsReplanned += conflicted.length;
      await rereadByGet(access, snapshot, memory, conflicted, abort);
      const retry = new Set(conflicted.map(twinKey));
      writes = plan().writes.filter((w) => retry.has(twinKey(w)));
    }
  } finally {
    await verifier?.stop();
  }
  outcome.finalPlan = plan();
  outcome.interrupted = drain.aborted && outcome.finalPlan.writes.length > 0;
  return outcome;
}
