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
// - on a clean stop every hub is let go and released, and the member Lease deleted.
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../observability/logger.js';
import { type Clock, systemClock, type Timer } from '../../runtime/clock.js';
import { httpStatusOf } from '../../runtime/http-status.js';
import type { Stop } from '../../runtime/stop.js';
import { describeApiError } from '../api-errors.js';
import type { HubOwnership } from '../hub-ownership.js';
import { assignedMember } from './assignment.js';
import { HubGate } from './hub-gate.js';
import {
  HUB_ANNOTATION,
  heldLease,
  holderOf,
  hubLeaseName,
  LEASE_ROLE_LABEL,
  LeaseObservations,
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
  /** How long a hub let go on purpose may take to finish its writes in flight before its hub calls are abandoned. */
  handOverGraceMs: number;
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
  private readonly inFlight = new Set<string>();
  private announced = false;

  constructor(private readonly options: HubShardingOptions) {
    this.clock = options.clock ?? systemClock;
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = options;
    if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs))
      throw new RangeError('sharding needs leaseDuration > renewDeadline > retryPeriod');
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

  /** Lets every hub go (their reconciles drained within the grace period), releases their Leases and the member's. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const key of this.held.keys()) void this.release(key, 'stopping', false);
    await Promise.all(this.releasing.values());
    this.stopped = true;
    this.timer?.cancel();
    const lease = this.memberLease;
    if (lease) await this.remove(lease, 'the member Lease');
    this.publish();
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
    this.inFlight.add(name);
    work()
      .catch((error) =>
        this.warn(`sharding: the Leases could not be read or written (${name.split(' ')[0]})`, error),
      )
      .finally(() => this.inFlight.delete(name));
  }

  /** Renews the member Lease, which says this replica is alive and shares the hubs. */
  private async announce(): Promise<void> {
    const { api, namespace, identity, leaseDurationMs } = this.options;
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
        ? await api.replaceNamespacedLease({ name, namespace, body })
        : await api.createNamespacedLease({ namespace, body });
      this.announced = true;
    } catch (error) {
      // A conflict: the Lease as it stands is read again from the next list.
      if (httpStatusOf(error) !== 409) throw error;
      this.announced = false;
    }
  }

  /** One round: read every Lease, then take, keep and let go of hubs. */
  private async step(): Promise<void> {
    const { api, namespace, identity } = this.options;
    const memberName = memberLeaseName(identity);
    const leases = (await api.listNamespacedLease({ namespace, labelSelector: SHARD_LEASE_SELECTOR })).items;
    const now = this.clock.now();
    this.observations.observe(leases, now);
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
    await Promise.all([...keys].map((key) => this.stepHub(key, hubLeases.get(key), known.has(key))));
    for (const lease of tidy) await this.remove(lease, 'a Lease no replica renews');
    this.publish();
  }

  private async stepHub(key: string, lease: V1Lease | undefined, known: boolean): Promise<void> {
    // A hub being let go stays held (and renewed) until its reconcile has drained: it must not lapse before.
    if (this.releasing.has(key)) return;
    const held = this.held.get(key);
    const assigned = known && !this.stopping ? assignedMember(key, this.liveMembers) : undefined;
    if (assigned === this.identity) {
      if (!held && !this.gate.busy(key)) await this.take(key, lease);
    } else if (held) {
      void this.release(key, known ? `hub ${key} is assigned to ${assigned}` : `hub ${key} is gone`, !known);
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
        ? await api.replaceNamespacedLease({ name, namespace, body })
        : await api.createNamespacedLease({ namespace, body });
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
    const { api, namespace, identity, leaseDurationMs } = this.options;
    const sentAt = this.clock.now();
    const name = held.lease.metadata?.name ?? hubLeaseName(key);
    try {
      const written = await api.replaceNamespacedLease({
        name,
        namespace,
        body: heldLease(
          held.lease,
          { name, namespace, role: 'hub', hub: key },
          identity,
          leaseDurationMs,
          sentAt,
        ),
      });
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
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this.options;
    const graceMs = Math.max(0, leaseDurationMs - renewDeadlineMs - retryPeriodMs);
    void this.gate.letGo(key, `lost the Lease of hub ${key}`, graceMs).then(() => {
      if (!this.held.has(key)) this.options.onLetGo(key);
    });
  }

  /** Lets hub `key` go on purpose: its reconcile drained (the Lease renewed meanwhile), then the Lease released. */
  private release(key: string, reason: string, remove: boolean): Promise<void> {
    const pending = this.releasing.get(key);
    if (pending) return pending;
    const released = (async () => {
      this.options.logger?.info('letting a hub go', { hub: key, reason });
      await this.gate.letGo(key, reason, this.options.handOverGraceMs);
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
      await this.options.api.replaceNamespacedLease({
        name,
        namespace: this.options.namespace,
        body: releasedLease(lease, this.clock.now()),
      });
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
      await this.options.api.deleteNamespacedLease({
        name: lease.metadata?.name ?? '',
        namespace: this.options.namespace,
        body: { preconditions: { resourceVersion: lease.metadata?.resourceVersion } },
      });
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
