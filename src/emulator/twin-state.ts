// A whole twin at one moment (immutable), the updates the service and devices make to it, and its JSON.
import { type HubErrorResponse, hubErrors } from './errors.js';
import {
  checkSectionSize,
  checkSectionUpdate,
  EMPTY_TAGS,
  emptySection,
  hubTime,
  isJsonObject,
  type JsonObject,
  mergeSection,
  mergeTags,
  type PropertySection,
  renderSection,
  replaceSection,
  replaceTags,
  twinEtag,
} from './twin-document.js';

export type ConnectionState = 'Connected' | 'Disconnected';
export type IdentityStatus = 'enabled' | 'disabled';

export interface TwinState {
  readonly tags: JsonObject;
  readonly desired: PropertySection;
  readonly reported: PropertySection;
  /** Goes up with every change of tags or properties; the etag is derived from it. */
  readonly version: number;
  readonly status: IdentityStatus;
  readonly statusUpdatedAt: number;
  readonly connectionState: ConnectionState;
  readonly connectionStateUpdatedAt: number;
  readonly lastActivityAt: number;
  /** Goes up with every change of the identity (device or module); `deviceEtag` is derived from it. */
  readonly identityVersion: number;
  /** The IoT Plug and Play model the device announced (`dtmi:...`), or '' when it announced none. */
  readonly modelId: string;
}

export function newTwinState(options: {
  at: number;
  status?: IdentityStatus;
  tags?: JsonObject;
  connectionState?: ConnectionState;
  modelId?: string;
}): TwinState {
  return {
    tags: options.tags ? replaceTags(options.tags) : EMPTY_TAGS,
    desired: emptySection(options.at),
    reported: emptySection(options.at),
    version: 1,
    status: options.status ?? 'enabled',
    statusUpdatedAt: 0,
    connectionState: options.connectionState ?? 'Disconnected',
    connectionStateUpdatedAt: options.connectionState ? options.at : 0,
    lastActivityAt: 0,
    identityVersion: 1,
    modelId: options.modelId ?? '',
  };
}

export function identityEtag(state: TwinState): string {
  return Buffer.from(String(state.identityVersion)).toString('base64');
}

export function etagOf(state: TwinState): string {
  return twinEtag(state.version);
}

/** The tags and desired properties a service update carries, checked against the hub's rules. */
interface ServiceUpdate {
  tags?: JsonObject;
  desired?: JsonObject;
}

function readServiceUpdate(body: unknown): ServiceUpdate | HubErrorResponse {
  if (!isJsonObject(body)) return hubErrors.argumentInvalid('The twin must be a JSON object');
  const update: ServiceUpdate = {};
  if (body.tags !== undefined && body.tags !== null) {
    const problem = checkSectionUpdate('tags', body.tags);
    if (problem) return problem;
    update.tags = body.tags as JsonObject;
  }
  const properties = body.properties;
  if (properties !== undefined && properties !== null) {
    if (!isJsonObject(properties)) return hubErrors.argumentInvalid('properties must be a JSON object');
    if (properties.desired !== undefined && properties.desired !== null) {
      const desired = stripServiceKeys(properties.desired);
      const problem = checkSectionUpdate('desired', desired);
      if (problem) return problem;
      update.desired = desired as JsonObject;
    }
  }
  return update;
}

/** `$metadata` and `$version` that a client echoes back from a twin it read are not properties. */
function stripServiceKeys(section: unknown): unknown {
  if (!isJsonObject(section)) return section;
  if (!('$metadata' in section) && !('$version' in section)) return section;
  const { $metadata: _m, $version: _v, ...rest } = section;
  return rest;
}

function checkSizes(state: TwinState): HubErrorResponse | undefined {
  return checkSectionSize('tags', state.tags) ?? checkSectionSize('desired', state.desired.value);
}

/** PATCH /twins: merges tags and desired properties (null deletes). */
export function patchTwin(state: TwinState, body: unknown, at: number): TwinState | HubErrorResponse {
  const update = readServiceUpdate(body);
  if (update instanceof Error) return update;
  const tagsChanged = update.tags !== undefined && Object.keys(update.tags).length > 0;
  const desiredChanged = update.desired !== undefined && Object.keys(update.desired).length > 0;
  const next: TwinState = {
    ...state,
    tags: tagsChanged ? mergeTags(state.tags, update.tags!) : state.tags,
    desired: desiredChanged ? mergeSection(state.desired, update.desired!, at) : state.desired,
    version: tagsChanged || desiredChanged ? state.version + 1 : state.version,
  };
  return checkSizes(next) ?? next;
}

/** PUT /twins: replaces tags and desired properties; reported properties are the device's and stay. */
export function replaceTwin(state: TwinState, body: unknown, at: number): TwinState | HubErrorResponse {
  const update = readServiceUpdate(body);
  if (update instanceof Error) return update;
  const next: TwinState = {
    ...state,
    tags: replaceTags(update.tags ?? {}),
    desired: replaceSection(state.desired, update.desired ?? {}, at),
    version: state.version + 1,
  };
  return checkSizes(next) ?? next;
}

/** A device (or module) writing its reported properties; it is active and connected as it does. */
export function reportProperties(
  state: TwinState,
  patch: JsonObject,
  at: number,
): TwinState | HubErrorResponse {
  const problem = checkSectionUpdate('reported', patch);
  if (problem) return problem;
  const reported = mergeSection(state.reported, patch, at);
  return (
    checkSectionSize('reported', reported.value) ?? {
      ...state,
      reported,
      version: state.version + 1,
      lastActivityAt: at,
    }
  );
}

export function withConnection(state: TwinState, connectionState: ConnectionState, at: number): TwinState {
  if (state.connectionState === connectionState) return state;
  return {
    ...state,
    connectionState,
    connectionStateUpdatedAt: at,
    lastActivityAt: connectionState === 'Connected' ? at : state.lastActivityAt,
  };
}

/** `x509Thumbprint` of an identity without certificates, in twins and identities alike. */
export const NO_THUMBPRINT = { primaryThumbprint: null, secondaryThumbprint: null };

/** A twin's JSON as GET /twins returns it. */
export function renderTwin(
  ids: { deviceId: string; moduleId?: string; authenticationType: string; isDevice: boolean },
  state: TwinState,
): JsonObject {
  const twin: JsonObject = { deviceId: ids.deviceId };
  if (ids.moduleId !== undefined) twin.moduleId = ids.moduleId;
  Object.assign(twin, {
    etag: etagOf(state),
    deviceEtag: identityEtag(state),
    status: state.status,
    statusUpdateTime: hubTime(state.statusUpdatedAt),
    connectionState: state.connectionState,
    lastActivityTime: hubTime(state.lastActivityAt),
    cloudToDeviceMessageCount: 0,
    authenticationType: ids.authenticationType,
    x509Thumbprint: NO_THUMBPRINT,
    modelId: state.modelId,
    version: state.version,
    tags: state.tags,
    properties: {
      desired: renderSection(state.desired, 'desired'),
      reported: renderSection(state.reported, 'reported'),
    },
  });
  if (ids.isDevice) twin.capabilities = { iotEdge: false };
  return twin;
}

/**
 * The twin as WHERE clauses see it: the fields conditions name, property sections as plain values without
 * `$metadata` or `$version` (cheap to build for every twin a query looks at). The rows a query returns are
 * rendered with renderTwin, metadata included.
 */
export function queryDocument(ids: { deviceId: string; moduleId?: string }, state: TwinState): JsonObject {
  const doc: JsonObject = { deviceId: ids.deviceId };
  if (ids.moduleId !== undefined) doc.moduleId = ids.moduleId;
  Object.assign(doc, {
    etag: etagOf(state),
    status: state.status,
    connectionState: state.connectionState,
    lastActivityTime: hubTime(state.lastActivityAt),
    modelId: state.modelId,
    version: state.version,
    tags: state.tags,
    properties: { desired: state.desired.value, reported: state.reported.value },
  });
  return doc;
}
