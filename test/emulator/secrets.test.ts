// The policy keys and the device key secret: reproducible only from a seed the caller chose.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { randomBytes, streamFor } from '../../src/emulator/prng.js';

/** The keys a seed would give if keys were derived from it (three 32-byte draws of its `secrets` stream). */
function keysFromSeed(seed: number): string[] {
  const random = streamFor(seed, 'secrets');
  return [0, 1, 2].map(() => randomBytes(random, 32).toString('base64'));
}

function keysOf(emulator: RunningEmulator): string[] {
  const { policies, keySecret } = emulator.hub.secrets;
  return [policies[0].primaryKey, policies[0].secondaryKey, keySecret];
}

describe('emulator secrets', () => {
  it('does not derive the keys of an emulator started without a seed from the seed it reports (and logs)', async () => {
    const emulator = await startEmulator({ throttle: false });
    try {
      const derived = keysFromSeed(emulator.seed);
      const keys = keysOf(emulator);
      for (let i = 0; i < keys.length; i++) assert.notEqual(keys[i], derived[i]);
      assert.match(
        emulator.connectionString,
        new RegExp(`SharedAccessKey=${keys[0].replace(/[+/]/g, '\\$&')}$`),
      );
      assert.equal(Buffer.from(keys[0], 'base64').length, 32);
    } finally {
      await emulator.close();
    }
  });

  it('keeps the keys reproducible from a seed given explicitly', async () => {
    const first = await startEmulator({ seed: 1234, throttle: false });
    const second = await startEmulator({ seed: 1234, throttle: false });
    try {
      assert.deepEqual(keysOf(first), keysFromSeed(1234));
      assert.deepEqual(keysOf(second), keysOf(first));
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
