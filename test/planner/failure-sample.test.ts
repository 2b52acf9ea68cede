// The failures a resource's status lists: a share for each reason present, each reason's first devices by id, and
// the rejection the Ready condition quotes whether or not the sample lists it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Reason } from '../../src/api/reasons.js';
import { FailureSample } from '../../src/planner/failure-sample.js';
import { emptyCounts, resourceConditions } from '../../src/planner/resource-report.js';
import type { DeviceFailure } from '../../src/planner/types.js';

const failure = (deviceId: string, reason: Reason): DeviceFailure => ({ deviceId, reason, message: reason });
const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(3, '0')}`);
const count = (failures: DeviceFailure[], reason: Reason) =>
  failures.filter((f) => f.reason === reason).length;

describe('the sample of failures a status lists', () => {
  it('keeps every failure, by device id, while there are at most 20', () => {
    const sample = new FailureSample();
    sample.add('b', 'ConvergenceTimeout', failure('b', 'ConvergenceTimeout'));
    sample.add('a', 'DeviceRejected', failure('a', 'DeviceRejected'));
    sample.add('a', 'ConflictingSettings', failure('a', 'ConflictingSettings'));
    assert.deepEqual(
      sample.list().map((f) => [f.deviceId, f.reason]),
      [
        ['a', 'ConflictingSettings'],
        ['a', 'DeviceRejected'],
        ['b', 'ConvergenceTimeout'],
      ],
    );
  });

  it('gives each reason present a share of the 20: many of one reason do not hide a few of another', () => {
    const sample = new FailureSample();
    for (const id of ids('a', 500)) sample.add(id, 'ConvergenceTimeout', failure(id, 'ConvergenceTimeout'));
    sample.add('z-1', 'DeviceRejected', failure('z-1', 'DeviceRejected'));
    for (const id of ids('m', 3)) sample.add(id, 'TwinBusy', failure(id, 'TwinBusy'));
    const listed = sample.list();
    assert.equal(listed.length, 20);
    assert.deepEqual(
      [count(listed, 'DeviceRejected'), count(listed, 'TwinBusy'), count(listed, 'ConvergenceTimeout')],
      [1, 3, 16],
    );
    assert.deepEqual(
      listed.filter((f) => f.reason === 'ConvergenceTimeout').map((f) => f.deviceId),
      ids('a', 16),
      "each reason's first by device id",
    );
  });

  it('shares evenly among reasons that each have more than their share, rejections taking the first turn', () => {
    const sample = new FailureSample();
    for (const reason of ['ConvergenceTimeout', 'DeviceRejected', 'ConflictingSettings'] as Reason[])
      for (const id of ids(reason, 30)) sample.add(id, reason, failure(id, reason));
    const listed = sample.list();
    assert.deepEqual(
      [
        count(listed, 'DeviceRejected'),
        count(listed, 'ConflictingSettings'),
        count(listed, 'ConvergenceTimeout'),
      ],
      [7, 7, 6],
    );
  });

  it("keeps each reason's first devices by id whatever order they come in, and makes messages only for those", () => {
    const sample = new FailureSample(2);
    let made = 0;
    const lazy = (id: string) => () => {
      made++;
      return failure(id, 'ConvergenceTimeout');
    };
    for (const id of ['d', 'c', 'e', 'a', 'f', 'b']) sample.add(id, 'ConvergenceTimeout', lazy(id));
    assert.deepEqual(
      sample.list().map((f) => f.deviceId),
      ['a', 'b'],
    );
    assert.equal(made, 4, 'e and f came to a full sample of lower ids: their messages were never made');
    assert.equal(sample.first('ConvergenceTimeout')?.deviceId, 'a');
    assert.equal(sample.first('DeviceRejected'), undefined);
  });
});

describe('the Ready condition of rejections', () => {
  it('quotes the first rejection given apart, even when the failures listed hold none', () => {
    const conditions = resourceConditions(
      {
        resourceKey: 'iot/TwinConfig/setpoint',
        revision: 'r1',
        counts: { ...emptyCounts(), targetedDevices: 30, stalledDevices: 29, rejectedDevices: 1 },
        failures: ids('a', 20).map((id) => failure(id, 'ConvergenceTimeout')),
        firstRejection: {
          deviceId: 'z-1',
          reason: 'DeviceRejected',
          message: 'targetTemperature refused (400): too hot',
        },
        unanswered: 'not acknowledging the values',
        rollout: { reached: 30, inFlight: 0, failing: 30, batchSize: 30, halted: false, capacity: 0 },
        suspended: false,
        plannedWrites: 0,
        changingSettings: [],
        sampleDeviceIds: [],
        deferredDevices: 0,
        retryingDevices: 0,
        busyDevices: 0,
        lostConflictDevices: 0,
        managedElsewhereDevices: 0,
        outOfScopeDevices: 0,
      },
      '100%',
    );
    assert.equal(
      conditions.find((c) => c.type === 'Ready')?.message,
      '1 device rejected the values (z-1: targetTemperature refused (400): too hot), 29 devices stalled (online, not acknowledging the values within convergenceTimeout); see status.failures',
    );
  });
});
