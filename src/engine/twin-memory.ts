// The twins this process wrote, as the hub returned them. Queries can lag writes by minutes: until a snapshot
// shows a desired $version at least as new as ours, the remembered twin stands in for the stale one, so the
// engine neither writes it again nor counts it converged from a report older than the write.
//
// A hub can also lose writes it acknowledged (a failover, a restart from an older state): then no query ever
// catches up, and waiting for one would wait forever. A GET tells, since it never lags: older than our write, the
// write was lost and is forgotten (so that it is planned and made again). So a twin a query shows older than our
// write, or without its module, is read again by GET (`overlay` returns these suspects) when the hub went away
// since the write (attempts in a row got no answer), when a query shows a later write of ours but not this one (a
// lagging query trails every write alike), or when the query has been behind for a minute.
import type { ManagedTwin, TwinRef } from '../twins/types.js';
import type { FleetSnapshot } from './fleet-snapshot.js';

const keyOf = (ref: TwinRef) => `${ref.slot}/${ref.deviceId}`;

/** Query results may reflect writes slightly out of order; a later write seen within this of ours proves nothing. */
export const QUERY_ORDER_SLACK_MS = 1000;
/** A query older than our write for this long is checked by GET, whatever the other twins show. */
export const SUSPECT_LAG_MS = 60_000;

/** What the engine knows of the hub's state at a moment: the time, and the times the hub went away so far. */
export interface HubMoment {
  now: number;
  outages?: number;
}

interface Remembered {
  ref: TwinRef;
  twin: ManagedTwin;
  writtenAt: number;
  /** When the hub was last known to hold the write (made, or shown by a GET), and the hub's outages then. */
  vouchedAt: number;
  outagesAtVouch: number;
  /** The stand-in this memory put in a snapshot for a stale read: not a read of the hub. */
  standIn?: ManagedTwin;
}

export class TwinMemory {
  private readonly written = new Map<string, Remembered>();
  private readonly offline = new Set<string>();
  private readonly onlineSince = new Map<string, number>();
  /** The latest write of ours a query has shown: queries reflect the writes made before it as well. */
  private queryHorizon = Number.NEGATIVE_INFINITY;
  /**
   * Current twins (GETs, write answers) already taken as the hub's word. A session keeps its snapshot between
   * steps: a twin read once vouches for the moment it was read, not again at every later step that reuses it
   * (the hub may have lost the write since).
   */
  private readonly vouched = new WeakSet<ManagedTwin>();

  /** A write of ours, as the hub answered it; `inSnapshot`: the answer as put in the snapshot (vouched for now). */
  remember(ref: TwinRef, twin: ManagedTwin, at: HubMoment, inSnapshot?: ManagedTwin): void {
    const outagesAtVouch = at.outages ?? 0;
    // The snapshot's copy when there is one: the same twin, marked as read (overlay reads its versions and values,
    // and makes a stand-in of it marked as not read), held once rather than twice until the reads catch up.
    const kept = inSnapshot ?? twin;
    this.written.set(keyOf(ref), { ref, twin: kept, writtenAt: at.now, vouchedAt: at.now, outagesAtVouch });
    if (inSnapshot) this.vouched.add(inSnapshot);
  }

  /** The hub has no such twin (a GET found none): nothing of ours stands in for it any more. */
  forget(ref: TwinRef): void {
    this.written.delete(keyOf(ref));
  }

  get size(): number {
    return this.written.size;
  }

  /**
   * Replaces stale twins of `snapshot` (in place) and forgets those the hub's reads caught up with; marks devices
   * seen coming back online since an earlier snapshot with the time it was noticed. Returns the twins whose write
   * the hub may have lost, to be read again by GET (then overlay again).
   */
  overlay(snapshot: FleetSnapshot, at: HubMoment): TwinRef[] {
    const { now } = at;
    const outages = at.outages ?? 0;
    const present = new Set<string>();
    for (const device of snapshot.devices) {
      present.add(device.deviceId);
      if (device.connectionState !== 'Connected') {
        this.offline.add(device.deviceId);
        this.onlineSince.delete(device.deviceId);
        continue;
      }
      if (this.offline.delete(device.deviceId)) this.onlineSince.set(device.deviceId, now);
      const since = this.onlineSince.get(device.deviceId);
      if (since !== undefined) snapshot.markOnlineSince(device, since);
    }
    // Only the slots the snapshot read: a twin of a slot not read is neither confirmed nor suspected.
    const seenOf = (ref: TwinRef) => snapshot.twins.get(ref.slot)?.get(ref.deviceId);
    const read = (ref: TwinRef) => snapshot.hasSlot(ref.slot);
    for (const mine of this.written.values()) {
      const seen = seenOf(mine.ref);
      if (seen && seen !== mine.standIn && !seen.current && caughtUp(seen, mine.twin))
        this.queryHorizon = Math.max(this.queryHorizon, mine.writtenAt);
    }
    const suspects: TwinRef[] = [];
    for (const [key, mine] of this.written) {
      if (!read(mine.ref)) continue;
      const seen = seenOf(mine.ref);
      if (seen !== undefined && seen === mine.standIn) continue;
      // A GET (or a write's answer) is the hub's current twin: it stands as read. Older than our write, the hub
      // lost the write: forget it, so that it is planned (and written) again. Not older, keep remembering: a
      // query read later may still lag behind it.
      if (seen?.current) {
        if (seen.version !== undefined && mine.twin.version !== undefined && seen.version < mine.twin.version)
          this.written.delete(key);
        else if (!this.vouched.has(seen)) {
          this.vouched.add(seen);
          mine.vouchedAt = Math.max(mine.vouchedAt, now);
          mine.outagesAtVouch = Math.max(mine.outagesAtVouch, outages);
        }
        continue;
      }
      if (seen !== undefined && caughtUp(seen, mine.twin)) {
        this.written.delete(key);
        continue;
      }
      // A read without the module of a device it lists may lag our creation of it, or the hub lost the module.
      if (
        (seen !== undefined || present.has(mine.ref.deviceId)) &&
        (outages > mine.outagesAtVouch ||
          this.queryHorizon - mine.vouchedAt > QUERY_ORDER_SLACK_MS ||
          now - mine.vouchedAt > SUSPECT_LAG_MS)
      )
        suspects.push(mine.ref);
      mine.standIn = {
        ...mine.twin,
        // The device's answer can only be trusted from a read that includes our write.
        reported: seen?.reported ?? mine.twin.reported,
        reportedMayBeStale: true,
        current: false,
      };
      snapshot.standIn(mine.ref, mine.standIn);
    }
    return suspects;
  }
}

/** Whether a read includes our write. A write of tags alone leaves desired's $version as it was: the twin's version tells. */
function caughtUp(seen: ManagedTwin, mine: ManagedTwin): boolean {
  return seen.version !== undefined && mine.version !== undefined
    ? seen.version >= mine.version
    : seen.desiredVersion >= mine.desiredVersion;
}
