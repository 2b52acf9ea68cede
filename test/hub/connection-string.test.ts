import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { connectionSecret, parseHubConnectionString } from '../../src/hub/connection-string.js';
import { HubError } from '../../src/hub/errors.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
const GOOD = `HostName=contoso.azure-devices.net;SharedAccessKeyName=registryReadWrite;SharedAccessKey=${KEY}`;

function failure(text: string, now?: number): HubError {
  try {
    parseHubConnectionString(text, now);
  } catch (error) {
    assert.ok(error instanceof HubError, 'a HubError');
    assert.ok(!error.message.includes(KEY), 'the key is not in the message');
    return error;
  }
  throw new Error('expected the connection string to be refused');
}

describe('parseHubConnectionString', () => {
  it('reads the host, the policy and the key of a service connection string', () => {
    const parsed = parseHubConnectionString(GOOD);
    assert.deepEqual(parsed, {
      hostName: 'contoso.azure-devices.net',
      policyName: 'registryReadWrite',
      credential: 'key',
    });
    assert.equal(connectionSecret(parsed), KEY);
  });

  it('accepts a host with a port, for the emulator and private gateways', () => {
    assert.equal(
      parseHubConnectionString(GOOD.replace('contoso.azure-devices.net', 'localhost:8443')).hostName,
      'localhost:8443',
    );
  });

  it('keeps the key out of JSON, inspection and enumeration', () => {
    const parsed = parseHubConnectionString(GOOD);
    assert.ok(!JSON.stringify(parsed).includes(KEY));
    assert.ok(!inspect(parsed, { showHidden: true, depth: 5 }).includes(KEY));
  });

  it('refuses malformed strings with a Configuration error that says which part is wrong', () => {
    assert.match(failure('').message, /is empty/);
    assert.match(
      failure('HostName=contoso.azure-devices.net;registryReadWrite').message,
      /part 2 of 2 is not Name=value/,
    );
    assert.match(
      failure(`HostName=contoso.azure-devices.net;SharedAccessKeyName=p;${KEY}`).message,
      /SharedAccessKey is missing/,
    );
    assert.match(failure(`SharedAccessKeyName=p;SharedAccessKey=${KEY}`).message, /HostName is missing/);
    assert.match(
      failure(`HostName=https://contoso/;SharedAccessKeyName=p;SharedAccessKey=${KEY}`).message,
      /HostName is not a host name/,
    );
    assert.match(
      failure('HostName=contoso.azure-devices.net;SharedAccessKeyName=p').message,
      /hub contoso\.azure-devices\.net.*SharedAccessKey is missing for policy 'p'/,
    );
    assert.match(
      failure(`HostName=contoso.azure-devices.net;SharedAccessKey=${KEY}`).message,
      /SharedAccessKeyName/,
    );
    assert.match(
      failure('HostName=contoso.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=not base64!').message,
      /not a base64 key/,
    );
    assert.equal(failure('x').kind, 'Configuration');
  });

  it('explains that a device connection string is the wrong kind', () => {
    const error = failure(`HostName=contoso.azure-devices.net;DeviceId=d1;SharedAccessKey=${KEY}`);
    assert.match(error.message, /device connection string.*shared access policy/);
  });

  it('refuses a connection string whose own signature has expired, saying when', () => {
    const token =
      'SharedAccessSignature sr=contoso.azure-devices.net&sig=abc%3D&se=1577836800&skn=registryRead';
    const error = failure(
      `HostName=contoso.azure-devices.net;SharedAccessKeyName=registryRead;SharedAccessSignature=${token}`,
    );
    assert.equal(error.kind, 'Unauthorized');
    assert.match(error.message, /expired at 2020-01-01T00:00:00.000Z/);
    assert.doesNotMatch(error.message, /sig=/);
  });

  it('refuses a signature that is not a well-formed token, without echoing it', () => {
    const withToken = (token: string) =>
      `HostName=contoso.azure-devices.net;SharedAccessKeyName=registryRead;SharedAccessSignature=${token}`;
    const malformed = [
      // Two expiries: one reader could check the first, another the second.
      'SharedAccessSignature sr=contoso.azure-devices.net&sig=abc%3D&se=4102444800&skn=registryRead&se=1',
      // An empty signature.
      'SharedAccessSignature sr=contoso.azure-devices.net&sig=&se=4102444800&skn=registryRead',
      // A part that is not name=value.
      'SharedAccessSignature sr=contoso.azure-devices.net&garbage&sig=abc%3D&se=4102444800',
      // No resource.
      'SharedAccessSignature sig=abc%3D&se=4102444800&skn=registryRead',
      // An expiry that is not a whole number of seconds.
      'SharedAccessSignature sr=contoso.azure-devices.net&sig=abc%3D&se=4102444800.5&skn=registryRead',
      'sr=contoso.azure-devices.net&sig=abc%3D&se=4102444800&skn=registryRead',
    ];
    for (const token of malformed) {
      const error = failure(withToken(token));
      assert.equal(error.kind, 'Configuration', token);
      assert.match(error.message, /is not a token of the form/, token);
      assert.doesNotMatch(error.message, /abc%3D/);
    }
  });

  it('accepts a signature that is still valid and records its expiry', () => {
    const token =
      'SharedAccessSignature sr=contoso.azure-devices.net&sig=abc%3D&se=4102444800&skn=registryRead';
    const parsed = parseHubConnectionString(
      `HostName=contoso.azure-devices.net;SharedAccessKeyName=registryRead;SharedAccessSignature=${token}`,
    );
    assert.equal(parsed.credential, 'signature');
    assert.equal(parsed.expiresAt, 4102444800_000);
    // Fields in the order the SDK writes them, and an unencoded base64 signature with its '=' padding.
    const sdkOrder = 'SharedAccessSignature sr=localhost%3A8443&sig=a+b/c=&skn=registryRead&se=4102444800';
    assert.equal(
      parseHubConnectionString(
        `HostName=localhost:8443;SharedAccessKeyName=registryRead;SharedAccessSignature=${sdkOrder}`,
      ).expiresAt,
      4102444800_000,
    );
  });
});
