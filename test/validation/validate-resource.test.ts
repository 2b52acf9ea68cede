import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFieldPath } from '../../src/validation/issues.js';
import { validateResource } from '../../src/validation/validate-resource.js';
import { hubSecret, validIotHub, validSecurityModuleConfig } from '../support/resources.js';

function problems(resource: unknown): string[] {
  return validateResource(resource).issues.map(
    (i) => `${i.severity} ${formatFieldPath(i.path)}: ${i.message}`,
  );
}

function agent(agentConfiguration: Record<string, unknown>): unknown {
  return validSecurityModuleConfig({ agentConfiguration });
}

describe('validating a SecurityModuleConfig', () => {
  it('accepts a valid resource and fills in the schema defaults', () => {
    const result = validateResource(validSecurityModuleConfig());
    assert.deepEqual(result.issues, []);
    assert.equal(result.resource?.kind, 'SecurityModuleConfig');
    const spec = result.resource?.spec as unknown as Record<string, unknown>;
    assert.equal(spec.priority, 0);
    assert.equal(spec.deletionPolicy, 'Remove');
    assert.equal(spec.convergenceTimeout, '15m');
    assert.deepEqual(
      spec.rollout,
      undefined,
      'an absent rollout stays absent; its fields default when it is given',
    );
  });

  it('names every missing required field', () => {
    const resource = validSecurityModuleConfig();
    delete (resource.spec as Record<string, unknown>).hubRef;
    delete (resource.spec as Record<string, unknown>).target;
    assert.deepEqual(problems(resource), [
      "error spec.hubRef: required field 'hubRef' is missing",
      "error spec.target: required field 'target' is missing",
    ]);
  });

  it('rejects unknown fields and suggests the closest known one', () => {
    assert.deepEqual(problems(validSecurityModuleConfig({ priorty: 3 })), [
      "error spec.priorty: unknown field 'priorty'; did you mean 'priority'?",
    ]);
    assert.deepEqual(problems(agent({ eventPriorities: { Logn: 'High' } })), [
      "error spec.agentConfiguration.eventPriorities.Logn: unknown field 'Logn'; did you mean 'Login'?",
    ]);
  });

  it('accepts only High, Low and Off as event priorities', () => {
    assert.deepEqual(problems(agent({ eventPriorities: { Login: 'high' } })), [
      "error spec.agentConfiguration.eventPriorities.Login: 'high' is not one of High, Low, Off; did you mean 'High'?",
    ]);
  });

  it('requires exactly one of condition and deviceIds', () => {
    const both = validSecurityModuleConfig({ target: { condition: "tags.a = 'b'", deviceIds: ['d1'] } });
    assert.deepEqual(problems(both), ['error spec.target: must set exactly one of condition or deviceIds']);
    assert.deepEqual(problems(validSecurityModuleConfig({ target: {} })), [
      'error spec.target: must set exactly one of condition or deviceIds',
    ]);
    assert.deepEqual(problems(validSecurityModuleConfig({ target: { deviceIds: [] } })), [
      'error spec.target.deviceIds: must list at least 1 item',
    ]);
  });

  it('rejects device ids the hub would refuse and warns about duplicates', () => {
    assert.deepEqual(
      problems(validSecurityModuleConfig({ target: { deviceIds: ['ok-1', 'has space', 'ok-1'] } })),
      [
        "error spec.target.deviceIds[1]: 'has space' is not a valid IoT Hub device id (at most 128 ASCII letters, digits and - . % _ * ? ! ( ) , : = @ $ ')",
      ],
    );
    assert.deepEqual(problems(validSecurityModuleConfig({ target: { deviceIds: ['ok-1', 'ok-1'] } })), [
      "warning spec.target.deviceIds[1]: device 'ok-1' is listed twice",
    ]);
  });

  it('reports a target condition outside the grammar with its column', () => {
    const result = validateResource(
      validSecurityModuleConfig({ target: { condition: "tags.site = 'a' OR 1=1 --" } }),
    );
    assert.equal(result.issues.length, 1);
    assert.deepEqual(result.issues[0].path, ['spec', 'target', 'condition']);
    assert.equal(typeof result.issues[0].offsetInValue, 'number');
    assert.ok(result.resource === undefined, 'an invalid resource is never handed on');
  });

  it('names the place of a condition error as a character of the condition, never as a column', () => {
    assert.deepEqual(problems(validSecurityModuleConfig({ target: { condition: "tags.site = 'a' AND" } })), [
      "error spec.target.condition: unexpected end of input at character 20 of the condition, expected a condition: a property path, a value, a function or '('",
    ]);
    // Text of the condition quoted in the message is left alone.
    assert.deepEqual(
      problems(validSecurityModuleConfig({ target: { condition: "tags.a = 'at column 3' 'b'" } })),
      [
        "error spec.target.condition: unexpected string 'b' at character 24 of the condition, expected AND, OR or the end of the condition",
      ],
    );
    // Over several lines (a block scalar): the line inside the condition; its final line break is no line.
    assert.deepEqual(
      problems(validSecurityModuleConfig({ target: { condition: "tags.a = 'x'\n  AND tags.b =\n" } })),
      [
        'error spec.target.condition: unexpected end of input at character 15 of line 2 of the condition, expected a value',
      ],
    );
  });

  it('rejects a target condition over reported properties', () => {
    const [problem] = problems(
      validSecurityModuleConfig({ target: { condition: "properties.reported.x = 'a'" } }),
    );
    assert.match(problem, /^error spec\.target\.condition: .*properties\.reported/);
  });

  it('rejects malformed and zero durations', () => {
    assert.deepEqual(problems(agent({ snapshotFrequency: '13h' })), [
      "error spec.agentConfiguration.snapshotFrequency: '13h' is not an ISO 8601 duration such as PT7M, PT1H or P1D",
    ]);
    const [zero] = problems(agent({ snapshotFrequency: 'PT0S' }));
    assert.match(
      zero,
      /^error spec\.agentConfiguration\.snapshotFrequency: snapshotFrequency 'PT0S' must be longer than zero/,
    );
    assert.deepEqual(problems(validSecurityModuleConfig({ convergenceTimeout: '0s' })), [
      "error spec.convergenceTimeout: '0s' must be longer than zero",
    ]);
  });

  it('rejects a high-priority frequency longer than the low-priority one, judged against the agent defaults', () => {
    const [own] = problems(
      agent({ highPriorityMessageFrequency: 'PT2H', lowPriorityMessageFrequency: 'PT1H' }),
    );
    assert.match(
      own,
      /^error spec\.agentConfiguration\.highPriorityMessageFrequency: .*\[agent: Conflict\]$/,
    );
    // The resource sets only the low-priority frequency, below the default high-priority one (PT7M).
    const [againstDefault] = problems(agent({ lowPriorityMessageFrequency: 'PT5M' }));
    assert.match(
      againstDefault,
      /^error spec\.agentConfiguration\.lowPriorityMessageFrequency: .*highPriorityMessageFrequency: the agent's default/,
    );
  });

  it('keeps the message size in 8192..262144 and warns when it is not a multiple of 4096', () => {
    assert.deepEqual(problems(agent({ maxMessageSizeInBytes: 300000 })), [
      'error spec.agentConfiguration.maxMessageSizeInBytes: 300000 is above the maximum 262144',
    ]);
    assert.deepEqual(problems(agent({ maxMessageSizeInBytes: 4096 })), [
      'error spec.agentConfiguration.maxMessageSizeInBytes: 4096 is below the minimum 8192',
    ]);
    const warned = validateResource(agent({ maxMessageSizeInBytes: 10000 }));
    assert.equal(warned.issues.length, 1);
    assert.equal(warned.issues[0].severity, 'warning');
    assert.ok(warned.resource, 'a warning does not make the resource invalid');
  });

  it('requires a local cache not below the message size, including the default message size', () => {
    const [problem] = problems(agent({ maxLocalCacheSizeInBytes: 100000 }));
    assert.match(
      problem,
      /^error spec\.agentConfiguration\.maxLocalCacheSizeInBytes: maxLocalCacheSizeInBytes 100000 is below maxMessageSizeInBytes 204800/,
    );
    assert.deepEqual(problems(agent({ maxLocalCacheSizeInBytes: 4096 })), [
      'error spec.agentConfiguration.maxLocalCacheSizeInBytes: 4096 is below the minimum 8192',
    ]);
  });

  it('requires a file hash that is a SHA-256', () => {
    assert.deepEqual(problems(agent({ baselineCustomChecks: { fileHash: 'md5:abc' } })), [
      "error spec.agentConfiguration.baselineCustomChecks.fileHash: 'md5:abc' is not a SHA-256 hash (64 hexadecimal digits)",
    ]);
    assert.deepEqual(
      problems(agent({ baselineCustomChecks: { enabled: false, fileHash: 'a'.repeat(64) } })),
      [],
    );
  });

  it('validates rollout sizes as a count or a percentage', () => {
    assert.deepEqual(problems(validSecurityModuleConfig({ rollout: { batchSize: '150%' } })), [
      "error spec.rollout.batchSize: '150%' must be a whole number of devices (0 or more) or a percentage such as 25%",
    ]);
    assert.deepEqual(problems(validSecurityModuleConfig({ rollout: { batchSize: 0 } })), [
      'error spec.rollout.batchSize: 0 would never roll out: use at least 1 device or 1%',
    ]);
  });

  it('rejects names Kubernetes would refuse', () => {
    assert.deepEqual(problems(validSecurityModuleConfig({}, 'Fleet_Baseline')), [
      "error metadata.name: 'Fleet_Baseline' is not a valid name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
    ]);
  });

  it('rejects a hub reference no IoTHub could be named, control characters included', () => {
    assert.deepEqual(problems(validSecurityModuleConfig({ hubRef: { name: 'hub\u001b[2J' } })), [
      "error spec.hubRef.name: 'hub\u001b[2J' is not a valid name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
    ]);
  });

  it('reports problems of separate parts together', () => {
    const resource = validSecurityModuleConfig({
      target: { condition: 'tags.a = ' },
      agentConfiguration: { maxMessageSizeInBytes: 1 },
    });
    assert.equal(problems(resource).length, 2);
  });
});

describe('validating an IoTHub', () => {
  it('accepts a valid hub and fills in tier, units, key and resync interval', () => {
    const result = validateResource(validIotHub());
    assert.deepEqual(result.issues, []);
    const spec = result.resource?.spec as Record<string, any>;
    assert.equal(spec.tier, 'S1');
    assert.equal(spec.units, 1);
    assert.equal(spec.resyncInterval, '10m');
    assert.equal(spec.connectionStringSecretRef.key, 'connectionString');
  });

  it('rejects unknown tiers, zero units, bad intervals and non-positive rate limits', () => {
    assert.deepEqual(
      problems(
        validIotHub({
          tier: 'S4',
          units: 0,
          resyncInterval: '10 minutes',
          rateLimits: { twinUpdatesPerSecond: 0 },
        }),
      ),
      [
        "error spec.tier: 'S4' is not one of F1, B1, B2, B3, S1, S2, S3; did you mean 'S1'?",
        'error spec.units: 0 is below the minimum 1',
        'error spec.rateLimits.twinUpdatesPerSecond: 0 is below the minimum 0 (exclusive)',
        "error spec.resyncInterval: '10 minutes' is not a duration such as 30s, 10m or 1h30m",
      ],
    );
  });
});

describe('references of an IoTHub', () => {
  it('rejects Secret names and keys no Secret could have, control characters included', () => {
    assert.deepEqual(
      problems(
        validIotHub({
          connectionStringSecretRef: { name: 'creds\nforged', key: 'connection string' },
          caSecretRef: { name: 'CA', key: 'ca\u009b.crt' },
        }),
      ),
      [
        "error spec.connectionStringSecretRef.name: 'creds\nforged' is not a valid name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
        "error spec.connectionStringSecretRef.key: 'connection string' is not a valid Secret key: letters, digits, '-', '_' and '.'",
        "error spec.caSecretRef.name: 'CA' is not a valid name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
        "error spec.caSecretRef.key: 'ca\u009b.crt' is not a valid Secret key: letters, digits, '-', '_' and '.'",
      ],
    );
  });
});

describe('documents that are not ours', () => {
  it('are passed over (a Secret beside an IoTHub)', () => {
    const result = validateResource(hubSecret('s'));
    assert.equal(result.ours, false);
    assert.deepEqual(result.issues, []);
  });

  it('of our group but an unknown kind or version are errors', () => {
    assert.deepEqual(problems({ ...validSecurityModuleConfig(), kind: 'SecurityModuleConfg' }), [
      "error kind: 'SecurityModuleConfg' is not one of IoTHub, SecurityModuleConfig, TwinConfig; did you mean 'SecurityModuleConfig'?",
    ]);
    assert.deepEqual(problems({ ...validSecurityModuleConfig(), apiVersion: 'iotsecurity.io/v1' }), [
      "error apiVersion: 'iotsecurity.io/v1' is not served; use iotsecurity.io/v1alpha1",
    ]);
  });
});
