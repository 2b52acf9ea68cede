// Which replica answers for a hub: rendezvous (highest random weight) hashing of the hub's key over the live
// replicas. Every replica that sees the same members computes the same owner, with no coordination; when a
// replica goes only its hubs move, and when one comes it takes about 1/n of the hubs, each from one replica.
import { createHash } from 'node:crypto';

function weight(member: string, key: string): bigint {
  return createHash('sha256').update(member).update('\n').update(key).digest().readBigUInt64BE(0);
}

/** The member that hub `key` is assigned to (undefined when there is none). */
export function assignedMember(key: string, members: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const member of members) {
    const w = weight(member, key);
    // Ties (practically never) go to the smaller identity, so every replica breaks them alike.
    if (w > bestWeight || (w === bestWeight && best !== undefined && member < best)) {
      best = member;
      bestWeight = w;
    }
  }
  return best;
}
