import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  agentDefaults,
  checkAgentSettings,
  effectiveSettings,
  parseIsoDuration,
  renderAgentConfiguration,
  sameDuration,
  unwrapTwinConfiguration,
} from '../../../src/profiles/security-agent/index.js';

const problemsOf = (settings: Record<string, unknown>) =>
  checkAgentSettings(effectiveSettings(settings as never)).map(
    (p) => `${p.setting}:${p.errorType}:${p.severity}`,
  );

describe('ISO 8601 durations', () => {
  it('reads the forms the agents accept and compares them by value', () => {
    assert.equal(parseIsoDuration('PT7M'), 7 * 60_000);
    assert.equal(parseIsoDuration('P1DT1H'), 25 * 3_600_000);
    assert.equal(parseIsoDuration('PT0.5S'), 500);
    assert.ok(sameDuration('PT60M', 'PT1H'));
    assert.ok(!sameDuration('PT61M', 'PT1H'));
  });

  it('rejects text that is not a duration', () => {
    for (const text of ['P', 'PT', '7m', 'PT7', 'T7M', 'PT-1M', 'pt7m', ''])
      assert.equal(parseIsoDuration(text), undefined, text);
  });
});

describe('the agent rules', () => {
  it('accept the agent defaults', () => {
    assert.deepEqual(checkAgentSettings(agentDefaults()), []);
  });

  it('reject a high-priority frequency longer than the low-priority one, as a Conflict', () => {
    assert.deepEqual(problemsOf({ highPriorityMessageFrequency: 'PT6H' }), [
      'highPriorityMessageFrequency:Conflict:error',
    ]);
    assert.deepEqual(problemsOf({ highPriorityMessageFrequency: 'PT5H' }), [], 'equal is allowed');
  });

  it('keep the message size within 8192..262144 and warn when it is not a multiple of 4096', () => {
    assert.deepEqual(problemsOf({ maxMessageSizeInBytes: 8191 }), [
      'maxMessageSizeInBytes:TypeMismatch:error',
    ]);
    assert.deepEqual(problemsOf({ maxMessageSizeInBytes: 262145 }), [
      'maxMessageSizeInBytes:TypeMismatch:error',
    ]);
    assert.deepEqual(problemsOf({ maxMessageSizeInBytes: 262144 }), []);
    assert.deepEqual(problemsOf({ maxMessageSizeInBytes: 10000 }), [
      'maxMessageSizeInBytes:NotOptimal:warning',
    ]);
  });

  it('require a cache of at least 8192 bytes that holds one message', () => {
    assert.deepEqual(problemsOf({ maxLocalCacheSizeInBytes: 4096 }), [
      'maxLocalCacheSizeInBytes:TypeMismatch:error',
    ]);
    assert.deepEqual(problemsOf({ maxLocalCacheSizeInBytes: 100000 }), [
      'maxLocalCacheSizeInBytes:Conflict:error',
    ]);
    assert.deepEqual(problemsOf({ maxLocalCacheSizeInBytes: 16384, maxMessageSizeInBytes: 16384 }), []);
  });

  it('reject durations that are zero or malformed and values of the wrong type', () => {
    assert.deepEqual(problemsOf({ snapshotFrequency: 'PT0S' }), ['snapshotFrequency:TypeMismatch:error']);
    assert.deepEqual(problemsOf({ snapshotFrequency: '13h' }), ['snapshotFrequency:TypeMismatch:error']);
    assert.deepEqual(problemsOf({ aggregationEnabledProcessCreate: 'yes' }), [
      'aggregationEnabledProcessCreate:TypeMismatch:error',
    ]);
    assert.deepEqual(problemsOf({ eventPriorityLogin: 'Critical' }), [
      'eventPriorityLogin:TypeMismatch:error',
    ]);
    assert.deepEqual(problemsOf({ baselineCustomChecksFileHash: 'abc' }), [
      'baselineCustomChecksFileHash:TypeMismatch:error',
    ]);
  });

  it('accept event priorities in any case, as the C agent writes them', () => {
    assert.deepEqual(problemsOf({ eventPriorityLogin: 'low' }), []);
  });
});

describe('the twin configuration', () => {
  it('wraps every setting a resource names as {"value": ...} and nothing else', () => {
    const twin = renderAgentConfiguration({
      highPriorityMessageFrequency: 'PT1M',
      eventPriorities: { Login: 'Off' },
      aggregation: { ProcessCreate: { enabled: false } },
      baselineCustomChecks: { filePath: null },
    });
    assert.deepEqual(twin, {
      highPriorityMessageFrequency: { value: 'PT1M' },
      eventPriorityLogin: { value: 'Off' },
      aggregationEnabledProcessCreate: { value: false },
      baselineCustomChecksFilePath: { value: null },
    });
  });

  it('reads a twin as the agent does: a bare value is a TypeMismatch, unknown keys are ignored', () => {
    const { settings, problems } = unwrapTwinConfiguration({
      lowPriorityMessageFrequency: { value: 'PT1H' },
      maxMessageSizeInBytes: 8192,
      somethingElse: { value: 1 },
      $version: 3,
    });
    assert.deepEqual(settings, { lowPriorityMessageFrequency: 'PT1H' });
    assert.deepEqual(
      problems.map((p) => `${p.setting}:${p.errorType}`),
      ['maxMessageSizeInBytes:TypeMismatch'],
    );
  });
});
