// One copy of each JSON value that many twins hold alike. A fleet's twins mostly repeat one another: the same
// tags (site, environment), the same ownership record, the same configuration desired and reported by every
// device that converged. Parsed from the hub's answers, each is a tree of its own (a security agent's reported
// configuration alone is some thirty objects); shared, a hub of 100,000 devices holds a few hundred of them.
//
// Shared values are frozen: a twin is read, never changed in place (writes go to the hub, and the answer replaces
// the twin), and a frozen value makes any code that forgets this fail at once instead of changing other twins.

/** Values above this length (as JSON) are kept as they are: large values rarely repeat, and hashing costs. */
const MAX_SHARED_JSON = 16_384;
/** Distinct values remembered at most; then the table starts over (values already shared stay shared). */
const MAX_ENTRIES = 20_000;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export class SharedValues {
  private readonly table = new Map<string, unknown>();

  /** The one copy of a value equal to `value` (JSON-wise), frozen; `value` itself when it is the first seen. */
  share<T>(value: T): T {
    if (typeof value !== 'object' || value === null)
      return typeof value === 'string' ? (this.text(value) as T) : value;
    const json = JSON.stringify(value);
    if (json.length > MAX_SHARED_JSON) return value;
    const known = this.table.get(json);
    if (known !== undefined) return known as T;
    this.remember(json, deepFreeze(value));
    return value;
  }

  /** Each top-level value of `object` shared (an object whose keys differ by device still shares its values). */
  shareEach(object: Record<string, unknown>): Record<string, unknown> {
    const shared: Record<string, unknown> = {};
    for (const key of Object.keys(object)) shared[key] = this.share(object[key]);
    return shared;
  }

  /** One copy of a short string that many records hold (a connection state, a model id). */
  text(value: string): string {
    if (value.length > 256) return value;
    const key = `"${value}`;
    const known = this.table.get(key);
    if (known !== undefined) return known as string;
    this.remember(key, value);
    return value;
  }

  private remember(key: string, value: unknown): void {
    if (this.table.size >= MAX_ENTRIES) this.table.clear();
    this.table.set(key, value);
  }
}
