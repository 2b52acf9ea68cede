// The Leases of sharding, in the operator's namespace: one per replica (`iot-security-operator-member-...`, its
// presence) and one per hub (`iot-security-operator-hub.<namespace>.<name>`, who may write to it), told apart by
// a label so that one list reads them all. Expiry is judged as in leader-election.ts: on this process's clock,
// from when a Lease was last seen to change, never by comparing the clocks of different machines.
import { createHash } from 'node:crypto';
import type { V1Lease } from '@kubernetes/client-node';
import { formatKubeMicroTime } from '../../api/kube-time.js';
import { API_GROUP } from '../kube-objects.js';

export const LEASE_ROLE_LABEL = `${API_GROUP}/lease-role`;
/** The hub a hub Lease is for (`namespace/name`), for people and for a hub whose name was too long to show. */
export const HUB_ANNOTATION = `${API_GROUP}/hub`;
export const SHARD_LEASE_SELECTOR = `${LEASE_ROLE_LABEL} in (member,hub)`;
const PREFIX = 'iot-security-operator';
const MAX_NAME = 253;

function dnsSafe(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The Lease of a replica: its identity made a name, or hashed when that is too long. */
export function memberLeaseName(identity: string): string {
  const name = `${PREFIX}-member-${dnsSafe(identity)}`;
  return name.length <= MAX_NAME ? name : `${PREFIX}-member-${shortHash(identity)}`;
}

/**
 * The Lease of hub `namespace/name`: a namespace holds no dot, so `<namespace>.<name>` names one hub only; too
 * long a name is hashed (the annotation still says which hub).
 */
export function hubLeaseName(key: string): string {
  const [namespace, name] = key.split('/');
  const readable = `${PREFIX}-hub.${namespace}.${name}`;
  return readable.length <= MAX_NAME ? readable : `${PREFIX}-hub-${shortHash(key)}`;
}

export interface LeaseTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** A Lease held by `holder` from `now`: a new one, or `previous` taken over or renewed. */
export function heldLease(
  previous: V1Lease | undefined,
  init: { name: string; namespace: string; role: 'member' | 'hub'; hub?: string },
  holder: string,
  leaseDurationMs: number,
  now: number,
): V1Lease {
  const spec = previous?.spec;
  const kept = spec?.holderIdentity === holder;
  return {
    ...previous,
    metadata: previous?.metadata ?? {
      name: init.name,
      namespace: init.namespace,
      labels: { 'app.kubernetes.io/name': PREFIX, [LEASE_ROLE_LABEL]: init.role },
      ...(init.hub !== undefined && { annotations: { [HUB_ANNOTATION]: init.hub } }),
    },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: Math.max(1, Math.ceil(leaseDurationMs / 1000)),
      acquireTime: (kept && spec?.acquireTime ? spec.acquireTime : formatKubeMicroTime(now)) as never,
      renewTime: formatKubeMicroTime(now) as never,
      leaseTransitions: (spec?.leaseTransitions ?? 0) + (spec?.holderIdentity && !kept ? 1 : 0),
    },
  };
}

/** `lease` given up: no holder, so that the next replica takes it at once. */
export function releasedLease(lease: V1Lease, now: number): V1Lease {
  return {
    ...lease,
    spec: {
      ...lease.spec,
      holderIdentity: '',
      acquireTime: undefined,
      renewTime: formatKubeMicroTime(now) as never,
    },
  };
}

export const holderOf = (lease: V1Lease | undefined): string => lease?.spec?.holderIdentity ?? '';

/** When each Lease was last seen to change, on this process's clock. */
export class LeaseObservations {
  private readonly seen = new Map<string, { version: string; at: number }>();

  /**
   * Records the Leases of one list (those not in it are forgotten). `fresh`: every Lease counts as renewed now, as
   * after a gap in listing longer than a lease, when an unchanged Lease may have been renewed in between for all
   * this process saw.
   */
  observe(leases: readonly V1Lease[], now: number, fresh = false): void {
    const names = new Set<string>();
    for (const lease of leases) {
      const name = lease.metadata?.name ?? '';
      names.add(name);
      const version = `${lease.metadata?.resourceVersion}|${holderOf(lease)}|${String(lease.spec?.renewTime ?? '')}`;
      if (fresh || this.seen.get(name)?.version !== version) this.seen.set(name, { version, at: now });
    }
    for (const name of [...this.seen.keys()]) if (!names.has(name)) this.seen.delete(name);
  }

  /**
   * Whether `lease` is free: released, or not renewed by its holder for its duration (`times` over) as seen from
   * here. A Lease first seen now counts as just renewed.
   */
  expired(lease: V1Lease, now: number, times = 1): boolean {
    if (holderOf(lease) === '') return true;
    const seen = this.seen.get(lease.metadata?.name ?? '');
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
    return seen !== undefined && seen.at + times * durationMs <= now;
  }
}
