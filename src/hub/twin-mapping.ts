// From the hub's twin JSON to the planner's records, and back to the question "is this patch in that twin?".
import { AGENT_CONFIGURATION_KEY, SECURITY_MODULE_ID } from '../profiles/security-agent/settings.js';
import type { DeviceRecord, SecurityModuleTwin, TwinPatch } from '../planner/types.js';
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

function epochMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The `azureiotsecurity` module twin as the planner reads it. Throws a HubError when the JSON lacks what a safe
 * write needs: without an etag a later PATCH could not be guarded (the SDK's Twin would even default it to *).
 */
export function moduleTwinFromJson(twinJson: unknown): SecurityModuleTwin {
  if (!isObject(twinJson)) throw malformed('it is not an object');
  const { deviceId, moduleId, etag } = twinJson;
  if (typeof deviceId !== 'string' || deviceId === '') throw malformed('it has no deviceId');
  if (moduleId !== undefined && moduleId !== SECURITY_MODULE_ID) {
    throw malformed(`device ${deviceId}: module ${String(moduleId)} is not ${SECURITY_MODULE_ID}`);
  }
  if (typeof etag !== 'string' || etag === '' || etag === '*' || etag === '"*"') {
    throw malformed(`the module twin of device ${deviceId} has no etag`);
  }
  const properties = isObject(twinJson.properties) ? twinJson.properties : {};
  const desired = isObject(properties.desired) ? properties.desired : {};
  const reported = isObject(properties.reported) ? properties.reported : {};
  const metadata = isObject(desired.$metadata) ? desired.$metadata : {};
  const keyMetadata = metadata[AGENT_CONFIGURATION_KEY];
  const desiredUpdatedAt =
    (isObject(keyMetadata) ? epochMs(keyMetadata.$lastUpdated) : undefined) ?? epochMs(metadata.$lastUpdated);
  const twin: SecurityModuleTwin = {
    deviceId,
    etag,
    tags: isObject(twinJson.tags) ? twinJson.tags : {},
    desiredConfiguration: desired[AGENT_CONFIGURATION_KEY],
    reportedConfiguration: reported[AGENT_CONFIGURATION_KEY],
    desiredVersion: typeof desired.$version === 'number' ? desired.$version : 0,
  };
  if (typeof reported.$version === 'number') twin.reportedVersion = reported.$version;
  if (typeof twinJson.version === 'number') twin.version = twinJson.version;
  if (desiredUpdatedAt !== undefined) twin.desiredUpdatedAt = desiredUpdatedAt;
  return twin;
}

/** A device as the `devices` collection shows it. */
export function deviceRecordFromJson(twinJson: unknown): DeviceRecord {
  if (!isObject(twinJson)) throw malformed('it is not an object');
  const { deviceId } = twinJson;
  if (typeof deviceId !== 'string' || deviceId === '') throw malformed('it has no deviceId');
  const record: DeviceRecord = {
    deviceId,
    tags: isObject(twinJson.tags) ? twinJson.tags : {},
    status: typeof twinJson.status === 'string' ? twinJson.status : 'enabled',
    connectionState: typeof twinJson.connectionState === 'string' ? twinJson.connectionState : 'Disconnected',
  };
  if (typeof twinJson.lastActivityTime === 'string') record.lastActivityTime = twinJson.lastActivityTime;
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
