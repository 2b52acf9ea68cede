// From the hub's twin JSON to the planner's records, and back to the question "is this patch in that twin?".

import type { SharedValues } from '../twins/shared-values.js';
import {
  DEVICE_TWIN,
  type DeviceRecord,
  describeSlot,
  type ManagedTwin,
  type TwinPatch,
  type TwinSlot,
  type WriteStamp,
} from '../twins/types.js';
import { HubError } from './errors.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(what: string): HubError {
  return new HubError({
    kind: 'InvalidArgument',
    message: `the hub answered a twin that is not valid: ${what}`,
  });
}

/**
 * An object of properties without the twin's bookkeeping (`$metadata`, `$version`), each value shared with the
 * twins that hold the same (see shared-values.ts; the property's name tells the last one shared) when `shared` is
 * given.
 */
function withoutBookkeeping(properties: Json, shared?: SharedValues): Json {
  const rest: Json = {};
  for (const key of Object.keys(properties))
    if (key !== '$metadata' && key !== '$version')
      rest[key] = shared ? shared.share(properties[key], key) : properties[key];
  return rest;
}

const NOT_WRITTEN: WriteStamp = Object.freeze({});

/** What the root of `$metadata` compares its stamp with: nothing (it is kept whatever it holds). */
const ROOT = Symbol('root');

/**
 * desired's `$metadata` as lastWritten reads it (see WriteStamp): the stamp of `node`, or undefined when it and
 * everything below it carry their parent's (`parentRaw`, the parent's `$lastUpdated` as the hub wrote it, parsed
 * as `parentAt`; `parentVersion`). Parses a timestamp only where it differs from its parent's: a value written at
 * once costs one Date.parse and one object, not one of each per level and property.
 */
function writeStamp(
  node: Json,
  parentRaw: unknown,
  parentAt: number | undefined,
  parentVersion: number | undefined,
): WriteStamp | undefined {
  const raw = node.$lastUpdated;
  let at = parentAt;
  if (raw !== parentRaw) {
    const parsed = typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
    at = Number.isNaN(parsed) ? undefined : parsed;
  }
  const version = typeof node.$lastUpdatedVersion === 'number' ? node.$lastUpdatedVersion : undefined;
  let below: Record<string, WriteStamp> | undefined;
  for (const key of Object.keys(node)) {
    const child = node[key];
    if (key.startsWith('$') || !isObject(child)) continue;
    const stamp = writeStamp(child, raw, at, version);
    if (stamp === undefined) continue;
    below ??= {};
    below[key] = stamp;
  }
  if (parentRaw !== ROOT && at === parentAt && version === parentVersion && below === undefined)
    return undefined;
  const stamp: WriteStamp = {};
  if (at !== undefined) stamp.at = at;
  if (version !== undefined) stamp.version = version;
  if (below !== undefined) stamp.below = below;
  return stamp;
}

const text = (value: string, shared?: SharedValues) => (shared ? shared.text(value) : value);

const sharedTags = (tags: unknown, shared?: SharedValues): Json =>
  isObject(tags) ? (shared ? shared.share(tags, '$tags') : tags) : {};

/**
 * A twin of `slot` (a module, or the device twin) as the planner reads it: what it keeps of the hub's JSON is its
 * own (nothing else of the JSON stays referenced), its values shared with other twins' when `shared` is given.
 * Throws a HubError when the JSON lacks what a safe write needs: without an etag a later PATCH could not be
 * guarded (the SDK's Twin would even default it to *).
 */
export function twinFromJson(twinJson: unknown, slot: TwinSlot, shared?: SharedValues): ManagedTwin {
  if (!isObject(twinJson)) throw malformed('it is not an object');
  const { deviceId, moduleId, etag } = twinJson;
  if (typeof deviceId !== 'string' || deviceId === '') throw malformed('it has no deviceId');
  const expected = slot === DEVICE_TWIN ? undefined : slot;
  if ((moduleId ?? undefined) !== expected && !(expected === undefined && moduleId === '')) {
    throw malformed(
      `device ${deviceId}: ${moduleId ? `module ${String(moduleId)}` : 'the device twin'} is not ${describeSlot(slot)}`,
    );
  }
  if (typeof etag !== 'string' || etag === '' || etag === '*' || etag === '"*"') {
    throw malformed(`${describeSlot(slot)} of device ${deviceId} has no etag`);
  }
  const properties = isObject(twinJson.properties) ? twinJson.properties : {};
  const desired = isObject(properties.desired) ? properties.desired : {};
  const reported = isObject(properties.reported) ? properties.reported : {};
  const desiredValues = withoutBookkeeping(desired);
  // Fields are set in one order whatever the twin holds: twins of one slot keep one shape.
  const twin: ManagedTwin = {
    deviceId,
    etag,
    tags: sharedTags(twinJson.tags, shared),
    // Desired is shared whole: twins given the same configuration hold the same object, and the planner plans
    // such twins once (see evaluateDevice).
    desired: shared ? shared.share(desiredValues, '$desired') : desiredValues,
    desiredWritten:
      (isObject(desired.$metadata) && writeStamp(desired.$metadata, ROOT, undefined, undefined)) ||
      NOT_WRITTEN,
    reported: withoutBookkeeping(reported, shared),
    desiredVersion: typeof desired.$version === 'number' ? desired.$version : 0,
  };
  if (expected !== undefined) twin.moduleId = expected;
  if (typeof twinJson.modelId === 'string' && twinJson.modelId !== '')
    twin.modelId = text(twinJson.modelId, shared);
  if (typeof reported.$version === 'number') twin.reportedVersion = reported.$version;
  if (typeof twinJson.version === 'number') twin.version = twinJson.version;
  return twin;
}

/** A device as the `devices` collection shows it (its tags and states shared with other devices' when asked). */
export function deviceRecordFromJson(twinJson: unknown, shared?: SharedValues): DeviceRecord {
  if (!isObject(twinJson)) throw malformed('it is not an object');
  const { deviceId } = twinJson;
  if (typeof deviceId !== 'string' || deviceId === '') throw malformed('it has no deviceId');
  const record: DeviceRecord = {
    deviceId,
    tags: sharedTags(twinJson.tags, shared),
    status: typeof twinJson.status === 'string' ? text(twinJson.status, shared) : 'enabled',
    connectionState:
      typeof twinJson.connectionState === 'string' ? text(twinJson.connectionState, shared) : 'Disconnected',
  };
  if (typeof twinJson.lastActivityTime === 'string') record.lastActivityTime = twinJson.lastActivityTime;
  if (typeof twinJson.modelId === 'string' && twinJson.modelId !== '')
    record.modelId = text(twinJson.modelId, shared);
  return record;
}

/** Whether merging `patch` into `actual` changes nothing (PATCH semantics: objects merge, null deletes). */
function mergeIsNoOp(patch: unknown, actual: unknown): boolean {
  if (patch === null) return actual === undefined || actual === null;
  if (isObject(patch)) {
    if (!isObject(actual)) return false;
    return Object.entries(patch).every(([key, value]) => mergeIsNoOp(value, actual[key]));
  }
  return JSON.stringify(patch) === JSON.stringify(actual);
}

/**
 * Whether a twin already holds everything `patch` writes. After a connection dropped mid-PATCH, the retry
 * meets a 412 if the first attempt was applied; this tells that case from a real conflict.
 */
export function patchIsApplied(patch: TwinPatch, twinJson: unknown): boolean {
  if (!isObject(twinJson)) return false;
  const properties = isObject(twinJson.properties) ? twinJson.properties : {};
  return (
    (patch.tags === undefined || mergeIsNoOp(patch.tags, twinJson.tags ?? {})) &&
    (patch.properties?.desired === undefined ||
      mergeIsNoOp(patch.properties.desired, properties.desired ?? {}))
  );
}
