// One copy of each JSON value that many twins hold alike. A fleet's twins mostly repeat one another: the same
// tags (site, environment), the same ownership record, the same configuration desired and reported by every
// device that converged. Parsed from the hub's answers, each is a tree of its own (a security agent's reported
// configuration alone is some thirty objects); shared, a hub of 100,000 devices holds a few hundred of them.
//
// Shared values are frozen: a twin is read, never changed in place (writes go to the hub, and the answer replaces
// the twin), and a frozen value makes any code that forgets this fail at once instead of changing other twins.

import { identicalJson } from '../runtime/same-json.js';

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
  /**
   * The value last shared under each name (a property's, `$tags`...): the next twin of a fleet most likely holds
   * the same, which comparing finds at a fraction of the cost of serialising the value to look it up (a security
   * agent's reported configuration is 2 KB of JSON, read for every device at every read of the fleet).
   */
  private readonly recent = new Map<string, unknown>();

  /**
   * The one copy of a value equal to `value` (JSON-wise), frozen; `value` itself when it is the first seen.
   * `name` says what the value is (a property's name): a value equal to the last one shared under the same name
   * is that one, found without serialising it.
   */
  share<T>(value: T, name?: string): T {
    if (typeof value !== 'object' || value === null)
      return typeof value === 'string' ? (this.text(value) as T) : value;
    if (name !== undefined) {
      const last = this.recent.get(name);
      if (last !== undefined && identicalJson(value, last)) return last as T;
    }
    const json = JSON.stringify(value);
    if (json.length > MAX_SHARED_JSON) return value;
    let shared = this.table.get(json) as T | undefined;
    if (shared === undefined) {
      shared = deepFreeze(value);
      this.remember(json, shared);
    }
    if (name !== undefined) {
      // Names are property names: a fleet has few, but nothing stops a device reporting names of its own.
      if (this.recent.size >= MAX_ENTRIES) this.recent.clear();
      this.recent.set(name, shared);
    }
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
