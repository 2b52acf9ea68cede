import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import iothub from 'azure-iothub';
import {
  createSharedAccessSignature,
  type SasCheck,
  verifySharedAccessSignature,
} from '../../src/emulator/sas-auth.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 9).toString('base64');
const NOW = 1_700_000_000;
const check: SasCheck = {
  policies: [{ keyName: 'iothubowner', primaryKey: KEY, secondaryKey: OTHER_KEY }],
  audiences: ['localhost:8443'],
  nowSeconds: NOW,
};

function token(
  overrides: Partial<{ resource: string; keyName: string; key: string; expirySeconds: number }> = {},
): string {
  return createSharedAccessSignature({
    resource: 'localhost:8443',
    keyName: 'iothubowner',
    key: KEY,
    expirySeconds: NOW + 3600,
    ...overrides,
  });
}

describe('shared access signatures', () => {
  it('accepts a token signed with the policy key over the URL-encoded resource and expiry', () => {
    const verdict = verifySharedAccessSignature(token(), check);
    assert.equal(verdict.ok, true);
  });

  it('accepts the token the azure-iothub SDK builds from a connection string', () => {
    const sdkToken = iothub.SharedAccessSignature.create(
      'localhost:8443',
      'iothubowner',
      KEY,
      NOW + 3600,
    ).toString();
    assert.equal(verifySharedAccessSignature(sdkToken, check).ok, true);
  });

  it('accepts a token signed with the secondary key', () => {
    assert.equal(verifySharedAccessSignature(token({ key: OTHER_KEY }), check).ok, true);
  });

  it('matches the resource case-insensitively and allows paths under the hub', () => {
    assert.equal(verifySharedAccessSignature(token({ resource: 'LOCALHOST:8443/devices' }), check).ok, true);
  });

  it('refuses a missing header', () => {
    assert.deepEqual(verifySharedAccessSignature(undefined, check), {
      ok: false,
      reason: 'no Authorization header',
    });
  });

  it('refuses a token signed with another key', () => {
    const verdict = verifySharedAccessSignature(
      token({ key: Buffer.alloc(32, 1).toString('base64') }),
      check,
    );
    assert.equal(verdict.ok, false);
    assert.match((verdict as { reason: string }).reason, /signature/);
  });

  it('refuses a token whose signature was edited', () => {
    const forged = token().replace(
      /sig=([^&]+)/,
      (_, sig: string) => `sig=${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`,
    );
    assert.equal(verifySharedAccessSignature(forged, check).ok, false);
  });

  it('refuses a token whose expiry was extended after signing', () => {
    const extended = token().replace(/se=\d+/, `se=${NOW + 7200}`);
    assert.equal(verifySharedAccessSignature(extended, check).ok, false);
  });

  it('refuses an expired token', () => {
    const verdict = verifySharedAccessSignature(token({ expirySeconds: NOW - 1 }), check);
    assert.equal(verdict.ok, false);
    assert.match((verdict as { reason: string }).reason, /expired/);
  });

  it('refuses a token for an unknown policy', () => {
    const verdict = verifySharedAccessSignature(token({ keyName: 'registryRead' }), check);
    assert.equal(verdict.ok, false);
    assert.match((verdict as { reason: string }).reason, /no policy named registryRead/);
  });

  it('refuses a token for another hub', () => {
    assert.equal(
      verifySharedAccessSignature(token({ resource: 'other.azure-devices.net' }), check).ok,
      false,
    );
  });

  it('refuses a header that is not a shared access signature', () => {
    assert.equal(verifySharedAccessSignature('Bearer abc', check).ok, false);
    assert.equal(verifySharedAccessSignature('SharedAccessSignature sr=x&se=1', check).ok, false);
  });
});
