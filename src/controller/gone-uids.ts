// The uids of objects deleted lately. A reconcile that read an object before its deletion may still be running when
// the delete event arrives: what it would keep of the object afterwards (a status written, a verdict) must not be
// kept, or it would stay for good (uids are never reused). Bounded: past `limit` the oldest are dropped, long after
// any reconcile that could have read them has ended.
export class GoneUids {
  private readonly uids = new Set<string>();

  constructor(private readonly limit = 4096) {}

  add(uid: string): void {
    this.uids.delete(uid);
    this.uids.add(uid);
    if (this.uids.size > this.limit) this.uids.delete(this.uids.values().next().value as string);
  }

  has(uid: string): boolean {
    return this.uids.has(uid);
  }
}
