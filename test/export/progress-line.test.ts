// Progress of an export on a terminal: one line, redrawn in place at most every 100 ms, cleared at the end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressLine } from '../../src/export/progress-line.js';

describe('ProgressLine', () => {
  it('redraws one line with the devices, module twins and pages read, and clears it', () => {
    const written: string[] = [];
    let now = 0;
    const line = new ProgressLine(
      'hub.example',
      'security module twins',
      (text) => written.push(text),
      () => now,
    );
    line.reading({ devices: 1000, twins: 0, pages: 1 });
    now = 50;
    line.reading({ devices: 1000, twins: 1000, pages: 2 });
    now = 150;
    line.reading({ devices: 2000, twins: 1000, pages: 3 });
    line.step('grouping');
    line.done();
    assert.deepEqual(written, [
      '\r\x1b[2Kreading hub.example: 1,000 devices, 0 security module twins (1 query page)',
      '\r\x1b[2Kreading hub.example: 2,000 devices, 1,000 security module twins (3 query pages)',
      '\r\x1b[2Kgrouping',
      '\r\x1b[2K',
    ]);
  });
});
