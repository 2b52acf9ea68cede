// The hub's service REST API (api-version 2021-04-12) as the azure-iothub SDK calls it: devices, modules,
// twins, queries and jobs.
import { HubErrorResponse, hubErrors } from './errors.js';
import type { EmulatedHub } from './hub.js';
import { pageSizeOf } from './query-engine.js';
import type { DeviceRecord, IdentityRecord, StoredAuthentication } from './registry-store.js';
import { type ApiRequest, type ApiResult, ok, type Route } from './routes.js';
import { etagMatches, isJsonObject } from './twin-document.js';
import {
  etagOf,
  type IdentityStatus,
  identityEtag,
  patchTwin,
  replaceTwin,
  type TwinState,
} from './twin-state.js';

/** api-version values the emulator answers; all behave as 2021-04-12. */
export const API_VERSIONS: ReadonlySet<string> = new Set([
  '2018-06-30',
  '2019-03-30',
  '2019-10-01',
  '2020-03-13',
  '2020-05-31-preview',
  '2020-06-30',
  '2020-09-30',
  '2021-04-12',
]);

function ifMatch(request: ApiRequest): string | undefined {
  const header = request.headers['if-match'];
  return Array.isArray(header) ? header[0] : header;
}

function requireEtag(request: ApiRequest, current: string, what: string): void {
  if (!etagMatches(ifMatch(request), current)) throw hubErrors.preconditionFailed(what);
}

function readStatus(body: Record<string, unknown>, current: IdentityStatus): IdentityStatus {
  const status = body.status;
  if (status === undefined || status === null) return current;
  if (status !== 'enabled' && status !== 'disabled') {
    throw hubErrors.argumentInvalid(`status must be enabled or disabled, not ${JSON.stringify(status)}`);
  }
  return status;
}

/** The authentication a client set; undefined for SAS without keys (the hub makes them). */
function readAuthentication(body: Record<string, unknown>): StoredAuthentication | undefined {
  const auth = body.authentication;
  if (!isJsonObject(auth)) return undefined;
  const type = auth.type ?? 'sas';
  if (type === 'sas') {
    const keys = isJsonObject(auth.symmetricKey) ? auth.symmetricKey : {};
    const primaryKey = typeof keys.primaryKey === 'string' ? keys.primaryKey : '';
    const secondaryKey = typeof keys.secondaryKey === 'string' ? keys.secondaryKey : '';
    if (!primaryKey && !secondaryKey) return undefined;
    for (const key of [primaryKey, secondaryKey]) {
      if (key && Buffer.from(key, 'base64').length < 16) {
        throw hubErrors.argumentInvalid('A symmetric key must be base64 of 16 to 64 bytes');
      }
    }
    return {
      type: 'sas',
      symmetricKey: { primaryKey: primaryKey || secondaryKey, secondaryKey: secondaryKey || primaryKey },
    };
  }
  if (type === 'selfSigned' || type === 'certificateAuthority' || type === 'none') {
    const thumbprint = isJsonObject(auth.x509Thumbprint) ? auth.x509Thumbprint : {};
    return {
      type,
      x509Thumbprint: {
        primaryThumbprint:
          typeof thumbprint.primaryThumbprint === 'string' ? thumbprint.primaryThumbprint : null,
        secondaryThumbprint:
          typeof thumbprint.secondaryThumbprint === 'string' ? thumbprint.secondaryThumbprint : null,
      },
    };
  }
  throw hubErrors.argumentInvalid(`authentication type ${JSON.stringify(type)} is not valid`);
}

function bodyObject(request: ApiRequest, what: string): Record<string, unknown> {
  if (!isJsonObject(request.body)) throw hubErrors.argumentInvalid(`The ${what} must be a JSON object`);
  return request.body;
}

function checkIdInBody(body: Record<string, unknown>, field: string, expected: string): void {
  const value = body[field];
  if (value !== undefined && value !== null && value !== expected) {
    throw hubErrors.argumentInvalid(
      `${field} ${JSON.stringify(value)} in the body differs from ${expected} in the path`,
    );
  }
}

function applied(result: TwinState | HubErrorResponse): TwinState {
  if (result instanceof HubErrorResponse) throw result;
  return result;
}

export function hubRoutes(hub: EmulatedHub): Route[] {
  const store = hub.store;

  const identityUpdate = (record: IdentityRecord, body: Record<string, unknown>): void => {
    const status = readStatus(body, record.state.status);
    if (body.authentication !== undefined) record.authentication = readAuthentication(body);
    if (record.moduleId !== undefined && body.managedBy !== undefined) {
      record.managedBy = typeof body.managedBy === 'string' ? body.managedBy : undefined;
    }
    const at = hub.clock.now();
    store.setState(record, {
      ...record.state,
      status,
      statusUpdatedAt: status !== record.state.status ? at : record.state.statusUpdatedAt,
      identityVersion: record.state.identityVersion + 1,
    });
  };

  const putDevice = (request: ApiRequest): ApiResult => {
    const deviceId = request.params.deviceId;
    const body = bodyObject(request, 'device');
    checkIdInBody(body, 'deviceId', deviceId);
    const existing = store.getDevice(deviceId);
    if (ifMatch(request) === undefined) {
      if (existing) throw hubErrors.deviceAlreadyExists(deviceId);
      const device = store.createDevice(deviceId, {
        status: readStatus(body, 'enabled'),
        authentication: readAuthentication(body),
        connectionState: 'Disconnected',
      });
      return ok(hub.renderDevice(device));
    }
    if (!existing) throw hubErrors.deviceNotFound(deviceId);
    requireEtag(request, identityEtag(existing.state), 'device');
    identityUpdate(existing, body);
    return ok(hub.renderDevice(existing));
  };

  const putModule = (request: ApiRequest): ApiResult => {
    const { deviceId, moduleId } = request.params;
    const body = bodyObject(request, 'module');
    checkIdInBody(body, 'deviceId', deviceId);
    checkIdInBody(body, 'moduleId', moduleId);
    const device = store.requireDevice(deviceId);
    const existing = store.getModule(device, moduleId);
    if (ifMatch(request) === undefined) {
      if (existing) throw hubErrors.moduleAlreadyExists(deviceId, moduleId);
      const module = store.createModule(device, moduleId, {
        authentication: readAuthentication(body),
        managedBy: typeof body.managedBy === 'string' ? body.managedBy : undefined,
        connectionState: device.state.connectionState,
      });
      return ok(hub.renderModule(module));
    }
    if (!existing) throw hubErrors.moduleNotFound(deviceId, moduleId);
    requireEtag(request, identityEtag(existing.state), 'module');
    identityUpdate(existing, body);
    return ok(hub.renderModule(existing));
  };

  const deviceTwin = (request: ApiRequest): DeviceRecord => store.requireDevice(request.params.deviceId);
  const moduleTwin = (request: ApiRequest): IdentityRecord => {
    store.requireDevice(request.params.deviceId);
    return store.requireModule(request.params.deviceId, request.params.moduleId);
  };

  const updateTwin =
    (find: (request: ApiRequest) => IdentityRecord, update: typeof patchTwin) =>
    (request: ApiRequest): ApiResult => {
      const record = find(request);
      requireEtag(request, etagOf(record.state), 'twin');
      store.setState(record, applied(update(record.state, request.body, hub.clock.now())));
      hub.stats.recordTwinUpdate(request.params.deviceId, request.params.moduleId);
      return ok(hub.renderTwin(record));
    };

  return [
    {
      method: 'POST',
      path: '/devices/query',
      operation: 'query',
      apiVersion: true,
      handle: (request) => {
        const body = bodyObject(request, 'query request');
        const continuation = request.headers['x-ms-continuation'];
        const page = hub.engine.run(body.query, {
          pageSize: pageSizeOf(request.headers['x-ms-max-item-count'] as string | undefined),
          continuation: typeof continuation === 'string' && continuation ? continuation : undefined,
        });
        const headers: Record<string, string> = { 'x-ms-item-type': page.itemType };
        if (page.continuation) headers['x-ms-continuation'] = page.continuation;
        return ok(page.items, headers);
      },
    },
    {
      method: 'GET',
      path: '/devices',
      operation: 'registry',
      apiVersion: true,
      handle: (request) => {
        const top = Math.min(Number(request.query.get('top') ?? 1000) || 1000, 1000);
        const devices = [];
        for (const device of store.allDevices()) {
          if (devices.length >= top) break;
          devices.push(hub.renderDevice(device));
        }
        return ok(devices);
      },
    },
    { method: 'PUT', path: '/devices/:deviceId', operation: 'registry', apiVersion: true, handle: putDevice },
    {
      method: 'GET',
      path: '/devices/:deviceId',
      operation: 'registry',
      apiVersion: true,
      handle: (request) => ok(hub.renderDevice(store.requireDevice(request.params.deviceId))),
    },
    {
      method: 'DELETE',
      path: '/devices/:deviceId',
      operation: 'registry',
      apiVersion: true,
      handle: (request) => {
        const device = store.requireDevice(request.params.deviceId);
        requireEtag(request, identityEtag(device.state), 'device');
        store.deleteDevice(device);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/devices/:deviceId/modules',
      operation: 'registry',
      apiVersion: true,
      handle: (request) => {
        const device = store.requireDevice(request.params.deviceId);
        return ok(store.liveModules(device).map((m) => hub.renderModule(m)));
      },
    },
    {
      method: 'PUT',
      path: '/devices/:deviceId/modules/:moduleId',
      operation: 'registry',
      apiVersion: true,
      handle: putModule,
    },
    {
      method: 'GET',
      path: '/devices/:deviceId/modules/:moduleId',
      operation: 'registry',
      apiVersion: true,
      handle: (request) => ok(hub.renderModule(moduleTwin(request))),
    },
    {
      method: 'DELETE',
      path: '/devices/:deviceId/modules/:moduleId',
      operation: 'registry',
      apiVersion: true,
      handle: (request) => {
        const module = moduleTwin(request);
        requireEtag(request, identityEtag(module.state), 'module');
        store.deleteModule(store.requireDevice(request.params.deviceId), module);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/statistics/devices',
      operation: 'registry',
      apiVersion: true,
      handle: () => {
        let enabled = 0;
        for (const device of store.allDevices()) if (device.state.status === 'enabled') enabled++;
        return ok({
          totalDeviceCount: store.deviceCount,
          enabledDeviceCount: enabled,
          disabledDeviceCount: store.deviceCount - enabled,
        });
      },
    },
    {
      method: 'GET',
      path: '/twins/:deviceId',
      operation: 'twinRead',
      apiVersion: true,
      handle: (request) => ok(hub.renderTwin(deviceTwin(request))),
    },
    {
      method: 'PATCH',
      path: '/twins/:deviceId',
      operation: 'twinUpdate',
      apiVersion: true,
      handle: updateTwin(deviceTwin, patchTwin),
    },
    {
      method: 'PUT',
      path: '/twins/:deviceId',
      operation: 'twinUpdate',
      apiVersion: true,
      handle: updateTwin(deviceTwin, replaceTwin),
    },
    {
      method: 'GET',
      path: '/twins/:deviceId/modules/:moduleId',
      operation: 'twinRead',
      apiVersion: true,
      handle: (request) => ok(hub.renderTwin(moduleTwin(request))),
    },
    {
      method: 'PATCH',
      path: '/twins/:deviceId/modules/:moduleId',
      operation: 'twinUpdate',
      apiVersion: true,
      handle: updateTwin(moduleTwin, patchTwin),
    },
    {
      method: 'PUT',
      path: '/twins/:deviceId/modules/:moduleId',
      operation: 'twinUpdate',
      apiVersion: true,
      handle: updateTwin(moduleTwin, replaceTwin),
    },
    {
      method: 'GET',
      path: '/jobs/v2/query',
      operation: 'jobs',
      apiVersion: true,
      handle: (request) => {
        const jobs = hub.jobs.list({
          jobType: request.query.get('jobType') ?? undefined,
          jobStatus: request.query.get('jobStatus') ?? undefined,
        });
        return ok(jobs, { 'x-ms-item-type': 'jobResponse' });
      },
    },
    {
      method: 'PUT',
      path: '/jobs/v2/:jobId',
      operation: 'jobs',
      apiVersion: true,
      handle: (request) => ok(hub.jobs.create(request.params.jobId, request.body)),
    },
    {
      method: 'GET',
      path: '/jobs/v2/:jobId',
      operation: 'jobs',
      apiVersion: true,
      handle: (request) => ok(hub.jobs.get(request.params.jobId)),
    },
    {
      method: 'POST',
      path: '/jobs/v2/:jobId/cancel',
      operation: 'jobs',
      apiVersion: true,
      handle: (request) => ok(hub.jobs.cancel(request.params.jobId)),
    },
  ];
}
