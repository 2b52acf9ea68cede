// The table at the end of a sync: a REJECTED column only when a device rejected values (TwinConfig), so that runs
// of security agents alone, which never reject, print what they always printed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyCounts, type ResourceReport } from '../../src/planner/resource-report.js';
import { renderStatusTable } from '../../src/sync/status-table.js';

function report(
  resourceKey: string,
  counts: Partial<ResourceReport['counts']>,
  reason: string,
): ResourceReport {
  return {
    resourceKey,
    counts: { ...emptyCounts(), ...counts },
    conditions: [{ type: 'Ready', status: reason === 'Converged' ? 'True' : 'False', reason, message: '' }],
  } as unknown as ResourceReport;
}

describe('the status table of sync', () => {
  const agents = report('iot/baseline', { targetedDevices: 3, convergedDevices: 3 }, 'Converged');

  it('has no REJECTED column when no device rejected anything', () => {
    const [header] = renderStatusTable([agents]);
    assert.equal(
      header,
      'RESOURCE      TARGETED  APPLIED  CONVERGED  PENDING  OFFLINE  STALLED  FAILED  CONFLICTS  READY',
    );
  });

  it('adds REJECTED before CONFLICTS when a device rejected values', () => {
    const thermostats = report(
      'iot/TwinConfig/thermostats',
      { targetedDevices: 4, convergedDevices: 3, rejectedDevices: 1 },
      'DevicesRejected',
    );
    const [header, ...rows] = renderStatusTable([thermostats, agents]);
    assert.deepEqual(header.split(/\s+/).slice(8), ['REJECTED', 'CONFLICTS', 'READY']);
    assert.deepEqual(rows[0].split(/\s+/), [
      'iot/TwinConfig/thermostats',
      '4',
      '0',
      '3',
      '0',
      '0',
      '0',
      '0',
      '1',
      '0',
      'False',
      '(DevicesRejected)',
    ]);
    assert.deepEqual(rows[1].split(/\s+/).slice(8), ['0', '0', 'True', '(Converged)']);
  });
});
