// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it (client-node has no
// helper): a candidate takes the Lease when it is free or its holder has not renewed it for leaseDuration; the
// leader renews it every retryPeriod and gives up leading when it could not renew for renewDeadline; on a clean
// stop the leader releases the Lease so that a standby takes over at once. How a Lease is held, released and judged
// expired is leases.ts, shared with sharding.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { type Clock, systemClock, type Timer } from '../runtime/clock.js';
import { httpStatusOf } from '../runtime/http-status.js';
import { describeApiError } from './api-errors.js';
import { heldLeaseSpec, holderOf, LeaseObservations, releasedLeaseSpec } from './leases.js';

export interface LeaderElectionOptions {
  api: CoordinationV1Api;
  namespace: string;
  name: string;
  /** Unique per process (default: host name and a random suffix). */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger?: Logger;
  clock?: Clock;
  onStartedLeading: () => void;
  /** Leadership lost (not on a release at stop): the caller must stop writing at once. */
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
}

export class LeaderElector {
  readonly identity: string;
  private leading = false;
  private stopped = false;
  private timer?: Timer;
  private readonly observations = new LeaseObservations();
  private lastRenewAt = 0;
  private reportedLeader = '';
  private lastWarning = { message: '', at: 0 };
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: LeaderElectionOptions) {
    this.identity = options.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.clock = options.clock ?? systemClock;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs))
      throw new RangeError('leader election needs leaseDuration > renewDeadline > retryPeriod');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops campaigning; a leader releases the Lease so that a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.options.api.readNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
      });
      if (lease.spec?.holderIdentity !== this.identity) return;
      lease.spec = { ...releasedLeaseSpec(lease.spec, this.clock.now()), leaseDurationSeconds: 1 };
      await this.options.api.replaceNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
        body: lease,
      });
      this.options.logger?.info('released the leader lease', {
        lease: this.options.name,
        identity: this.identity,
      });
    } catch (error) {
      this.options.logger?.warn('could not release the leader lease; a standby takes over when it expires', {
        error: (error as Error).message,
      });
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let acquired = false;
    try {
      acquired = await this.tryAcquireOrRenew();
    } catch (error) {
      // Once per distinct failure, then once a minute: a missing right must be said, not repeated every 2 s.
      const message = describeApiError(error);
      const now = this.clock.now();
      if (message !== this.lastWarning.message || now - this.lastWarning.at >= 60_000) {
        this.lastWarning = { message, at: now };
        this.options.logger?.warn('leader election: the Lease could not be read or written', {
          lease: `${this.options.namespace}/${this.options.name}`,
          error: message,
        });
      }
    }
    if (this.stopped) return;
    const now = this.clock.now();
    if (acquired) {
      this.lastRenewAt = now;
      if (!this.leading) {
        this.leading = true;
        this.options.logger?.info('became the leader', { lease: this.options.name, identity: this.identity });
        this.options.onStartedLeading();
      }
    } else if (this.leading && now - this.lastRenewAt >= this.renewDeadlineMs) {
      this.leading = false;
      this.options.logger?.error('lost the leader lease: could not renew it within the renew deadline', {
        lease: this.options.name,
        renewDeadlineMs: this.renewDeadlineMs,
      });
      this.options.onStoppedLeading();
    }
    this.timer = this.clock.setTimer(this.retryPeriodMs, () => void this.tick());
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name } = this.options;
    const now = this.clock.now();
    const spec = (previous?: V1Lease['spec']) =>
      heldLeaseSpec(previous, this.identity, Math.round(this.leaseDurationMs / 1000), now);
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
      try {
        await api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: spec() } });
        return true;
      } catch (createError) {
        if (httpStatusOf(createError) === 409) return false; // another candidate was first
        throw createError;
      }
    }
    const holder = holderOf(lease);
    this.observations.observe([lease], now);
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      if (holder !== this.identity) this.options.onNewLeader?.(holder);
    }
    if (holder !== this.identity && !this.observations.expired(lease, now)) return false;
    lease.spec = spec(lease.spec);
    try {
      // resourceVersion in the body: the write fails (409) if someone else wrote the Lease since our read.
      await api.replaceNamespacedLease({ name, namespace, body: lease });
      return true;
    } catch (error) {
      if (httpStatusOf(error) === 409) return false;
      throw error;
    }
  }
}
