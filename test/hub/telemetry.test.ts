// The hub client's telemetry: what it counts of calls and answers, and when it says the hub went away.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HubTelemetry, OUTAGE_ATTEMPTS } from '../../src/hub/telemetry.js';

describe('HubTelemetry outages', () => {
  it('counts an outage once attempts in a row got no answer, not for a reset among answered attempts', () => {
    const telemetry = new HubTelemetry();
    // A connection reset now and then, in a burst of answered writes: the hub never went away.
    for (let i = 0; i < 30; i++) telemetry.recordAnswer('twinUpdate', i % 5 === 0 ? 'network' : 200);
    assert.equal(telemetry.outages, 0);
    // The hub goes: every attempt fails, across classes, many times; one outage.
    for (let i = 0; i < 3 * OUTAGE_ATTEMPTS; i++)
      telemetry.recordAnswer(i % 2 ? 'query' : 'twinUpdate', 'network');
    assert.equal(telemetry.outages, 1);
    // Back (a 503 is an answer), then gone again: a second outage.
    telemetry.recordAnswer('twinUpdate', 503);
    for (let i = 0; i < OUTAGE_ATTEMPTS; i++) telemetry.recordAnswer('twinUpdate', 'network');
    assert.equal(telemetry.outages, 2);
  });
});
