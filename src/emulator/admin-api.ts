// The emulator's own API under /_emulator/ (same SAS authorization as the hub): add and remove devices, set
// devices online or offline, read agents and IoT Plug and Play devices, set faults, and read or reset request
// statistics.
import { HubErrorResponse, hubErrors } from './errors.js';
import { checkFaultConfig } from './faults.js';
import type { EmulatedHub, NewDevice } from './hub.js';
import { type ApiRequest, ok, type Route } from './routes.js';
import { isJsonObject, type JsonObject } from './twin-document.js';

const MAX_ADMIN_BODY = 64 * 1024 * 1024;

function readNewDevice(value: unknown): NewDevice {
  if (!isJsonObject(value) || typeof value.deviceId !== 'string') {
    throw hubErrors.argumentInvalid('Each device must be an object with a deviceId');
  }
  if (value.tags !== undefined && !isJsonObject(value.tags))
    throw hubErrors.argumentInvalid('tags must be an object');
  for (const flag of ['securityModule', 'online', 'slow'] as const) {
    if (value[flag] !== undefined && typeof value[flag] !== 'boolean')
      throw hubErrors.argumentInvalid(`${flag} must be a boolean`);
  }
  for (const text of ['modelId', 'firmware'] as const) {
    if (value[text] !== undefined && typeof value[text] !== 'string')
      throw hubErrors.argumentInvalid(`${text} must be a string`);
  }
  if (value.modelId === undefined && (value.firmware !== undefined || value.slow !== undefined)) {
    throw hubErrors.argumentInvalid('firmware and slow are for IoT Plug and Play devices: give a modelId');
  }
  return {
    deviceId: value.deviceId,
    tags: value.tags as JsonObject | undefined,
    securityModule: value.securityModule as boolean | undefined,
    online: value.online as boolean | undefined,
    modelId: value.modelId as string | undefined,
    firmware: value.firmware as string | undefined,
    slow: value.slow as boolean | undefined,
  };
}

function readOnline(request: ApiRequest): boolean {
  if (!isJsonObject(request.body) || typeof request.body.online !== 'boolean') {
    throw hubErrors.argumentInvalid('The body must be {"online": true|false}');
  }
  return request.body.online;
}

export function adminRoutes(hub: EmulatedHub): Route[] {
  const admin = (route: Omit<Route, 'operation' | 'apiVersion'>): Route => ({
    ...route,
    operation: 'admin',
    apiVersion: false,
  });
  return [
    admin({
      method: 'GET',
      path: '/_emulator/info',
      handle: () => {
        const { clock: _clock, faults: _faults, ...settings } = hub.settings;
        return ok({
          ...settings,
          devices: hub.store.deviceCount,
          agents: hub.agents.count,
          pnpDevices: hub.pnp.count,
          activeJobs: hub.jobs.activeCount,
        });
      },
    }),
    admin({
      method: 'POST',
      path: '/_emulator/devices',
      maxBodyBytes: MAX_ADMIN_BODY,
      handle: (request) => {
        const body = request.body;
        const list = isJsonObject(body) && Array.isArray(body.devices) ? body.devices : [body];
        const devices = list.map(readNewDevice);
        for (const device of devices)
          if (hub.store.getDevice(device.deviceId)) throw hubErrors.deviceAlreadyExists(device.deviceId);
        const created = devices.map((device) => hub.addDevice(device));
        return { status: 201, body: { created: created.map((d) => d.deviceId) } };
      },
    }),
    admin({
      method: 'DELETE',
      path: '/_emulator/devices/:deviceId',
      handle: (request) => {
        hub.store.deleteDevice(hub.store.requireDevice(request.params.deviceId));
        return { status: 204 };
      },
    }),
    admin({
      method: 'PUT',
      path: '/_emulator/devices/:deviceId/connection',
      handle: (request) => {
        const online = readOnline(request);
        hub.setDeviceOnline(request.params.deviceId, online);
        const device = hub.store.requireDevice(request.params.deviceId);
        return ok({ deviceId: device.deviceId, connectionState: device.state.connectionState });
      },
    }),
    admin({
      method: 'GET',
      path: '/_emulator/agents/:deviceId',
      handle: (request) => {
        const status = hub.agents.status(request.params.deviceId);
        if (!status) throw hubErrors.moduleNotFound(request.params.deviceId, 'azureiotsecurity');
        return ok(status);
      },
    }),
    admin({
      method: 'GET',
      path: '/_emulator/pnp/:deviceId',
      handle: (request) => {
        const deviceId = request.params.deviceId;
        const status = hub.pnp.status(deviceId);
        if (status) return ok(status);
        hub.store.requireDevice(deviceId);
        throw new HubErrorResponse(
          404,
          'PnpDeviceNotFound',
          `Device ${deviceId} is not a simulated IoT Plug and Play device`,
        );
      },
    }),
    admin({ method: 'GET', path: '/_emulator/faults', handle: () => ok(hub.faults.get()) }),
    admin({
      method: 'PUT',
      path: '/_emulator/faults',
      handle: (request) => {
        hub.faults.set(checkFaultConfig(request.body));
        return ok(hub.faults.get());
      },
    }),
    admin({ method: 'GET', path: '/_emulator/stats', handle: () => ok(hub.stats.snapshot()) }),
    admin({
      method: 'DELETE',
      path: '/_emulator/stats',
      handle: () => {
        hub.stats.reset();
        return { status: 204 };
      },
    }),
  ];
}
