// Resource names from what they select: valid Kubernetes names, readable, unique.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceListWords, MAX_NAME_LENGTH, nameFromWords, uniqueNames } from '../../src/export/names.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('resource names', () => {
  it('spells a selection in lower case with dashes', () => {
    assert.equal(nameFromWords(['site', 'ams-dc1']), 'site-ams-dc1');
    assert.equal(nameFromWords(['environment', 'Lab', 'and', 'site', 'x']), 'environment-lab-and-site-x');
    assert.equal(nameFromWords(['location', 'building', 'B 12/3']), 'location-building-b-12-3');
    assert.equal(nameFromWords(deviceListWords(['dev-17', 'dev-2', 'dev-3'])), 'devices-dev-17-and-2-more');
    assert.equal(nameFromWords(deviceListWords(['Gateway_01'])), 'device-gateway-01');
  });

  it('cuts a long name to a label and keeps long selections apart by a hash', () => {
    const a = nameFromWords(['site', 'x'.repeat(100), 'a']);
    const b = nameFromWords(['site', 'x'.repeat(100), 'b']);
    assert.ok(a.length <= MAX_NAME_LENGTH && b.length <= MAX_NAME_LENGTH);
    assert.notEqual(a, b);
    assert.match(a, DNS_SUBDOMAIN);
  });

  it('names a selection with no letter or digit it can keep by a hash', () => {
    const name = nameFromWords(['東京', '']);
    assert.match(name, /^group-[0-9a-f]{8}$/);
    assert.match(name, DNS_SUBDOMAIN);
  });

  it('makes repeats unique in the order given, around reserved names', () => {
    assert.deepEqual(uniqueNames(['site-a', 'site-a', 'iothub', 'site-a-2'], ['iothub']), [
      'site-a',
      'site-a-2',
      'iothub-2',
      'site-a-2-2',
    ]);
    const long = 'x'.repeat(MAX_NAME_LENGTH);
    const [first, second] = uniqueNames([long, long]);
    assert.equal(first, long);
    assert.ok(second.length <= MAX_NAME_LENGTH && second.endsWith('-2'));
  });
});
