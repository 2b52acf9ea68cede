// What a Lease record says and how its holder writes it, as client-go's leaderelection does, shared by leader
// election (one Lease for the whole operator) and sharding (a Lease per replica and per hub). Expiry is judged on
// this process's clock from when a Lease was last seen to change, never by comparing clocks of different machines.
import type { V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import { formatKubeMicroTime } from '../api/kube-time.js';

export const holderOf = (lease: V1Lease | undefined): string => lease?.spec?.holderIdentity ?? '';

/** The spec of a Lease held by `holder` from `now`: taken (a transition when another held it) or renewed. */
export function heldLeaseSpec(
  previous: V1LeaseSpec | undefined,
  holder: string,
  leaseDurationSeconds: number,
  now: number,
): V1LeaseSpec {
  const kept = previous?.holderIdentity === holder;
  return {
    holderIdentity: holder,
    leaseDurationSeconds,
    acquireTime: (kept && previous?.acquireTime ? previous.acquireTime : formatKubeMicroTime(now)) as never,
    renewTime: formatKubeMicroTime(now) as never,
    leaseTransitions: (previous?.leaseTransitions ?? 0) + (previous?.holderIdentity && !kept ? 1 : 0),
  };
}

/** The spec of a Lease given up at `now`: no holder, so that the next candidate takes it at once. */
export function releasedLeaseSpec(spec: V1LeaseSpec | undefined, now: number): V1LeaseSpec {
  return {
    ...spec,
    holderIdentity: '',
    acquireTime: undefined,
    renewTime: formatKubeMicroTime(now) as never,
  };
}

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
