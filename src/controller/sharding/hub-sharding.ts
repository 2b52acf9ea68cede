// Hubs sharded across replicas with coordination.k8s.io Leases. Each replica announces itself with a member Lease
// it renews; the live members (those seen renewing within the lease duration) are what hubs are assigned over
// (assignment.ts). A replica writes to a hub only while it holds the hub's Lease and renewed it less than the renew
// deadline ago; before its hold could lapse it stops writing (its reconcile drained, hub calls abandoned well
// before the Lease could expire), so that no two replicas ever write one hub:
// - it takes a hub assigned to it only when the hub's Lease is free (released), or its holder has not renewed it
//   for the lease duration as seen from here, with the Lease's resourceVersion as a precondition (a renewal in
//   between makes the take fail);
// - a hub assigned elsewhere (a replica came), is let go: its reconcile drained (the Lease still renewed
//   meanwhile), then the Lease released, so that its new owner takes it at once;
// - a replica that dies stops renewing: its hubs are taken within the lease duration (and a list period or two);
// - on a clean stop the member Lease is deleted first (the others stop assigning hubs to this replica), then every
//   hub is let go and released;
// - while the leader-election Lease (of a Deployment run with --leader-elect before) has a live holder, no hub is
//   taken and those held are let go: that leader writes every hub.
// Every Lease call is bounded (a retry period for writes, the renew deadline for the list), as client-go bounds its
// attempts, so that a call stuck on a dead connection cannot outlast the hold it is meant to extend.
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../observability/logger.js';
import { type Clock, systemClock, type Timer } from '../../runtime/clock.js';
import { httpStatusOf } from '../../runtime/http-status.js';
import type { Stop } from '../../runtime/stop.js';
import { describeApiError } from '../api-errors.js';
import type { HubOwnership } from '../hub-ownership.js';
import { callWithin } from '../kube-http.js';
import { holderOf, LeaseObservations } from '../leases.js';
import { assignedMember } from './assignment.js';
import { HubGate } from './hub-gate.js';
import {
  HUB_ANNOTATION,
  heldLease,
  hubLeaseName,
  LEASE_ROLE_LABEL,
  type LeaseTiming,
  memberLeaseName,
  releasedLease,
  SHARD_LEASE_SELECTOR,
} from './shard-leases.js';

export interface HubShardingOptions extends LeaseTiming {
  api: CoordinationV1Api;
  namespace: string;
  /** Unique per process. */
  identity: string;
  /** Every hub this replica knows of (`namespace/name`), from its caches. */
  hubKeys: () => Set<string>;
  /** A hub was taken: reconcile it. */
  onTaken: (key: string) => void;
  /** A hub was let go and its reconcile has returned: forget what was kept for it (another replica writes it now). */
  onLetGo: (key: string) => void;
  /**
   * How long a hub let go on purpose may take to finish its writes in flight before its hub calls are abandoned;
   * capped at the margin a lapse leaves (lease duration - renew deadline - retry period).
   */
  handOverGraceMs: number;
  /**
   * The leader-election Lease (in the same namespace): while a live holder holds it, no hub is taken here. A
   * Deployment switched from --leader-elect to --sharding by a rolling update still runs its old leader for a while.
   */
  leaderLease?: string;
  /** The hubs held, or the replicas seen, changed (for the metrics). */
  onChanged?: (hubs: readonly string[], replicas: number) => void;
  logger?: Logger;
  clock?: Clock;
}

interface Held {
  lease: V1Lease;
  /** When the last renewal that succeeded was sent (the hold is counted from then: its write came after). */
  renewedAt: number;
  deadline?: Timer;
}

export class HubSharding implements HubOwnership {
  private readonly held = new Map<string, Held>();
  /** Hubs being let go, until their Lease is released. */
  private readonly releasing = new Map<string, Promise<void>>();
  private readonly observations = new LeaseObservations();
  private readonly gate = new HubGate();
  private readonly clock: Clock;
  private memberLease?: V1Lease;
  private liveMembers: string[] = [];
  private timer?: Timer;
  private stopping = false;
  private stopped = false;
  private lastWarning = { message: '', at: 0 };
  /** What a tick started and is still in flight (renewals by hub, the member Lease, the round). */
  private readonly inFlight = new Map<string, Promise<void>>();
  private announced = false;
  /** When the member Lease was first written in this run: hubs are taken from one list round later on. */
  private announcedAt?: number;
  /** When the last list answered: after a longer gap than the lease duration, every observation starts over. */
  private listedAt?: number;
  private readonly leaderObservations = new LeaseObservations();
  /** Whether the leader-election Lease has a live holder (so until it is read). */
  private leaderLive: boolean;

  constructor(private readonly options: HubShardingOptions) {
    this.clock = options.clock ?? systemClock;
    const timingError = shardTimingError(options);
    if (timingError) throw new RangeError(timingError);
    this.leaderLive = options.leaderLease !== undefined;
  }

  /** What a lapse leaves to end the writes in flight before the Lease could expire as others see it. */
  private get lapseGraceMs(): number {
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this.options;
    return Math.max(0, leaseDurationMs - renewDeadlineMs - retryPeriodMs);
  }

  get identity(): string {
    return this.options.identity;
  }

  /** The hubs held now. */
  get hubs(): string[] {
    return [...this.held.keys()].filter((key) => this.owns(key)).sort();
  }

  /** The replicas sharing the hubs, as last seen. */
  get members(): readonly string[] {
    return this.liveMembers;
  }

  owns(key: string): boolean {
    const held = this.held.get(key);
    return (
      held !== undefined &&
      !this.releasing.has(key) &&
      this.clock.now() < held.renewedAt + this.options.renewDeadlineMs
    );
  }

  guard<T>(key: string, stop: Stop, reconcile: (stop: Stop) => Promise<T>): Promise<T> {
    return this.gate.guard(key, stop, reconcile);
  }

  start(): void {
    this.stopping = false;
    this.stopped = false;
    this.tick();
  }

  /**
   * Deletes the member Lease first, so that the others stop assigning hubs to this replica, then lets every hub go
   * (their reconciles drained within the grace period) and releases their Leases, including any a round still
   * running takes or begins to let go.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.inFlight.get('announce');
    await this.removeMember();
    await this.inFlight.get('step');
    while (this.held.size > 0 || this.releasing.size > 0) {
      for (const key of this.held.keys()) void this.release(key, 'stopping', false);
      await Promise.all([...this.releasing.values(), this.inFlight.get('step')]);
    }
    this.stopped = true;
    this.timer?.cancel();
    this.publish();
  }

  /** Deletes this replica's member Lease (it is its own: no precondition). */
  private async removeMember(): Promise<void> {
    const { api, namespace, identity, retryPeriodMs } = this.options;
    try {
      await api.deleteNamespacedLease(
        { name: memberLeaseName(identity), namespace },
        callWithin(retryPeriodMs),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 404)
        this.warn(
          'sharding: the member Lease could not be deleted; the others drop it when it expires',
          error,
        );
    }
    this.memberLease = undefined;
    this.announced = false;
  }

  /**
   * Every retry period, whatever is still in flight: each held hub's Lease renewed on its own (a slow list or a slow
   * renewal of another holds none back), the member Lease, and a round of reading the Leases and taking, keeping
   * or letting go of hubs (one at a time).
   */
  private tick(): void {
    if (this.stopped) return;
    for (const [key, held] of this.held) this.once(`renew ${key}`, () => this.renew(key, held));
    if (!this.stopping) this.once('announce', () => this.announce());
    this.once('step', () => this.step());
    this.timer = this.clock.setTimer(this.options.retryPeriodMs, () => this.tick());
  }

  /** Runs `work` unless the previous `name` is still in flight. */
  private once(name: string, work: () => Promise<void>): void {
    if (this.inFlight.has(name)) return;
    const running = work()
      .catch((error) =>
        this.warn(`sharding: the Leases could not be read or written (${name.split(' ')[0]})`, error),
      )
      .finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, running);
  }

  /** Renews the member Lease, which says this replica is alive and shares the hubs. */
  private async announce(): Promise<void> {
    const { api, namespace, identity, leaseDurationMs, retryPeriodMs } = this.options;
    const name = memberLeaseName(identity);
    const body = heldLease(
      this.memberLease,
      { name, namespace, role: 'member' },
      identity,
      leaseDurationMs,
      this.clock.now(),
    );
    try {
      this.memberLease = this.memberLease
        ? await api.replaceNamespacedLease({ name, namespace, body }, callWithin(retryPeriodMs))
        : await api.createNamespacedLease({ namespace, body }, callWithin(retryPeriodMs));
      this.announced = true;
      this.announcedAt ??= this.clock.now();
    } catch (error) {
      const status = httpStatusOf(error);
      if (status !== 404 && status !== 409) throw error;
      // Changed or deleted by another: the others delete member Leases left unrenewed for two lease durations, and
      // an update of a deleted Lease answers 409 as well as 404. Forgotten: the next announcement creates it, or,
      // should it still exist (409 again), the next list reads it as it stands.
      this.memberLease = undefined;
      this.announced = false;
    }
  }

  /** One round: read every Lease, then take, keep and let go of hubs. */
  private async step(): Promise<void> {
    const { api, namespace, identity, leaseDurationMs, renewDeadlineMs } = this.options;
    const memberName = memberLeaseName(identity);
    const sentAt = this.clock.now();
    const leases = (
      await api.listNamespacedLease(
        { namespace, labelSelector: SHARD_LEASE_SELECTOR },
        callWithin(renewDeadlineMs),
      )
    ).items;
    const now = this.clock.now();
    // After a gap (an outage of the API server, a process paused), what was seen last is too old to tell that a
    // Lease went unrenewed: every Lease counts as renewed now, rather than every replica as gone.
    const fresh = this.listedAt !== undefined && now - this.listedAt > leaseDurationMs;
    this.listedAt = now;
    this.observations.observe(leases, now, fresh);
    await this.readLeader(fresh);
    // A replica starting with others takes hubs only from a list sent a retry period after it announced itself,
    // so that it sees those that announced themselves meanwhile instead of taking every hub and handing most over.
    const settled = this.announcedAt !== undefined && sentAt >= this.announcedAt + this.options.retryPeriodMs;
    const members = new Set<string>();
    const hubLeases = new Map<string, V1Lease>();
    const tidy: V1Lease[] = [];
    const known = this.options.hubKeys();
    for (const lease of leases) {
      const role = lease.metadata?.labels?.[LEASE_ROLE_LABEL];
      const holder = holderOf(lease);
      if (role === 'member') {
        if (lease.metadata?.name === memberName && !this.announced && !this.stopping)
          this.memberLease = lease;
        if (!this.observations.expired(lease, now)) members.add(holder);
        else if (holder !== identity && this.observations.expired(lease, now, 2)) tidy.push(lease);
      } else {
        const key = lease.metadata?.annotations?.[HUB_ANNOTATION];
        if (!key) continue;
        hubLeases.set(key, lease);
        if (!known.has(key) && holder !== identity && this.observations.expired(lease, now, 2))
          tidy.push(lease);
      }
    }
    if (!this.stopping) members.add(identity);
    this.liveMembers = [...members].sort();
    const keys = new Set([...known, ...this.held.keys()]);
    for (const [key, lease] of hubLeases) if (holderOf(lease) === identity) keys.add(key);
    await Promise.all([...keys].map((key) => this.stepHub(key, hubLeases.get(key), known.has(key), settled)));
    for (const lease of tidy) await this.remove(lease, 'a Lease no replica renews');
    this.publish();
  }

  /** Reads the leader-election Lease, if one is named: whether a live holder holds it (then no hub is taken). */
  private async readLeader(fresh: boolean): Promise<void> {
    const { api, namespace, leaderLease, renewDeadlineMs, retryPeriodMs } = this.options;
    if (leaderLease === undefined) return;
    const wasLive = this.leaderLive;
    try {
      const lease = await api.readNamespacedLease(
        { name: leaderLease, namespace },
        callWithin(retryPeriodMs),
      );
      const now = this.clock.now();
      this.leaderObservations.observe([lease], now, fresh);
      this.leaderLive = !this.leaderObservations.expired(lease, now);
      if (this.leaderLive && !wasLive)
        this.options.logger?.warn(
          'sharding: a leader holds the leader-election Lease; no hub is written here',
          {
            lease: `${namespace}/${leaderLease}`,
            leader: holderOf(lease),
          },
        );
    } catch (error) {
      if (httpStatusOf(error) === 404) this.leaderLive = false;
      // Unreadable: whether a leader writes every hub is unknown, so none is taken (those held are kept).
      else {
        this.warn('sharding: the leader-election Lease could not be read; no hub is taken meanwhile', error);
        this.leaderLive = true;
      }
    }
    if (wasLive && !this.leaderLive)
      this.options.logger?.info('sharding: the leader-election Lease is free', { renewDeadlineMs });
  }

  private async stepHub(
    key: string,
    lease: V1Lease | undefined,
    known: boolean,
    taking: boolean,
  ): Promise<void> {
    // A hub being let go stays held (and renewed) until its reconcile has drained: it must not lapse before.
    if (this.releasing.has(key)) return;
    const held = this.held.get(key);
    const assigned = known && !this.stopping ? assignedMember(key, this.liveMembers) : undefined;
    // Under a live leader, no hub is this replica's: that leader writes every hub.
    if (assigned === this.identity && !this.leaderLive) {
      if (!held && taking && !this.gate.busy(key)) await this.take(key, lease);
    } else if (held) {
      const reason = !known
        ? `hub ${key} is gone`
        : assigned === this.identity
          ? 'a leader holds the leader-election Lease'
          : `hub ${key} is assigned to ${assigned}`;
      void this.release(key, reason, !known);
    } else if (lease && holderOf(lease) === this.identity && !this.gate.busy(key)) {
      // Ours by a write whose answer was lost, or from before a lapse: given up now rather than left to expire.
      await this.writeRelease(lease, !known);
    }
  }

  private async take(key: string, lease: V1Lease | undefined): Promise<void> {
    const { api, namespace, identity, leaseDurationMs } = this.options;
    const name = hubLeaseName(key);
    const sentAt = this.clock.now();
    if (lease && holderOf(lease) !== identity && !this.observations.expired(lease, sentAt)) return;
    const body = heldLease(
      lease,
      { name, namespace, role: 'hub', hub: key },
      identity,
      leaseDurationMs,
      sentAt,
    );
    let written: V1Lease;
    try {
      // The resourceVersion of what was seen is in the body: a renewal since makes this fail with 409.
      written = lease
        ? await api.replaceNamespacedLease({ name, namespace, body }, callWithin(this.options.retryPeriodMs))
        : await api.createNamespacedLease({ namespace, body }, callWithin(this.options.retryPeriodMs));
    } catch (error) {
      if (httpStatusOf(error) === 409) return; // another replica was first, or the holder renewed
      throw error;
    }
    if (this.stopping) {
      await this.writeRelease(written, false);
      return;
    }
    const held: Held = { lease: written, renewedAt: sentAt };
    this.held.set(key, held);
    this.armDeadline(key, held);
    this.options.logger?.info('took a hub', {
      hub: key,
      from: holderOf(lease) || undefined,
      replicas: this.liveMembers.length,
    });
    this.publish();
    this.options.onTaken(key);
  }

  private async renew(key: string, held: Held): Promise<void> {
    const { api, namespace, identity, leaseDurationMs, retryPeriodMs } = this.options;
    const sentAt = this.clock.now();
    const name = held.lease.metadata?.name ?? hubLeaseName(key);
    try {
      const body = heldLease(
        held.lease,
        { name, namespace, role: 'hub', hub: key },
        identity,
        leaseDurationMs,
        sentAt,
      );
      const written = await api.replaceNamespacedLease({ name, namespace, body }, callWithin(retryPeriodMs));
      if (this.held.get(key) !== held) return;
      held.lease = written;
      held.renewedAt = sentAt;
      this.armDeadline(key, held);
    } catch (error) {
      const status = httpStatusOf(error);
      // Written or deleted by someone else: it is not ours to renew any more.
      if (status === 409 || status === 404) this.lapse(key, `its Lease was changed by another (${status})`);
      else throw error;
    }
  }

  /** The hold ends at the renew deadline unless renewed before. */
  private armDeadline(key: string, held: Held): void {
    held.deadline?.cancel();
    const left = held.renewedAt + this.options.renewDeadlineMs - this.clock.now();
    held.deadline = this.clock.setTimer(Math.max(0, left), () =>
      this.lapse(key, 'its Lease could not be renewed within the renew deadline'),
    );
  }

  /**
   * The hold lapsed: stop writing at once. The reconcile in progress is drained and its hub calls abandoned in
   * what is left of the lease duration, keeping a retry period in hand before another replica could take the hub.
   */
  private lapse(key: string, reason: string): void {
    const held = this.held.get(key);
    if (!held) return;
    held.deadline?.cancel();
    this.held.delete(key);
    this.options.logger?.error('let a hub go: lost its Lease', { hub: key, reason });
    this.publish();
    // A hand-over under way has its own grace period: the hub gate keeps whichever abort comes first.
    void this.gate.letGo(key, `lost the Lease of hub ${key}`, this.lapseGraceMs).then(() => {
      if (!this.held.has(key)) this.options.onLetGo(key);
    });
  }

  /** Lets hub `key` go on purpose: its reconcile drained (the Lease renewed meanwhile), then the Lease released. */
  private release(key: string, reason: string, remove: boolean): Promise<void> {
    const pending = this.releasing.get(key);
    if (pending) return pending;
    const released = (async () => {
      this.options.logger?.info('letting a hub go', { hub: key, reason });
      // Capped at a lapse's margin: should the renewals fail meanwhile, the writes end before the Lease could expire.
      await this.gate.letGo(key, reason, Math.min(this.options.handOverGraceMs, this.lapseGraceMs));
      const held = this.held.get(key);
      if (held) {
        held.deadline?.cancel();
        this.held.delete(key);
        this.options.onLetGo(key);
        await this.writeRelease(held.lease, remove);
      }
    })();
    this.releasing.set(key, released);
    this.publish();
    return released.finally(() => {
      this.releasing.delete(key);
      this.publish();
    });
  }

  /** Gives a Lease up: no holder (the next replica takes it at once), or deleted when its hub is gone. */
  private async writeRelease(lease: V1Lease, remove: boolean): Promise<void> {
    if (remove) {
      await this.remove(lease, 'the Lease of a hub that is gone');
      return;
    }
    const name = lease.metadata?.name ?? '';
    try {
      await this.options.api.replaceNamespacedLease(
        { name, namespace: this.options.namespace, body: releasedLease(lease, this.clock.now()) },
        callWithin(this.options.retryPeriodMs),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 409 && httpStatusOf(error) !== 404)
        this.warn(
          'sharding: a hub Lease could not be released; another replica takes it when it expires',
          error,
        );
    }
  }

  /** Deletes a Lease as it was seen (a write since makes the delete fail, and it stays). */
  private async remove(lease: V1Lease, what: string): Promise<void> {
    try {
      await this.options.api.deleteNamespacedLease(
        {
          name: lease.metadata?.name ?? '',
          namespace: this.options.namespace,
          body: { preconditions: { resourceVersion: lease.metadata?.resourceVersion } },
        },
        callWithin(this.options.retryPeriodMs),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 409 && httpStatusOf(error) !== 404)
        this.warn(`sharding: ${what} could not be deleted`, error);
    }
  }

  private publish(): void {
    this.options.onChanged?.(this.hubs, this.liveMembers.length);
  }

  /** Once per distinct failure, then once a minute: a missing right must be said, not repeated every period. */
  private warn(message: string, error: unknown): void {
    const described = describeApiError(error);
    const now = this.clock.now();
    if (described === this.lastWarning.message && now - this.lastWarning.at < 60_000) return;
    this.lastWarning = { message: described, at: now };
    this.options.logger?.warn(message, { namespace: this.options.namespace, error: described });
  }
}

/**
 * Why `timing` cannot keep two replicas from writing one hub, or undefined when it can: a lapse must leave a retry
 * period to end the writes in flight and another for the clocks' and the list's slack before the Lease could expire.
 */
export function shardTimingError(timing: LeaseTiming): string | undefined {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = timing;
  if (!(retryPeriodMs > 0 && renewDeadlineMs > retryPeriodMs))
    return 'sharding needs --shard-renew-deadline > --shard-retry-period > 0';
  if (leaseDurationMs < renewDeadlineMs + 2 * retryPeriodMs)
    return 'sharding needs --shard-lease-duration >= --shard-renew-deadline + 2 x --shard-retry-period';
  return undefined;
}
