import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { HUB_ERROR_NUMBERS } from '../../src/protocol/error-codes.js';
import {
  errorCodeOf,
  rawRequest,
  registryOf,
  rejectionOf,
  startHubEmulator,
} from '../support/emulator-requests.js';

describe('the emulator through the azure-iothub Registry', () => {
  let emulator: RunningEmulator;
  let registry: Registry;

  before(async () => {
    emulator = await startHubEmulator({ devices: 3 });
    registry = registryOf(emulator);
  });
  after(() => emulator.close());

  describe('identities', () => {
    it('creates a device with generated keys and refuses a duplicate with 409 DeviceAlreadyExists', async () => {
      const created = await registry.create({ deviceId: 'lab-gw-1' });
      assert.equal(created.responseBody.deviceId, 'lab-gw-1');
      assert.equal((created.responseBody.authentication as { type?: string } | undefined)?.type, 'sas');
      assert.equal(
        Buffer.from(created.responseBody.authentication!.symmetricKey!.primaryKey!, 'base64').length,
        32,
      );
      const duplicate = await rejectionOf(registry.create({ deviceId: 'lab-gw-1' }));
      assert.equal(duplicate.constructor.name, 'DeviceAlreadyExistsError');
      assert.equal(duplicate.response?.statusCode, 409);
      assert.equal(errorCodeOf(duplicate.responseBody), 'DeviceAlreadyExists');
    });

    it('adds a module, lists it, and refuses a duplicate with 409 ModuleAlreadyExistsOnDevice', async () => {
      await registry.create({ deviceId: 'lab-gw-2' });
      await registry.addModule({ deviceId: 'lab-gw-2', moduleId: 'azureiotsecurity' });
      const modules = await registry.getModulesOnDevice('lab-gw-2');
      assert.deepEqual(
        modules.responseBody.map((m) => m.moduleId),
        ['azureiotsecurity'],
      );
      const duplicate = await rejectionOf(
        registry.addModule({ deviceId: 'lab-gw-2', moduleId: 'azureiotsecurity' }),
      );
      assert.equal(duplicate.response?.statusCode, 409);
      assert.equal(errorCodeOf(duplicate.responseBody), 'ModuleAlreadyExistsOnDevice');
    });

    it('answers 404 DeviceNotFound and ModuleNotFound for what does not exist', async () => {
      const device = await rejectionOf(registry.get('nowhere'));
      assert.equal(device.constructor.name, 'DeviceNotFoundError');
      assert.equal(errorCodeOf(device.responseBody), 'DeviceNotFound');
      const module = await rejectionOf(registry.getModule('device-000001', 'nothing'));
      assert.equal(module.response?.statusCode, 404);
      assert.equal(errorCodeOf(module.responseBody), 'ModuleNotFound');
      const twin = await rejectionOf(registry.getModuleTwin('nowhere', 'azureiotsecurity'));
      assert.equal(errorCodeOf(twin.responseBody), 'DeviceNotFound');
    });

    it('updates and deletes a device, with If-Match', async () => {
      await registry.create({ deviceId: 'lab-gw-3' });
      const updated = await registry.update({ deviceId: 'lab-gw-3', status: 'disabled' });
      assert.equal(updated.responseBody.status, 'disabled');
      await registry.delete('lab-gw-3');
      const gone = await rejectionOf(registry.get('lab-gw-3'));
      assert.equal(gone.response?.statusCode, 404);
    });

    it("accepts the id characters the identity registry guide lists: letters, digits and - . % _ * ? ! ( ) , : = @ $ '", async () => {
      const id = "Ab9-.%_*?!(),:=@$'z";
      const device = await registry.create({ deviceId: id });
      assert.equal(device.responseBody.deviceId, id);
      const module = await registry.addModule({ deviceId: id, moduleId: id });
      assert.equal(module.responseBody.moduleId, id);
      assert.equal((await registry.getModuleTwin(id, id)).responseBody.moduleId, id);
      assert.equal(
        (await registry.create({ deviceId: 'x'.repeat(128) })).responseBody.deviceId,
        'x'.repeat(128),
      );
    });

    it('refuses + and # (which the guide says are not supported), ; (not listed) and 129 characters', async () => {
      await registry.create({ deviceId: 'lab-ids' });
      for (const id of ['dev+1', 'dev#1', 'dev;1', 'x'.repeat(129)]) {
        const device = await rejectionOf(registry.create({ deviceId: id }));
        assert.equal(device.response?.statusCode, 400, id);
        assert.equal(errorCodeOf(device.responseBody), 'ArgumentInvalid', id);
        const module = await rejectionOf(registry.addModule({ deviceId: 'lab-ids', moduleId: id }));
        assert.equal(module.response?.statusCode, 400, id);
        assert.equal(errorCodeOf(module.responseBody), 'ArgumentInvalid', id);
      }
    });

    it('refuses a 51st module with 413 TooManyModulesOnDevice, as the C# SDK expects of AddModuleAsync', async () => {
      await registry.create({ deviceId: 'lab-many-modules' });
      for (let i = 1; i <= 50; i++) {
        await registry.addModule({ deviceId: 'lab-many-modules', moduleId: `m${i}` });
      }
      const error = await rejectionOf(registry.addModule({ deviceId: 'lab-many-modules', moduleId: 'm51' }));
      assert.equal(error.response?.statusCode, 413);
      assert.equal(errorCodeOf(error.responseBody), 'TooManyModulesOnDevice');
      assert.equal(HUB_ERROR_NUMBERS.TooManyModulesOnDevice, 413003);
      assert.equal((await registry.getModulesOnDevice('lab-many-modules')).responseBody.length, 50);
    });

    it('refuses an invalid device id with 400 ArgumentInvalid', async () => {
      const error = await rejectionOf(registry.create({ deviceId: 'has space' }));
      assert.equal(error.response?.statusCode, 400);
      assert.equal(errorCodeOf(error.responseBody), 'ArgumentInvalid');
    });
  });

  describe('twins', () => {
    it('round-trips a module twin patch: merge, null deletes, versions and metadata', async () => {
      const before = await registry.getModuleTwin('device-000001', 'azureiotsecurity');
      const first = await registry.updateModuleTwin(
        'device-000001',
        'azureiotsecurity',
        { tags: { owner: 'ops' }, properties: { desired: { feature: { a: 1, b: 2 } } } },
        before.responseBody.etag,
      );
      const second = await registry.updateModuleTwin(
        'device-000001',
        'azureiotsecurity',
        { properties: { desired: { feature: { b: null, c: 3 } } } },
        '*',
      );
      const twin = second.responseBody as unknown as Record<string, any>;
      assert.deepEqual(twin.properties.desired.feature, { a: 1, c: 3 });
      assert.deepEqual(twin.tags, { owner: 'ops' });
      assert.equal(twin.properties.desired.$version, before.responseBody.properties.desired.$version + 2);
      assert.ok(twin.version > (first.responseBody as unknown as { version: number }).version);
      assert.notEqual(twin.etag, first.responseBody.etag);
      assert.match(
        twin.properties.desired.$metadata.feature.c.$lastUpdated,
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/,
      );
      const read = await registry.getModuleTwin('device-000001', 'azureiotsecurity');
      assert.deepEqual(read.responseBody.properties.desired, twin.properties.desired);
    });

    it('round-trips a device twin with tags and returns the device fields', async () => {
      const twin = await registry.getTwin('device-000002');
      assert.equal(twin.responseBody.deviceId, 'device-000002');
      const body = twin.responseBody as unknown as Record<string, any>;
      for (const field of ['environment', 'site', 'deviceType', 'firmware'])
        assert.equal(typeof body.tags[field], 'string');
      assert.equal(body.connectionState, 'Connected');
      assert.deepEqual(body.capabilities, { iotEdge: false });
      const updated = await twin.responseBody.update({ tags: { site: 'lab-7' } });
      assert.equal((updated.result as unknown as Record<string, any>).tags.site, 'lab-7');
    });

    it('answers 412 PreconditionFailed to a patch with a stale etag, quoted or not', async () => {
      const twin = await registry.getModuleTwin('device-000002', 'azureiotsecurity');
      const stale = twin.responseBody.etag;
      await registry.updateModuleTwin('device-000002', 'azureiotsecurity', { tags: { step: 1 } }, stale);
      const error = await rejectionOf(
        registry.updateModuleTwin('device-000002', 'azureiotsecurity', { tags: { step: 2 } }, stale),
      );
      assert.equal(error.constructor.name, 'InvalidEtagError');
      assert.equal(error.response?.statusCode, 412);
      assert.equal(errorCodeOf(error.responseBody), 'PreconditionFailed');
      const unquoted = await rawRequest(emulator, {
        method: 'PATCH',
        path: '/twins/device-000002/modules/azureiotsecurity?api-version=2021-04-12',
        headers: { 'If-Match': stale },
        body: { tags: { step: 3 } },
      });
      assert.equal(unquoted.status, 412);
    });

    it('replaces tags and desired properties on PUT and keeps reported properties', async () => {
      await emulator.agentsIdle();
      const path = '/twins/device-000003/modules/azureiotsecurity?api-version=2021-04-12';
      await rawRequest(emulator, {
        method: 'PATCH',
        path,
        body: { tags: { a: 1 }, properties: { desired: { x: 1 } } },
      });
      const replaced = await rawRequest(emulator, {
        method: 'PUT',
        path,
        headers: { 'If-Match': '"*"' },
        body: { tags: { b: 2 }, properties: { desired: { y: 2 } } },
      });
      assert.equal(replaced.status, 200);
      const twin = replaced.json as Record<string, any>;
      assert.deepEqual(twin.tags, { b: 2 });
      assert.equal(twin.properties.desired.x, undefined);
      assert.equal(twin.properties.desired.y, 2);
      assert.ok(twin.properties.reported['ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration']);
    });

    it('refuses a desired value over 4 KB with 400 ArgumentInvalid and the hub body', async () => {
      const error = await rejectionOf(
        registry.updateModuleTwin(
          'device-000001',
          'azureiotsecurity',
          { properties: { desired: { big: 'x'.repeat(5000) } } },
          '*',
        ),
      );
      assert.equal(error.constructor.name, 'ArgumentError');
      const body = JSON.parse(error.responseBody!);
      assert.match(
        body.Message,
        /^ErrorCode:ArgumentInvalid;Property or Tag value should be maximum 4096 bytes/,
      );
      assert.match(
        body.ExceptionMessage,
        /^Tracking ID:[0-9a-f]{32}-G:0-TimeStamp:\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d$/,
      );
    });

    it('counts twin sizes as the hub does: 2,600 booleans fit in desired, 800 integers do not fit in tags', async () => {
      const desired = Object.fromEntries(
        Array.from({ length: 2600 }, (_, i) => [`k${String(i).padStart(4, '0')}`, true]),
      );
      const accepted = await registry.updateTwin('device-000002', { properties: { desired } }, '*');
      assert.equal(Object.keys(accepted.responseBody.properties.desired).length, 2600 + 2);
      const tags = Object.fromEntries(
        Array.from({ length: 800 }, (_, i) => [`t${String(i).padStart(3, '0')}`, 1]),
      );
      const error = await rejectionOf(registry.updateTwin('device-000002', { tags }, '*'));
      assert.equal(error.response?.statusCode, 403);
      assert.equal(errorCodeOf(error.responseBody), 'DeviceModelMaxPropertiesExceeded');
    });

    it('refuses tags over 8 KB with 403 DeviceModelMaxPropertiesExceeded', async () => {
      const tags = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`t${i}`, 'x'.repeat(1000)]));
      const error = await rejectionOf(registry.updateTwin('device-000001', { tags }, '*'));
      assert.equal(error.response?.statusCode, 403);
      assert.equal(errorCodeOf(error.responseBody), 'DeviceModelMaxPropertiesExceeded');
    });
  });

  describe('authorization and protocol', () => {
    it('answers 401 IotHubUnauthorizedAccess to a connection string with a wrong key', async () => {
      const wrongKey = Buffer.alloc(32, 1).toString('base64');
      const forged = emulator.connectionString.replace(
        /SharedAccessKey=[^;]+/,
        `SharedAccessKey=${wrongKey}`,
      );
      const error = await rejectionOf(registryOf(emulator, forged).getTwin('device-000001'));
      assert.equal(error.constructor.name, 'UnauthorizedError');
      assert.equal(error.response?.statusCode, 401);
      assert.equal(
        JSON.parse(error.responseBody!).Message,
        'ErrorCode:IotHubUnauthorizedAccess;Unauthorized',
      );
    });

    it('answers 401 to a call without a token and to an unknown policy', async () => {
      const anonymous = await rawRequest(emulator, {
        method: 'GET',
        path: '/twins/device-000001?api-version=2021-04-12',
        authorization: null,
      });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers['iothub-errorcode'], 'IotHubUnauthorizedAccess');
      const otherPolicy = emulator.connectionString.replace(
        'SharedAccessKeyName=iothubowner',
        'SharedAccessKeyName=service',
      );
      const error = await rejectionOf(registryOf(emulator, otherPolicy).getTwin('device-000001'));
      assert.equal(error.response?.statusCode, 401);
    });

    it('requires a known api-version', async () => {
      const missing = await rawRequest(emulator, { method: 'GET', path: '/twins/device-000001' });
      assert.equal(missing.status, 400);
      assert.equal(errorCodeOf(missing.text), 'InvalidProtocolVersion');
      const unknown = await rawRequest(emulator, {
        method: 'GET',
        path: '/twins/device-000001?api-version=1999-01-01',
      });
      assert.equal(unknown.status, 400);
    });

    it('answers 400 IotHubFormatError to a body that is not JSON', async () => {
      const response = await rawRequest(emulator, {
        method: 'PATCH',
        path: '/twins/device-000001?api-version=2021-04-12',
        rawBody: '{not json',
      });
      assert.equal(response.status, 400);
      assert.equal(errorCodeOf(response.text), 'IotHubFormatError');
    });
  });
});
