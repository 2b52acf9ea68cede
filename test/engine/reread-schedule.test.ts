// When the session reads each twin awaiting its device again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RereadSchedule } from '../../src/engine/reread-schedule.js';
import type { HubSnapshot, TwinRef } from '../../src/twins/types.js';
import { moduleTwin } from '../support/planner-fixtures.js';

const SLOT = 'azureiotsecurity';
const ref = (deviceId: string): TwinRef => ({ slot: SLOT, deviceId });

function snapshot(desiredVersions: Record<string, number>): HubSnapshot {
  const twins = Object.entries(desiredVersions).map(([deviceId, desiredVersion]) => {
    const twin = moduleTwin(deviceId, {});
    return [deviceId, { ...twin, desiredVersion }] as const;
  });
  return { devices: [], twins: new Map([[SLOT, new Map(twins)]]) };
}

describe('RereadSchedule', () => {
  it('reads a twin the first delay after its write, then on a grid of that delay, with those written moments apart', () => {
    const schedule = new RereadSchedule(250, 2000);
    const versions = snapshot({ a: 2, b: 2 });
    schedule.update([ref('a')], () => false, versions, 1010);
    schedule.update([ref('a'), ref('b')], () => false, versions, 1100);
    assert.deepEqual([schedule.due(1260), schedule.due(1350)], [[ref('a')], [ref('a'), ref('b')]]);
    schedule.update([ref('a'), ref('b')], (r) => r.deviceId === 'a', versions, 1260);
    schedule.update([ref('a'), ref('b')], (r) => r.deviceId === 'b', versions, 1350);
    assert.deepEqual([schedule.due(1999), schedule.due(2000)], [[], [ref('a'), ref('b')]]);
  });

  it('starts a twin written again over at the first delay, and forgets a twin that answered', () => {
    const schedule = new RereadSchedule(250, 2000);
    const all = () => true;
    schedule.update([ref('a'), ref('b')], all, snapshot({ a: 2, b: 2 }), 0);
    schedule.update([ref('a'), ref('b')], all, snapshot({ a: 2, b: 2 }), 250);
    schedule.update([ref('a'), ref('b')], all, snapshot({ a: 2, b: 2 }), 750);
    assert.equal(schedule.nextDueAt(), 1750, 'read twice and silent: 1 s later');
    schedule.update([ref('a'), ref('b')], all, snapshot({ a: 3, b: 2 }), 1750);
    assert.deepEqual(schedule.due(2000), [ref('a')], 'a was written again: 250 ms later; b 2 s later');
    // a answered at its read; b was not due.
    schedule.update([ref('b')], (r) => r.deviceId === 'a', snapshot({ b: 2 }), 2000);
    assert.deepEqual([schedule.due(10_000), schedule.nextDueAt()], [[ref('b')], 3750]);
  });
});
