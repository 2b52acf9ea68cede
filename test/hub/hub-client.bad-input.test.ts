// Bad connection input against the emulator: each mistake is one typed error that names the hub and the cause,
// is not retried, and never carries the key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSharedAccessSignature, type RunningEmulator } from '../../src/emulator/index.js';
import { HubError } from '../../src/hub/errors.js';
import { createHubClient } from '../../src/hub/hub-client.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { emulatorClient, startHubEmulator } from '../support/emulator-support.js';

const OTHER_KEY = Buffer.from('a-key-that-is-not-the-hubs-key!!').toString('base64');

async function failureOf(promise: Promise<unknown>): Promise<HubError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HubError, `a HubError, not ${String(error)}`);
    return error;
  }
  throw new Error('expected the call to fail');
}

function keyOf(emulator: RunningEmulator): string {
  return /SharedAccessKey=([^;]+)/.exec(emulator.connectionString)![1];
}

describe('HubClient with bad connection input', () => {
  let emulator: RunningEmulator;

  before(async () => {
    emulator = await startHubEmulator({ devices: 3 });
  });

  after(async () => {
    await emulator?.close();
  });

  it('names the hub and the policy when the key is wrong, once, without the key', async () => {
    emulator.hub.stats.reset();
    const client = emulatorClient(emulator, {
      connectionString: emulator.connectionString.replace(keyOf(emulator), OTHER_KEY),
    });
    const error = await failureOf(client.verifyAccess());
    client.close();
    assert.equal(error.kind, 'Unauthorized');
    assert.equal(error.statusCode, 401);
    assert.match(error.message, new RegExp(`on hub ${emulator.hostName}`));
    assert.match(error.message, /policy 'iothubowner'.*key is wrong/);
    assert.ok(!error.message.includes(OTHER_KEY) && !error.message.includes(keyOf(emulator)));
    assert.equal(client.telemetry.snapshot().twinRead.attempts, 1, 'a 401 is not retried');
    assert.equal(emulator.hub.stats.snapshot().totalRequests, 1);
  });

  it('says a policy may have been deleted or revoked when the hub does not know it', async () => {
    const client = emulatorClient(emulator, {
      connectionString: emulator.connectionString.replace(
        'SharedAccessKeyName=iothubowner',
        'SharedAccessKeyName=revokedPolicy',
      ),
    });
    const error = await failureOf(client.readSnapshot([SECURITY_MODULE_ID]));
    client.close();
    assert.equal(error.kind, 'Unauthorized');
    assert.match(error.message, /policy 'revokedPolicy'.*deleted or its keys regenerated \(revoked\)/);
  });

  it('refuses an expired signature in the connection string before calling the hub', () => {
    const token = createSharedAccessSignature({
      resource: emulator.hostName,
      keyName: 'iothubowner',
      key: keyOf(emulator),
      expirySeconds: Math.floor(Date.now() / 1000) - 60,
    });
    assert.throws(
      () =>
        emulatorClient(emulator, {
          connectionString: `HostName=${emulator.hostName};SharedAccessKeyName=iothubowner;SharedAccessSignature=${token}`,
        }),
      (error) =>
        error instanceof HubError &&
        error.kind === 'Unauthorized' &&
        /expired at/.test(error.message) &&
        error.message.includes(emulator.hostName) &&
        !/sig=/.test(error.message),
    );
  });

  it('works with a signature in the connection string while it is valid', async () => {
    const token = createSharedAccessSignature({
      resource: emulator.hostName,
      keyName: 'iothubowner',
      key: keyOf(emulator),
      expirySeconds: Math.floor(Date.now() / 1000) + 600,
    });
    const client = emulatorClient(emulator, {
      connectionString: `HostName=${emulator.hostName};SharedAccessKeyName=iothubowner;SharedAccessSignature=${token}`,
    });
    await client.verifyAccess();
    assert.equal((await client.readTwins(SECURITY_MODULE_ID, ['device-000001'])).size, 1);
    client.close();
  });

  it('names the host that does not resolve, without retrying', async () => {
    const client = emulatorClient(emulator, {
      connectionString: emulator.connectionString.replace(emulator.hostName, 'no-such-hub.invalid'),
    });
    const error = await failureOf(client.verifyAccess());
    client.close();
    assert.equal(error.kind, 'Configuration');
    assert.equal(error.networkCode, 'ENOTFOUND');
    assert.match(error.message, /host name no-such-hub\.invalid does not resolve/);
    assert.equal(client.telemetry.snapshot().twinRead.attempts, 1);
  });

  it('asks for the CA when the hub certificate is not trusted, and never turns verification off', async () => {
    const client = emulatorClient(emulator, { ca: undefined });
    const error = await failureOf(client.verifyAccess());
    client.close();
    assert.equal(error.kind, 'Configuration');
    assert.match(error.message, /TLS certificate is not trusted.*CA bundle/);
  });

  it('gives up on a port where nothing listens with a Transient error after its retries', async () => {
    const client = emulatorClient(emulator, {
      connectionString: emulator.connectionString.replace(emulator.hostName, 'localhost:1'),
      retry: { maxAttempts: 3, baseMs: 1, maxMs: 5 },
    });
    const error = await failureOf(client.verifyAccess());
    client.close();
    assert.equal(error.kind, 'Transient');
    assert.equal(error.networkCode, 'ECONNREFUSED');
    assert.equal(client.telemetry.snapshot().twinRead.attempts, 3);
  });

  it('refuses a malformed connection string when the client is created', () => {
    assert.throws(
      () =>
        createHubClient({
          connectionString: `HostName=${emulator.hostName};SharedAccessKeyName=iothubowner`,
          tier: 'S1',
          units: 1,
        }),
      (error) =>
        error instanceof HubError &&
        error.kind === 'Configuration' &&
        /SharedAccessKey is missing/.test(error.message),
    );
  });
});
