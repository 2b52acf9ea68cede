// A shared access key pasted without `SharedAccessKey=` (44 characters of base64 that decode to 32 bytes) is a
// secret to the redaction and to the suite's scan; base64 of other lengths and the emulator's etags and twins are
// not.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { redactSecrets, redactValue } from '../../src/observability/redact.js';
import { registryOf, startHubEmulator } from '../support/emulator-requests.js';
import { SecretScanner } from '../support/secret-scanner.js';

const KEY = randomBytes(32).toString('base64');

/** Where a bare key turns up: alone, in a Secret's data, a log line, an error message, JSON. */
const PLACES: { place: string; text: string }[] = [
  { place: 'a value alone', text: KEY },
  { place: 'a Secret value', text: JSON.stringify({ kind: 'Secret', stringData: { key: KEY } }) },
  { place: 'a log line', text: `level=info msg="rotated the key" key=${KEY} hub=h1` },
  { place: 'an error message', text: `Error: the key '${KEY}' was refused (401)` },
  { place: 'a line of its own', text: `first\n${KEY}\nlast` },
];

describe('bare shared access keys', () => {
  for (const { place, text } of PLACES) {
    it(`redacts a bare key in ${place}, and the suite's scanner finds it only unredacted`, () => {
      const out = redactSecrets(text);
      assert.ok(!out.includes(KEY), out);
      assert.match(out, /\[REDACTED\]/);
      const scanner = new SecretScanner();
      assert.deepEqual(
        scanner.scan('raw', text, { quote: false }).map((f) => f.replace(/ at .*/, '')),
        ['a bare 32-byte base64 key'],
      );
      assert.deepEqual(scanner.scan('redacted', out), []);
    });
  }

  it('leaves base64 of other lengths, UIDs, resourceVersions, tokens and certificate lines as they are', () => {
    const ordinary = [
      randomBytes(31).toString('base64'),
      randomBytes(33).toString('base64'),
      randomBytes(64).toString('base64'), // a storage account key's length: only redacted after AccountKey=
      randomBytes(32).toString('base64url'), // no padding: not how keys are written
      randomBytes(32).toString('hex'),
      randomUUID(),
      '184467',
      // A key's 44 characters inside a longer base64 run (a certificate's line, a JWT's part).
      `${KEY.slice(0, -1)}AAAA${KEY}`,
      `${randomBytes(48).toString('base64')}${KEY}`,
    ];
    for (const text of ordinary) {
      assert.equal(redactSecrets(text), text);
      assert.deepEqual(new SecretScanner().scan('ordinary', text), [], text);
    }
  });

  describe("the emulator's answers", () => {
    let emulator: RunningEmulator;
    let registry: Registry;
    before(async () => {
      emulator = await startHubEmulator({ devices: 3 });
      registry = registryOf(emulator);
    });
    after(() => emulator.close());

    it('keeps twins and their etags as they are (as the suite prints them)', async () => {
      await registry.updateTwin('device-000001', { tags: { site: 'lab' } }, '*');
      const twins = await Promise.all(['device-000001', 'device-000002'].map((id) => registry.getTwin(id)));
      const text = JSON.stringify(twins.map((t) => t.responseBody));
      assert.match(text, /"etag":"[A-Za-z0-9+/=]+"/);
      assert.equal(redactSecrets(text), text);
      assert.deepEqual(new SecretScanner().scan('twins', text), []);
    });

    it("redacts a device's keys in its identity, leaving its etag", async () => {
      const { responseBody: device } = await registry.get('device-000003');
      const key = device.authentication!.symmetricKey!.primaryKey!;
      assert.equal(Buffer.from(key, 'base64').length, 32);
      const redacted = redactValue(JSON.parse(JSON.stringify(device))) as typeof device;
      assert.equal(redacted.authentication!.symmetricKey!.primaryKey, '[REDACTED]');
      assert.equal(redacted.authentication!.symmetricKey!.secondaryKey, '[REDACTED]');
      assert.equal(redacted.etag, device.etag);
      assert.equal(redacted.deviceId, 'device-000003');
    });
  });
});
