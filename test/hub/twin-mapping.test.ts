import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHubError } from '../../src/hub/errors.js';
import { deviceRecordFromJson, patchIsApplied, twinFromJson } from '../../src/hub/twin-mapping.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/settings.js';
import { DEVICE_TWIN, lastWritten } from '../../src/twins/types.js';

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
      desiredWritten: {
        at: Date.parse('2025-01-02T00:00:00Z'),
        below: { [AGENT_CONFIGURATION_KEY]: { at: Date.parse('2025-01-01T10:00:00Z') } },
      },
      reported: { [AGENT_CONFIGURATION_KEY]: { snapshotFrequency: { value: 'PT13H' } } },
      desiredVersion: 4,
      reportedVersion: 9,
      version: 7,
    });
  });

  it('keeps of $metadata when each property was last written, one stamp for what was written at once', () => {
    const stamp = (at: string, version: number) => ({ $lastUpdated: at, $lastUpdatedVersion: version });
    const first = '2025-01-01T10:00:00.0000000Z';
    const later = '2025-01-03T08:00:00.0000000Z';
    // The configuration written whole at version 2, then its snapshotFrequency alone at version 5.
    const twin = twinFromJson(
      moduleTwin({
        properties: {
          desired: {
            [AGENT_CONFIGURATION_KEY]: {
              snapshotFrequency: { value: 'PT1H' },
              maxMessageSizeInBytes: { value: 1 },
            },
            $metadata: {
              ...stamp(later, 5),
              [AGENT_CONFIGURATION_KEY]: {
                ...stamp(later, 5),
                snapshotFrequency: { ...stamp(later, 5), value: stamp(later, 5) },
                maxMessageSizeInBytes: { ...stamp(first, 2), value: stamp(first, 2) },
              },
            },
            $version: 5,
          },
        },
      }),
      SECURITY_MODULE_ID,
    );
    const at = (path: string[]) => lastWritten(twin, path);
    assert.deepEqual(at([]), { at: Date.parse(later), version: 5 });
    assert.deepEqual(at([AGENT_CONFIGURATION_KEY, 'snapshotFrequency', 'value']), {
      at: Date.parse(later),
      version: 5,
    });
    assert.deepEqual(at([AGENT_CONFIGURATION_KEY, 'maxMessageSizeInBytes']), {
      at: Date.parse(first),
      version: 2,
    });
    assert.deepEqual(at([AGENT_CONFIGURATION_KEY, 'maxMessageSizeInBytes', 'value']), {
      at: Date.parse(first),
      version: 2,
    });
    // Desired holds nothing there: nothing was written there.
    assert.deepEqual(at([AGENT_CONFIGURATION_KEY, 'hubResourceId']), {});
    assert.deepEqual(at(['other']), {});
    // Only what differs from its parent is kept: the one property written later.
    assert.deepEqual(twin.desiredWritten, {
      at: Date.parse(later),
      version: 5,
      below: {
        [AGENT_CONFIGURATION_KEY]: {
          at: Date.parse(later),
          version: 5,
          below: { maxMessageSizeInBytes: { at: Date.parse(first), version: 2 } },
        },
      },
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
      desiredWritten: {},
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
