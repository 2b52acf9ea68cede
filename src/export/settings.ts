// What export reads of one twin, whatever kind of resource it writes: settings keyed as the resource spells them
// (an agent setting's name, a property's name), each with a JSON value in canonical form, or why the twin gives
// none. Grouping, the baseline and the layers work on these alone.

/** Setting -> value; objects' keys sorted at every level, so that equal values have equal JSON texts. */
export type Settings = Record<string, unknown>;

export type TwinSettings =
  | {
      kind: 'settings';
      settings: Settings;
      /** Managers whose settings on this twin were left out. */
      othersLeftOut: string[];
      /** IoT Plug and Play components the twin holds that were not exported (another export takes each). */
      componentsLeftOut?: string[];
    }
  /** Nothing to export: no desired configuration, or one that names no setting. */
  | { kind: 'noConfiguration'; componentsLeftOut?: string[] }
  /** Every setting it carries belongs to other managers. */
  | { kind: 'managedElsewhere'; managers: string[] }
  /** Validation, or the device, would refuse the settings as they stand: reproducing them would be refused too. */
  | { kind: 'rejected'; reason: string };

const compareKeys = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/** A JSON value with every object's keys sorted (arrays keep their order). */
export function canonicalValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .sort(compareKeys)
      .map(([key, item]) => [key, canonicalValue(item)]),
  );
}

/** Whether two canonical values are equal. */
export function sameSettingValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** One text per distinct configuration: keys sorted, values as JSON. */
export function settingsFingerprint(settings: Settings): string {
  return JSON.stringify(Object.entries(settings).sort(compareKeys));
}

/**
 * The settings `manager` may export: those `ownerOf` finds no other manager's record claiming (it answers
 * `manager:namespace/name` for one that does). Settings another manager claims are theirs: `sync --manager` would
 * never write them. Keys come out sorted.
 */
export function unclaimedSettings(
  settings: Settings,
  ownerOf: (key: string) => string | undefined,
): TwinSettings {
  const keys = Object.keys(settings).sort();
  if (keys.length === 0) return { kind: 'noConfiguration' };
  const kept: Settings = {};
  const others = new Set<string>();
  for (const key of keys) {
    const owner = ownerOf(key);
    if (owner === undefined) kept[key] = settings[key];
    else others.add(owner.slice(0, owner.indexOf(':')));
  }
  const managers = [...others].sort();
  if (Object.keys(kept).length === 0) return { kind: 'managedElsewhere', managers };
  return { kind: 'settings', settings: kept, othersLeftOut: managers };
}
