import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHubError } from '../../src/hub/errors.js';
import { deviceRecordFromJson, patchIsApplied, twinFromJson } from '../../src/hub/twin-mapping.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/settings.js';
import { DEVICE_TWIN } from '../../src/twins/types.js';

const configuration = { maxMessageSizeInBytes: { value: 204800 } };

function moduleTwin(overrides: Record<string, unknown> = {}) {
  return {
    deviceId: 'device-000001',
    moduleId: 'azureiotsecurity',
    etag: 'AAAAAAAAAAM=',
    version: 7,
    tags: { 'iot-security-operator': { owner: 'ns/a' } },
    properties: {
      desired: {
        [AGENT_CONFIGURATION_KEY]: configuration,
        other: 1,
        $metadata: {
          $lastUpdated: '2025-01-02T00:00:00Z',
          [AGENT_CONFIGURATION_KEY]: { $lastUpdated: '2025-01-01T10:00:00Z' },
        },
        $version: 4,
      },
      reported: { [AGENT_CONFIGURATION_KEY]: { snapshotFrequency: { value: 'PT13H' } }, $version: 9 },
    },
    ...overrides,
  };
}

describe('twinFromJson', () => {
  it('takes the properties (without $metadata and $version), the metadata (times as epoch ms), and the versions', () => {
    assert.deepEqual(twinFromJson(moduleTwin(), SECURITY_MODULE_ID), {
      deviceId: 'device-000001',
      moduleId: 'azureiotsecurity',
      etag: 'AAAAAAAAAAM=',
      tags: { 'iot-security-operator': { owner: 'ns/a' } },
      desired: { [AGENT_CONFIGURATION_KEY]: configuration, other: 1 },
      // Timestamps kept as epoch ms.
      desiredMetadata: {
        $lastUpdated: Date.parse('2025-01-02T00:00:00Z'),
        [AGENT_CONFIGURATION_KEY]: { $lastUpdated: Date.parse('2025-01-01T10:00:00Z') },
      },
      reported: { [AGENT_CONFIGURATION_KEY]: { snapshotFrequency: { value: 'PT13H' } } },
      desiredVersion: 4,
      reportedVersion: 9,
      version: 7,
    });
  });

  it('reads a twin that has no properties and no tags as empty', () => {
    const twin = twinFromJson(
      { deviceId: 'd', moduleId: 'azureiotsecurity', etag: 'e', properties: { desired: { $version: 1 } } },
      SECURITY_MODULE_ID,
    );
    assert.deepEqual(twin, {
      deviceId: 'd',
      moduleId: 'azureiotsecurity',
      etag: 'e',
      tags: {},
      desired: {},
      desiredMetadata: {},
      reported: {},
      desiredVersion: 1,
    });
  });

  it('reads a device twin, which has no module id', () => {
    const twin = twinFromJson({ deviceId: 'd', etag: 'e', modelId: 'dtmi:x;1', properties: {} }, DEVICE_TWIN);
    assert.equal(twin.moduleId, undefined);
    assert.throws(() => twinFromJson(moduleTwin(), DEVICE_TWIN), /is not the device twin/);
  });

  it('refuses a twin without an etag, so that no write can go out unguarded', () => {
    for (const etag of [undefined, '', '*', '"*"']) {
      assert.throws(
        () => twinFromJson(moduleTwin({ etag }), SECURITY_MODULE_ID),
        (e) => isHubError(e, 'InvalidArgument'),
      );
    }
    assert.throws(
      () => twinFromJson(moduleTwin({ moduleId: 'other' }), SECURITY_MODULE_ID),
      /is not the module twin 'azureiotsecurity'/,
    );
  });
});

describe('deviceRecordFromJson', () => {
  it('keeps what target conditions read', () => {
    assert.deepEqual(
      deviceRecordFromJson({
        deviceId: 'd1',
        etag: 'x',
        status: 'enabled',
        connectionState: 'Connected',
        lastActivityTime: '2025-01-01T00:00:00Z',
        modelId: 'dtmi:com:example:Thermostat;1',
        tags: { site: 'ams' },
        properties: {},
      }),
      {
        deviceId: 'd1',
        tags: { site: 'ams' },
        status: 'enabled',
        connectionState: 'Connected',
        lastActivityTime: '2025-01-01T00:00:00Z',
        modelId: 'dtmi:com:example:Thermostat;1',
      },
    );
  });
});

describe('patchIsApplied', () => {
  it('sees a patch whose values are all in the twin as applied, other keys notwithstanding', () => {
    const patch = {
      tags: { 'iot-security-operator': { owner: 'ns/a' } },
      properties: {
        desired: { [AGENT_CONFIGURATION_KEY]: { maxMessageSizeInBytes: { value: 204800 } }, gone: null },
      },
    };
    assert.ok(patchIsApplied(patch, moduleTwin()));
  });

  it('sees a differing value or a key the patch deletes as not applied', () => {
    const changed = {
      properties: { desired: { [AGENT_CONFIGURATION_KEY]: { maxMessageSizeInBytes: { value: 8192 } } } },
    };
    const deleted = { properties: { desired: { other: null } } };
    assert.ok(!patchIsApplied(changed, moduleTwin()));
    assert.ok(!patchIsApplied(deleted, moduleTwin()));
  });
});
