// The shared parser of SAS tokens (src/protocol): the hub client reads connection strings with it, the
// emulator's verifier is meant to.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import iothub from 'azure-iothub';
import {
  parseSharedAccessSignature,
  sharedAccessSignatureExpiry,
} from '../../src/protocol/shared-access-signature.js';

const KEY = Buffer.alloc(32, 5).toString('base64');

describe('parseSharedAccessSignature', () => {
  it('reads the fields of a token as the SDK builds it, raw and in any order', () => {
    const token = iothub.SharedAccessSignature.create('localhost:8443', 'iothubowner', KEY, 1_700_000_000);
    const fields = parseSharedAccessSignature(token.toString());
    assert.ok(fields);
    assert.deepEqual(Object.keys(fields).sort(), ['se', 'sig', 'skn', 'sr']);
    assert.equal(fields.skn, 'iothubowner');
    assert.equal(fields.se, '1700000000');
    assert.equal(sharedAccessSignatureExpiry(fields), 1_700_000_000);
  });

  it('keeps values URL-encoded and splits each part at its first =', () => {
    assert.deepEqual(parseSharedAccessSignature('SharedAccessSignature sr=a%2Fb&sig=x+y/z==&se=1'), {
      sr: 'a%2Fb',
      sig: 'x+y/z==',
      se: '1',
    });
  });

  it('refuses what is not a token: no prefix, a part without a name, a name twice', () => {
    for (const text of [
      'sr=a&sig=b&se=1',
      'sharedaccesssignature sr=a&sig=b&se=1',
      'SharedAccessSignature sr=a&&se=1',
      'SharedAccessSignature =a&se=1',
      'SharedAccessSignature sr=a&novalue&se=1',
      'SharedAccessSignature sr=a&se=1&se=99999999999',
    ]) {
      assert.equal(parseSharedAccessSignature(text), undefined, text);
    }
  });

  it('gives a field named __proto__ as a field, not a prototype', () => {
    const fields = parseSharedAccessSignature('SharedAccessSignature __proto__=x&se=1');
    assert.ok(fields);
    assert.equal(Object.getPrototypeOf(fields), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(fields, '__proto__')?.value, 'x');
  });

  it('reads an expiry only when it is a whole number of seconds', () => {
    assert.equal(sharedAccessSignatureExpiry({ se: '42' }), 42);
    for (const se of ['', '-1', '1.5', '1e9', ' 1', '0x10']) {
      assert.equal(sharedAccessSignatureExpiry({ se }), undefined, se);
    }
    assert.equal(sharedAccessSignatureExpiry({}), undefined);
  });
});
