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

  it('takes a value for the last one shared under its name only when it is the same JSON', () => {
    const shared = new SharedValues();
    const config = () => ({ snapshotFrequency: { value: 'PT1H' }, ports: [80, 443] });
    const first = shared.share(config(), 'configuration');
    assert.equal(shared.share(config(), 'configuration'), first);
    // Differing deep inside, in an array, or only in the order of keys: another value (serialised, it differs).
    const deeper = shared.share({ snapshotFrequency: { value: 'PT2H' }, ports: [80, 443] }, 'configuration');
    assert.notEqual(deeper, first);
    assert.deepEqual(deeper, { snapshotFrequency: { value: 'PT2H' }, ports: [80, 443] });
    assert.notEqual(
      shared.share({ snapshotFrequency: { value: 'PT1H' }, ports: [80] }, 'configuration'),
      first,
    );
    const reordered = shared.share(
      { ports: [80, 443], snapshotFrequency: { value: 'PT1H' } },
      'configuration',
    );
    assert.equal(JSON.stringify(reordered), '{"ports":[80,443],"snapshotFrequency":{"value":"PT1H"}}');
    // An array is not the object of the same entries; and the table still finds the first under another name.
    assert.deepEqual(shared.share(['PT1H'], 'configuration'), ['PT1H']);
    assert.equal(shared.share(config(), 'other'), first);
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
