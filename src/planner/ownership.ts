// The ownership record kept in each module twin's tags: per manager (a controller, a `sync` pipeline), which
// resource manages which setting and at which revision each resource was last applied. A run with no local state
// reads it to know what to remove when a resource goes, and where a rollout stands; a manager reads the others'
// records to leave their settings alone.
//
//   tags.iotSecurityOperator = { <manager>: { owners: { <setting>: "<ns>/<name>" }, revisions: { ... } } }

export const OWNERSHIP_TAG = 'iotSecurityOperator';

/** The manager id `sync` records unless told otherwise. */
export const DEFAULT_MANAGER = 'sync';

/** Keys of the record before it was kept per manager (`sync` wrote them): read as sync's, migrated on write. */
const LEGACY_KEYS = ['owners', 'revisions'];

/** Manager ids are DNS labels: valid twin keys as they are, and unambiguous in messages. */
export const MANAGER_ID_PATTERN = /^(?!owners$|revisions$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface Ownership {
  /** This manager's settings: twin setting key -> resource key (`namespace/name`). */
  owners: Map<string, string>;
  /** This manager's resources: resource key -> revision last written to this twin. */
  revisions: Map<string, string>;
  /** Settings others own on this twin: setting key -> `manager:namespace/name`. */
  managedElsewhere: Map<string, string>;
  /** Whether anyone else keeps entries on this twin (other managers, or other scopes of this manager's record). */
  otherManagers: boolean;
  /** This manager's record holds entries of resources outside this plan's scope: patch it key by key, never whole. */
  sharedRecord: boolean;
  /** The record has keys of the format before managers (top-level owners/revisions), sync's: drop them on write. */
  legacy: boolean;
  /** Those legacy keys are what this manager's record was read from: rewrite it whole under the manager. */
  legacyIsMine: boolean;
  /**
   * The record's entries outside the scope, as stored (revision keys encoded): a legacy record rewritten whole
   * under the manager carries them over, so that another scope's claims are not lost in the move.
   */
  outOfScope?: { owners: Map<string, string>; revisions: Map<string, string> };
}

/**
 * Which resources of a manager's record a plan is responsible for. The controller scopes each IoTHub to its own
 * namespace: two IoTHubs of two namespaces that name the same hub must not take each other's entries for
 * unknown owners (and remove or overwrite them).
 */
export type ResourceScope = (resourceKey: string) => boolean;

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
  sharedRecord: false,
  legacy: false,
  legacyIsMine: false,
});

/**
 * Readings of frozen records (the hub client shares one record among the twins that carry the same, see
 * src/twins/shared-values.ts): a fleet's twins carry a handful of distinct records, each read once per plan's
 * manager and scope instead of once per twin. A frozen record cannot change, so its reading cannot go stale.
 */
const readings = new WeakMap<object, { manager: string; inScope?: ResourceScope; ownership: Ownership }>();

/**
 * Reads the record as `manager` sees it, for the resources `inScope` accepts (all by default); entries someone else
 * mangled are ignored rather than trusted. The answer may be shared with other twins': never change it.
 */
export function readOwnership(
  tags: Record<string, unknown> | undefined,
  manager = DEFAULT_MANAGER,
  inScope?: ResourceScope,
): Ownership {
  const record = tags?.[OWNERSHIP_TAG];
  if (!isRecord(record)) return NO_OWNERSHIP;
  if (!Object.isFrozen(record)) return readRecord(record, manager, inScope);
  const known = readings.get(record);
  if (known && known.manager === manager && known.inScope === inScope) return known.ownership;
  const ownership = readRecord(record, manager, inScope);
  readings.set(record, { manager, inScope, ownership });
  return ownership;
}

function readRecord(
  record: Record<string, unknown>,
  manager: string,
  inScope: ResourceScope | undefined,
): Ownership {
  const legacy = LEGACY_KEYS.some((k) => isRecord(record[k]));
  const legacyRecord = legacy ? { owners: record.owners, revisions: record.revisions } : undefined;
  const records = new Map<string, Record<string, unknown>>();
  for (const [name, entry] of Object.entries(record))
    if (!LEGACY_KEYS.includes(name) && isRecord(entry)) records.set(name, entry);
  // The legacy record was sync's; a manager record of sync written since takes precedence.
  const legacyIsMine =
    legacyRecord !== undefined && !records.has(DEFAULT_MANAGER) && manager === DEFAULT_MANAGER;
  if (legacyRecord && !records.has(DEFAULT_MANAGER)) records.set(DEFAULT_MANAGER, legacyRecord);
  const mine = records.get(manager);
  const owners = new Map<string, string>();
  const revisions = new Map<string, string>();
  const managedElsewhere = new Map<string, string>();
  const outOfScope = { owners: new Map<string, string>(), revisions: new Map<string, string>() };
  for (const [setting, owner] of stringEntries(mine?.owners)) {
    if (!inScope || inScope(owner)) owners.set(setting, owner);
    else {
      outOfScope.owners.set(setting, owner);
      managedElsewhere.set(setting, `${manager}:${owner}`);
    }
  }
  for (const [key, revision] of stringEntries(mine?.revisions)) {
    const resource = decodeTagKey(key);
    if (!inScope || inScope(resource)) revisions.set(resource, revision);
    else outOfScope.revisions.set(key, revision);
  }
  const sharedRecord = outOfScope.owners.size + outOfScope.revisions.size > 0;
  let otherManagers = sharedRecord;
  for (const [other, entry] of records) {
    if (other === manager) continue;
    otherManagers = true;
    for (const [setting, owner] of stringEntries(entry.owners))
      if (!managedElsewhere.has(setting)) managedElsewhere.set(setting, `${other}:${owner}`);
  }
  if (!mine && !otherManagers && !legacy) return NO_OWNERSHIP;
  return {
    owners,
    revisions,
    managedElsewhere,
    otherManagers,
    sharedRecord,
    legacy: legacy && manager === DEFAULT_MANAGER,
    legacyIsMine,
    ...(sharedRecord ? { outOfScope } : {}),
  };
}

/** JSON merge patch (RFC 7396), as the hub applies a twin patch's tags. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** The record as `manager` will read it once the hub has applied `tagsPatch` to the twin's `tags`. */
export function readOwnershipAfter(
  tags: Record<string, unknown> | undefined,
  tagsPatch: Record<string, unknown> | undefined,
  manager = DEFAULT_MANAGER,
  inScope?: ResourceScope,
): Ownership {
  const after = tagsPatch ? (mergePatch(tags ?? {}, tagsPatch) as Record<string, unknown>) : tags;
  return readOwnership(after, manager, inScope);
}

function mapPatch(current: Map<string, string>, next: Map<string, string>, encode: (k: string) => string) {
  const patch: Record<string, string | null> = {};
  for (const [key, value] of next) if (current.get(key) !== value) patch[encode(key)] = value;
  for (const key of current.keys()) if (!next.has(key)) patch[encode(key)] = null;
  return patch;
}

/**
 * The merge patch of the twin's tags that turns `manager`'s record (its entries in scope) from `current` into
 * `next`, touching no other manager's and no entry out of scope; undefined when they are equal.
 */
export function ownershipTagsPatch(
  current: Ownership,
  next: Pick<Ownership, 'owners' | 'revisions'>,
  manager = DEFAULT_MANAGER,
): Record<string, unknown> | undefined {
  // A legacy record is rewritten whole under the manager's key, and the old keys dropped.
  const base: Pick<Ownership, 'owners' | 'revisions'> = current.legacyIsMine
    ? { owners: new Map(), revisions: new Map() }
    : current;
  const owners = mapPatch(base.owners, next.owners, (k) => k);
  const revisions = mapPatch(base.revisions, next.revisions, encodeTagKey);
  if (current.legacyIsMine && current.outOfScope) {
    for (const [setting, owner] of current.outOfScope.owners) owners[setting] = owner;
    for (const [key, revision] of current.outOfScope.revisions) revisions[key] = revision;
  }
  const hasOwners = Object.keys(owners).length > 0;
  const hasRevisions = Object.keys(revisions).length > 0;
  if (!hasOwners && !hasRevisions && !current.legacy) return undefined;
  const legacyDrop = current.legacy ? { owners: null, revisions: null } : {};
  const empty = next.owners.size === 0 && next.revisions.size === 0;
  if (empty && !current.sharedRecord) {
    if (!current.otherManagers) return { [OWNERSHIP_TAG]: null };
    return { [OWNERSHIP_TAG]: { ...legacyDrop, [manager]: null } };
  }
  const record: Record<string, unknown> = {};
  if (hasOwners) record.owners = next.owners.size === 0 && !current.sharedRecord ? null : owners;
  if (hasRevisions) record.revisions = next.revisions.size === 0 && !current.sharedRecord ? null : revisions;
  return { [OWNERSHIP_TAG]: { ...legacyDrop, [manager]: record } };
}
