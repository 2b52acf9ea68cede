// When the session reads each twin awaiting its device again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RereadSchedule } from '../../src/engine/reread-schedule.js';
import type { TwinRef } from '../../src/twins/types.js';

const SLOT = 'azureiotsecurity';
const ref = (deviceId: string): TwinRef => ({ slot: SLOT, deviceId });
const none = () => false;
const all = () => true;
const only = (deviceId: string) => (r: TwinRef) => r.deviceId === deviceId;

describe('RereadSchedule', () => {
  it('reads a twin the first delay after its write, then on a grid of that delay, with those written moments apart', () => {
    const schedule = new RereadSchedule(250, 2000);
    schedule.update([ref('a')], only('a'), none, 1010);
    schedule.update([ref('a'), ref('b')], only('b'), none, 1100);
    assert.deepEqual([schedule.due(1260), schedule.due(1350)], [[ref('a')], [ref('a'), ref('b')]]);
    schedule.update([ref('a'), ref('b')], none, only('a'), 1260);
    schedule.update([ref('a'), ref('b')], none, only('b'), 1350);
    assert.deepEqual([schedule.due(1999), schedule.due(2000)], [[], [ref('a'), ref('b')]]);
  });

  it('starts a twin this session wrote again over at the first delay, and forgets a twin that answered', () => {
    const schedule = new RereadSchedule(250, 2000);
    schedule.update([ref('a'), ref('b')], all, all, 0);
    schedule.update([ref('a'), ref('b')], none, all, 250);
    schedule.update([ref('a'), ref('b')], none, all, 750);
    assert.equal(schedule.nextDueAt(), 1750, 'read twice and silent: 1 s later');
    schedule.update([ref('a'), ref('b')], only('a'), all, 1750);
    assert.deepEqual(schedule.due(2000), [ref('a')], 'a was written again: 250 ms later; b 2 s later');
    // a answered at its read; b was not due.
    schedule.update([ref('b')], none, only('a'), 2000);
    assert.deepEqual([schedule.due(10_000), schedule.nextDueAt()], [[ref('b')], 3750]);
  });

  it("keeps a silent twin's pace when another writer changes it (its device is as slow as before)", () => {
    const schedule = new RereadSchedule(250, 2000);
    schedule.update([ref('a')], all, none, 0);
    schedule.update([ref('a')], none, all, 250);
    schedule.update([ref('a')], none, all, 750);
    // Read again at 1750 and found changed by someone else: not written by this session, so 2 s later.
    schedule.update([ref('a')], none, all, 1750);
    assert.deepEqual([schedule.due(3749), schedule.nextDueAt()], [[], 3750]);
  });
});
