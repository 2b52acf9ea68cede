// The ownership record the operator keeps in each module twin's tags: which resource manages which setting,
// and at which revision each resource was last applied. A run with no local state reads it to know what to
// remove when a resource goes, and where a rollout stands.

export const OWNERSHIP_TAG = 'iotSecurityOperator';

export interface Ownership {
  /** Twin setting key -> resource key (`namespace/name`). */
  owners: Map<string, string>;
  /** Resource key -> revision of that resource last written to this twin. */
  revisions: Map<string, string>;
}

// Twin keys may not contain '.', '$' or spaces; resource names may contain '.'.
export function encodeTagKey(key: string): string {
  if (!/[%.$ ]/.test(key)) return key;
  return key.replace(/[%.$ ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function decodeTagKey(key: string): string {
  if (!key.includes('%')) return key;
  return key.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

function stringEntries(value: unknown): [string, string][] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).filter(
    (e): e is [string, string] => typeof e[1] === 'string',
  );
}

/** Reads the record; entries someone else mangled are ignored rather than trusted. */
const NO_OWNERSHIP: Ownership = Object.freeze({ owners: new Map(), revisions: new Map() });

export function readOwnership(tags: Record<string, unknown> | undefined): Ownership {
  const record = tags?.[OWNERSHIP_TAG] as Record<string, unknown> | undefined;
  if (record === undefined) return NO_OWNERSHIP;
  return {
    owners: new Map(stringEntries(record?.owners)),
    revisions: new Map(stringEntries(record?.revisions).map(([k, v]) => [decodeTagKey(k), v])),
  };
}

function mapPatch(current: Map<string, string>, next: Map<string, string>, encode: (k: string) => string) {
  const patch: Record<string, string | null> = {};
  for (const [key, value] of next) if (current.get(key) !== value) patch[encode(key)] = value;
  for (const key of current.keys()) if (!next.has(key)) patch[encode(key)] = null;
  return patch;
}

/** The merge patch of the twin's tags that turns `current` into `next`; undefined when they are equal. */
export function ownershipTagsPatch(current: Ownership, next: Ownership): Record<string, unknown> | undefined {
  const owners = mapPatch(current.owners, next.owners, (k) => k);
  const revisions = mapPatch(current.revisions, next.revisions, encodeTagKey);
  const hasOwners = Object.keys(owners).length > 0;
  const hasRevisions = Object.keys(revisions).length > 0;
  if (!hasOwners && !hasRevisions) return undefined;
  if (next.owners.size === 0 && next.revisions.size === 0) return { [OWNERSHIP_TAG]: null };
  const record: Record<string, unknown> = {};
  if (hasOwners) record.owners = next.owners.size === 0 ? null : owners;
  if (hasRevisions) record.revisions = next.revisions.size === 0 ? null : revisions;
  return { [OWNERSHIP_TAG]: record };
}
