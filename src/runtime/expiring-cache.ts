// A bounded map whose entries expire: what was verified or decided once (a token's review, a signature) is kept
// until it stops being true, and a flood of distinct keys cannot grow it past its size (the oldest entry goes).

export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  /** `now` is in milliseconds, as Date.now. */
  constructor(
    private readonly size: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value, while it has not expired. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.until > this.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Kept for `ttlMs` from now. */
  set(key: string, value: V, ttlMs: number): void {
    this.setUntil(key, value, this.now() + ttlMs);
  }

  /** Kept until `untilMs` (a time from `now`'s clock). */
  setUntil(key: string, value: V, untilMs: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.size) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, until: untilMs });
  }

  get entryCount(): number {
    return this.entries.size;
  }
}
