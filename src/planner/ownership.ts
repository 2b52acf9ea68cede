// The ownership record kept in each module twin's tags: per manager (a controller, a `sync` pipeline), which
// resource manages which setting and at which revision each resource was last applied. A run with no local state
// reads it to know what to remove when a resource goes, and where a rollout stands; a manager reads the others'
// records to leave their settings alone.
//
//   tags.iotSecurityOperator = { <manager>: { owners: { <setting>: "<ns>/<name>" }, revisions: { ... } } }

export const OWNERSHIP_TAG = 'iotSecurityOperator';

/** The manager id `sync` records unless told otherwise. */
export const DEFAULT_MANAGER = 'sync';

/** Manager ids are DNS labels: valid twin keys as they are, and unambiguous in messages. */
export const MANAGER_ID_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface Ownership {
  /** This manager's settings: twin setting key -> resource key (`namespace/name`). */
  owners: Map<string, string>;
  /** This manager's resources: resource key -> revision last written to this twin. */
  revisions: Map<string, string>;
  /** Settings other managers own on this twin: setting key -> `manager:namespace/name`. */
  managedElsewhere: Map<string, string>;
  /** Whether other managers keep a record on this twin at all. */
  otherManagers: boolean;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function stringEntries(value: unknown): [string, string][] {
  if (!isRecord(value)) return [];
  return Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
}

const NO_OWNERSHIP: Ownership = Object.freeze({
  owners: new Map(),
  revisions: new Map(),
  managedElsewhere: new Map(),
  otherManagers: false,
});

/** Reads the record as `manager` sees it; entries someone else mangled are ignored rather than trusted. */
export function readOwnership(
  tags: Record<string, unknown> | undefined,
  manager = DEFAULT_MANAGER,
): Ownership {
  const record = tags?.[OWNERSHIP_TAG];
  if (!isRecord(record)) return NO_OWNERSHIP;
  const mine = isRecord(record[manager]) ? record[manager] : undefined;
  const managedElsewhere = new Map<string, string>();
  let otherManagers = false;
  for (const [other, entry] of Object.entries(record)) {
    if (other === manager || !isRecord(entry)) continue;
    otherManagers = true;
    for (const [setting, owner] of stringEntries(entry.owners))
      if (!managedElsewhere.has(setting)) managedElsewhere.set(setting, `${other}:${owner}`);
  }
  if (!mine && !otherManagers) return NO_OWNERSHIP;
  return {
    owners: new Map(stringEntries(mine?.owners)),
    revisions: new Map(stringEntries(mine?.revisions).map(([k, v]) => [decodeTagKey(k), v])),
    managedElsewhere,
    otherManagers,
  };
}

function mapPatch(current: Map<string, string>, next: Map<string, string>, encode: (k: string) => string) {
  const patch: Record<string, string | null> = {};
  for (const [key, value] of next) if (current.get(key) !== value) patch[encode(key)] = value;
  for (const key of current.keys()) if (!next.has(key)) patch[encode(key)] = null;
  return patch;
}

/**
 * The merge patch of the twin's tags that turns `manager`'s record from `current` into `next`, touching no
 * other manager's; undefined when they are equal.
 */
export function ownershipTagsPatch(
  current: Ownership,
  next: Pick<Ownership, 'owners' | 'revisions'>,
  manager = DEFAULT_MANAGER,
): Record<string, unknown> | undefined {
  const owners = mapPatch(current.owners, next.owners, (k) => k);
  const revisions = mapPatch(current.revisions, next.revisions, encodeTagKey);
  const hasOwners = Object.keys(owners).length > 0;
  const hasRevisions = Object.keys(revisions).length > 0;
  if (!hasOwners && !hasRevisions) return undefined;
  if (next.owners.size === 0 && next.revisions.size === 0)
    return { [OWNERSHIP_TAG]: current.otherManagers ? { [manager]: null } : null };
  const record: Record<string, unknown> = {};
  if (hasOwners) record.owners = next.owners.size === 0 ? null : owners;
  if (hasRevisions) record.revisions = next.revisions.size === 0 ? null : revisions;
  return { [OWNERSHIP_TAG]: { [manager]: record } };
}
