// The Leases of sharding, in the operator's namespace: one per replica (`iot-security-operator-member-...`, its
// presence) and one per hub (`iot-security-operator-hub.<namespace>.<name>`, who may write to it), told apart by
// a label so that one list reads them all. How a Lease is held, released and judged expired is ../leases.ts.
import { createHash } from 'node:crypto';
import type { V1Lease } from '@kubernetes/client-node';
import { API_GROUP } from '../kube-objects.js';
import { heldLeaseSpec, releasedLeaseSpec } from '../leases.js';

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
  return {
    ...previous,
    metadata: previous?.metadata ?? {
      name: init.name,
      namespace: init.namespace,
      labels: { 'app.kubernetes.io/name': PREFIX, [LEASE_ROLE_LABEL]: init.role },
      ...(init.hub !== undefined && { annotations: { [HUB_ANNOTATION]: init.hub } }),
    },
    spec: heldLeaseSpec(previous?.spec, holder, Math.max(1, Math.ceil(leaseDurationMs / 1000)), now),
  };
}

/** `lease` given up: no holder, so that the next replica takes it at once. */
export function releasedLease(lease: V1Lease, now: number): V1Lease {
  return { ...lease, spec: releasedLeaseSpec(lease.spec, now) };
}
