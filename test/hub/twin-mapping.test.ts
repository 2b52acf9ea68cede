import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHubError } from '../../src/hub/errors.js';
import { deviceRecordFromJson, moduleTwinFromJson, patchIsApplied } from '../../src/hub/twin-mapping.js';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/settings.js';

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

describe('moduleTwinFromJson', () => {
  it('takes the configuration, the versions and when the configuration was written', () => {
    assert.deepEqual(moduleTwinFromJson(moduleTwin()), {
      deviceId: 'device-000001',
      etag: 'AAAAAAAAAAM=',
      tags: { 'iot-security-operator': { owner: 'ns/a' } },
      desiredConfiguration: configuration,
      reportedConfiguration: { snapshotFrequency: { value: 'PT13H' } },
      desiredVersion: 4,
      reportedVersion: 9,
      version: 7,
      desiredUpdatedAt: Date.parse('2025-01-01T10:00:00Z'),
    });
  });

  it("falls back to the desired section's $lastUpdated when the key has no metadata", () => {
    const twin = moduleTwin();
    twin.properties.desired.$metadata = {
      $lastUpdated: '2025-01-02T00:00:00Z',
    } as typeof twin.properties.desired.$metadata;
    assert.equal(moduleTwinFromJson(twin).desiredUpdatedAt, Date.parse('2025-01-02T00:00:00Z'));
  });

  it('reads a twin that has no configuration and no tags as empty', () => {
    const twin = moduleTwinFromJson({
      deviceId: 'd',
      moduleId: 'azureiotsecurity',
      etag: 'e',
      properties: { desired: { $version: 1 } },
    });
    assert.deepEqual(twin, {
      deviceId: 'd',
      etag: 'e',
      tags: {},
      desiredConfiguration: undefined,
      reportedConfiguration: undefined,
      desiredVersion: 1,
    });
  });

  it('refuses a twin without an etag, so that no write can go out unguarded', () => {
    for (const etag of [undefined, '', '*', '"*"']) {
      assert.throws(
        () => moduleTwinFromJson(moduleTwin({ etag })),
        (e) => isHubError(e, 'InvalidArgument'),
      );
    }
    assert.throws(() => moduleTwinFromJson(moduleTwin({ moduleId: 'other' })), /not azureiotsecurity/);
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
        tags: { site: 'ams' },
        properties: {},
      }),
      {
        deviceId: 'd1',
        tags: { site: 'ams' },
        status: 'enabled',
        connectionState: 'Connected',
        lastActivityTime: '2025-01-01T00:00:00Z',
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
