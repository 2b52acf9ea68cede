// The values many twins hold alike, kept once: equal values come back as one frozen object, which no twin can
// change under the others.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedValues } from '../../src/twins/shared-values.js';

describe('SharedValues', () => {
  it('gives twins holding equal values one copy, and keeps different values apart', () => {
    const shared = new SharedValues();
    const first = shared.share({ site: 'ams-dc1', environment: 'production' });
    const second = shared.share({ site: 'ams-dc1', environment: 'production' });
    const other = shared.share({ site: 'fra-plant2', environment: 'production' });
    assert.equal(second, first);
    assert.notEqual(other, first);
    assert.deepEqual(other, { site: 'fra-plant2', environment: 'production' });
  });

  it('freezes what it shares, deeply, so that changing one twin cannot change another', () => {
    const shared = new SharedValues();
    const value = shared.share({ configuration: { snapshotFrequency: { value: 'PT1H' } } });
    assert.throws(() => {
      (value.configuration.snapshotFrequency as { value: string }).value = 'PT2H';
    }, TypeError);
  });

  it('keeps one copy of repeated short strings, and leaves other values as they are', () => {
    const shared = new SharedValues();
    const a = shared.text(['Conn', 'ected'].join(''));
    assert.equal(shared.text('Connected'), a);
    assert.equal(shared.share(42), 42);
    assert.equal(shared.share(null), null);
  });
});
