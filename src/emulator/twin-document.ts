// Twin sections (tags, desired, reported) as the hub keeps them: merge with null deletes, replace, a
// `$version` per property section, `$metadata` with `$lastUpdated` at every level, and the hub's limits.
// Values are immutable and shared between twins (the copy-on-write merge never mutates), which keeps 100,000
// twins with the same agent configuration small. Metadata is stored collapsed: a subtree written by one
// update holds a single Stamp, expanded only when a twin is rendered.
import { type HubErrorResponse, hubErrors } from './errors.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** One write: when (epoch ms) and the section version it produced. */
export interface Stamp {
  readonly at: number;
  readonly version: number;
}

/** Metadata of a value: one Stamp for a subtree written at once, or a node whose children differ. */
export type MetaNode = Stamp | MetaTree;
export interface MetaTree {
  readonly stamp: Stamp;
  readonly children: Readonly<Record<string, MetaNode>>;
}

export interface PropertySection {
  readonly value: JsonObject;
  readonly meta: MetaNode;
  readonly version: number;
}

export type SectionName = 'tags' | 'desired' | 'reported';

export const TWIN_LIMITS = {
  tagsBytes: 8 * 1024,
  desiredBytes: 32 * 1024,
  reportedBytes: 32 * 1024,
  valueBytes: 4 * 1024,
  keyBytes: 1024,
  depth: 10,
  maxInteger: 4503599627370495,
  minInteger: -4503599627370496,
} as const;

const SECTION_LIMITS: Record<SectionName, { bytes: number; label: string }> = {
  tags: { bytes: TWIN_LIMITS.tagsBytes, label: 'Tags' },
  desired: { bytes: TWIN_LIMITS.desiredBytes, label: 'Properties.Desired' },
  reported: { bytes: TWIN_LIMITS.reportedBytes, label: 'Properties.Reported' },
};

const EMPTY: JsonObject = Object.freeze({}) as JsonObject;
const ORIGIN: Stamp = Object.freeze({ at: 0, version: 1 });

export const EMPTY_TAGS: JsonObject = EMPTY;

// Twins created in the same millisecond (a seeded fleet) share their empty sections.
let lastEmpty: PropertySection = Object.freeze({ value: EMPTY, meta: ORIGIN, version: 1 });

/** The section of a twin created at `at`: empty, `$version` 1, last updated at creation. */
export function emptySection(at: number): PropertySection {
  if (lastEmpty.meta !== ORIGIN && (lastEmpty.meta as Stamp).at === at) return lastEmpty;
  lastEmpty = Object.freeze({ value: EMPTY, meta: Object.freeze({ at, version: 1 }), version: 1 });
  return lastEmpty;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isMetaTree(node: MetaNode): node is MetaTree {
  return 'children' in node;
}

// ---------------------------------------------------------------------------------------------------------
// Validation: the hub's rules for keys, depth, values and integers, with its error codes.

// The hub's rule: no Unicode control characters (C0, DEL and C1), '.', '$' or SP. Other white space (a
// non-breaking space, U+2028...) is allowed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const INVALID_KEY_CHARACTER = /[\u0000-\u001f\u007f-\u009f.$ ]/;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** The size the hub counts for a string: its UTF-8 bytes, control characters (C0 and C1) not counted. */
export function twinStringSize(text: string): number {
  const counted = CONTROL_CHARACTER.test(text) ? text.replace(CONTROL_CHARACTERS, '') : text;
  return Buffer.byteLength(counted, 'utf8');
}

// Sizes of frozen (interned, so immutable) objects and arrays, which many twins share.
const sizes = new WeakMap<object, number>();

/**
 * The size the hub counts for a value (Microsoft's "How is device twin size calculated"): for each property
 * its key's UTF-8 bytes plus its value's size; strings by their UTF-8 bytes without control characters,
 * numbers 8 bytes, booleans 4, objects the sum of what they hold. The hub stores no null (0 here), and
 * arrays count as the sum of their items. Metadata and `$version` are not part of a section's value.
 */
export function twinValueSize(value: JsonValue): number {
  if (typeof value === 'string') return twinStringSize(value);
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 4;
  if (value === null) return 0;
  const cached = sizes.get(value);
  if (cached !== undefined) return cached;
  let size = 0;
  if (Array.isArray(value)) {
    for (const item of value) size += twinValueSize(item);
  } else {
    for (const key of Object.keys(value)) size += twinStringSize(key) + twinValueSize(value[key]);
  }
  if (Object.isFrozen(value)) sizes.set(value, size);
  return size;
}

function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'Property name cannot be empty';
  if (Buffer.byteLength(key, 'utf8') > TWIN_LIMITS.keyBytes) {
    return `Length of property name ${key.slice(0, 10)}.. exceeds maximum length of ${TWIN_LIMITS.keyBytes}`;
  }
  const invalid = INVALID_KEY_CHARACTER.exec(key);
  if (invalid)
    return `Property name ${JSON.stringify(key)} contains invalid character ${JSON.stringify(invalid[0])}`;
  return undefined;
}

function checkLeaf(key: string, value: JsonValue): HubErrorResponse | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return hubErrors.argumentInvalid(`Property ${key} is not a finite number`);
    if (Number.isInteger(value) && (value > TWIN_LIMITS.maxInteger || value < TWIN_LIMITS.minInteger)) {
      return hubErrors.argumentInvalid(
        `Property ${key} has an out of bound value. Valid values are between ${TWIN_LIMITS.minInteger} and ${TWIN_LIMITS.maxInteger}`,
      );
    }
  }
  // Only strings can reach the limit: a number counts 8 bytes, a boolean 4.
  if (typeof value === 'string' && twinStringSize(value) > TWIN_LIMITS.valueBytes) {
    return hubErrors.argumentInvalid(
      `Property or Tag value should be maximum ${TWIN_LIMITS.valueBytes} bytes. Error in Property/Tag ${key}`,
    );
  }
  return undefined;
}

const tooDeep = () => hubErrors.argumentInvalid(`Nested depth of twin property exceeds ${TWIN_LIMITS.depth}`);

/**
 * A value inside `depth` objects and arrays (1: a section's own keys). Arrays count as objects do, so a
 * value nested 5,000 arrays deep is refused at the eleventh, before anything recurses further.
 */
function checkValue(key: string, value: JsonValue, depth: number): HubErrorResponse | undefined {
  if (Array.isArray(value)) return depth > TWIN_LIMITS.depth ? tooDeep() : checkArray(key, value, depth + 1);
  if (isJsonObject(value)) return depth > TWIN_LIMITS.depth ? tooDeep() : checkObject(value, depth + 1);
  return value === null ? undefined : checkLeaf(key, value);
}

function checkArray(key: string, items: JsonValue[], depth: number): HubErrorResponse | undefined {
  for (const item of items) {
    if (item === null)
      return hubErrors.argumentInvalid(`Arrays cannot contain 'null' as value (property ${key})`);
    const problem = checkValue(key, item, depth);
    if (problem) return problem;
  }
  return undefined;
}

/** `depth` is the level of the object's keys: 1 for a section's own keys. */
function checkObject(object: JsonObject, depth: number): HubErrorResponse | undefined {
  for (const [key, value] of Object.entries(object)) {
    const invalidKey = keyProblem(key);
    if (invalidKey) return hubErrors.argumentInvalid(invalidKey);
    const problem = checkValue(key, value, depth);
    if (problem) return problem;
  }
  return undefined;
}

/** The hub's error for an update of a section (a patch or a replacement), or undefined when it is valid. */
export function checkSectionUpdate(section: SectionName, update: unknown): HubErrorResponse | undefined {
  if (!isJsonObject(update)) {
    return hubErrors.argumentInvalid(`${SECTION_LIMITS[section].label} must be a JSON object`);
  }
  return checkObject(update, 1);
}

/** The hub's error when a section's value is over its size limit, counted as the hub counts (twinValueSize). */
export function checkSectionSize(section: SectionName, value: JsonObject): HubErrorResponse | undefined {
  const { bytes, label } = SECTION_LIMITS[section];
  return twinValueSize(value) > bytes ? hubErrors.sectionTooLarge(label, bytes) : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Interning: equal subtrees written to many twins (an agent configuration, a fleet-wide desired value) are
// kept once. The table is bounded; a value that falls out is still correct, only no longer shared.

const INTERN_LIMIT = 20_000;
const interned = new Map<string, JsonValue>();

function deepFreeze<T extends JsonValue>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child as JsonValue);
    Object.freeze(value);
  }
  return value;
}

/** The shared copy of an object or array equal to `value` (and frozen); primitives are returned as they are. */
export function intern<T extends JsonValue>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const key = JSON.stringify(value);
  const existing = interned.get(key);
  if (existing !== undefined) return existing as T;
  if (interned.size >= INTERN_LIMIT) interned.clear();
  interned.set(key, deepFreeze(value));
  return value;
}

/** Interns each top-level value of a section (where agent configurations and tags sit). */
export function internSectionValue(value: JsonObject): JsonObject {
  let changed = false;
  const result: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    const shared = intern(child);
    if (shared !== child) changed = true;
    result[key] = shared;
  }
  return changed ? result : value;
}

// ---------------------------------------------------------------------------------------------------------
// Merge and replace.

/** A copy of `value` without the keys whose value is null (a null in a new object means nothing). */
function withoutNulls(value: JsonObject): JsonObject {
  const result: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === null) continue;
    result[key] = isJsonObject(child) ? withoutNulls(child) : child;
  }
  return result;
}

function childrenOf(meta: MetaNode | undefined, value: JsonObject): Record<string, MetaNode> {
  if (meta === undefined) return {};
  if (isMetaTree(meta)) return { ...meta.children };
  // A collapsed subtree: each key inherits its stamp.
  return Object.fromEntries(Object.keys(value).map((key) => [key, meta]));
}

function mergeObject(
  existing: JsonObject,
  existingMeta: MetaNode | undefined,
  patch: JsonObject,
  stamp: Stamp,
): { value: JsonObject; meta: MetaNode } {
  const value: JsonObject = { ...existing };
  const children = childrenOf(existingMeta, existing);
  for (const [key, patchValue] of Object.entries(patch)) {
    if (patchValue === null) {
      delete value[key];
      delete children[key];
      continue;
    }
    const current = existing[key];
    if (isJsonObject(patchValue) && isJsonObject(current)) {
      const merged = mergeObject(current, children[key], patchValue, stamp);
      value[key] = merged.value;
      children[key] = merged.meta;
    } else {
      value[key] = isJsonObject(patchValue) ? withoutNulls(patchValue) : patchValue;
      children[key] = stamp;
    }
  }
  const keys = Object.keys(children);
  const collapsed = keys.every((key) => children[key] === stamp);
  return { value, meta: collapsed ? stamp : { stamp, children } };
}

/** Merges a patch into a property section: nulls delete, objects merge, `$version` goes up by one. */
export function mergeSection(section: PropertySection, patch: JsonObject, at: number): PropertySection {
  const version = section.version + 1;
  const merged = mergeObject(section.value, section.meta, patch, { at, version });
  // Only the keys this patch wrote can have become equal to a shared value.
  for (const key of Object.keys(patch))
    if (key in merged.value) merged.value[key] = intern(merged.value[key]);
  return { value: merged.value, meta: merged.meta, version };
}

/** Replaces a property section's content; `$version` still only goes up. */
export function replaceSection(section: PropertySection, value: JsonObject, at: number): PropertySection {
  const version = section.version + 1;
  return { value: internSectionValue(withoutNulls(value)), meta: { at, version }, version };
}

/** Merges a tags patch (tags carry no metadata or version; whole tag sets are shared across a fleet). */
export function mergeTags(tags: JsonObject, patch: JsonObject): JsonObject {
  return intern(mergeObject(tags, undefined, patch, ORIGIN).value);
}

export function replaceTags(tags: JsonObject): JsonObject {
  return intern(withoutNulls(tags));
}

// ---------------------------------------------------------------------------------------------------------
// Rendering.

/** Hub timestamps: ISO 8601 with seven fractional digits (`2024-05-01T10:00:00.1230000Z`). */
export function hubTime(ms: number): string {
  return ms <= 0 ? '0001-01-01T00:00:00Z' : new Date(ms).toISOString().replace('Z', '0000Z');
}

function metadataOf(value: JsonValue, meta: MetaNode, withVersion: boolean): JsonObject {
  const stamp = isMetaTree(meta) ? meta.stamp : meta;
  const node: JsonObject = { $lastUpdated: hubTime(stamp.at) };
  if (withVersion) node.$lastUpdatedVersion = stamp.version;
  if (isJsonObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const childMeta = isMetaTree(meta) ? (meta.children[key] ?? stamp) : meta;
      node[key] = metadataOf(child, childMeta, withVersion);
    }
  }
  return node;
}

/**
 * The `$lastUpdatedVersion` of the value at `path` in a section (the section version of the write that last
 * touched it), or undefined when there is no value there.
 */
export function lastUpdatedVersionAt(section: PropertySection, path: readonly string[]): number | undefined {
  let value: JsonValue = section.value;
  let meta: MetaNode = section.meta;
  for (const key of path) {
    if (!isJsonObject(value) || value[key] === undefined) return undefined;
    value = value[key];
    // A collapsed subtree was written at once: everything in it carries its stamp.
    if (isMetaTree(meta)) meta = meta.children[key] ?? meta.stamp;
  }
  return (isMetaTree(meta) ? meta.stamp : meta).version;
}

/** A section as the hub returns it: its values, `$metadata` and `$version`. */
export function renderSection(section: PropertySection, name: 'desired' | 'reported'): JsonObject {
  return {
    ...section.value,
    $metadata: metadataOf(section.value, section.meta, name === 'desired'),
    $version: section.version,
  };
}

/** The twin etag for a twin version: base64 of the version as 8 big-endian bytes (`AAAAAAAAAAE=`). */
export function twinEtag(version: number): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(version));
  return bytes.toString('base64');
}

/** An If-Match header's etag without quotes; `*` (quoted or not) matches anything. */
export function etagMatches(ifMatch: string | undefined, current: string): boolean {
  if (ifMatch === undefined) return true;
  const bare = ifMatch
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  return bare === '*' || bare === current;
}

// ---------------------------------------------------------------------------------------------------------
// Persistence: a compact form of metadata (stamps as [at, version]).

export type StoredMeta = [number, number] | { s: [number, number]; c: Record<string, StoredMeta> };

export function storeMeta(meta: MetaNode): StoredMeta {
  if (!isMetaTree(meta)) return [meta.at, meta.version];
  return {
    s: [meta.stamp.at, meta.stamp.version],
    c: Object.fromEntries(Object.entries(meta.children).map(([key, child]) => [key, storeMeta(child)])),
  };
}

export function restoreMeta(stored: StoredMeta): MetaNode {
  const stamps = new Map<string, Stamp>();
  const stampOf = ([at, version]: [number, number]): Stamp => {
    const key = `${at}:${version}`;
    let stamp = stamps.get(key);
    if (!stamp) {
      stamp = { at, version };
      stamps.set(key, stamp);
    }
    return stamp;
  };
  const restore = (node: StoredMeta): MetaNode =>
    Array.isArray(node)
      ? stampOf(node)
      : {
          stamp: stampOf(node.s),
          children: Object.fromEntries(Object.entries(node.c).map(([key, child]) => [key, restore(child)])),
        };
  return restore(stored);
}
