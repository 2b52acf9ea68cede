// Cancelling a call whose request is in flight, over the real SDK and HTTPS: the caller gets 'Cancelled' at
// once, and the request's connection is closed rather than kept for the next request.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createCertificates, type EmulatorCertificates } from '../../src/emulator/certificates.js';
import { isHubError } from '../../src/hub/errors.js';
import { createHubClient, type HubClient } from '../../src/hub/hub-client.js';
import { HubRateLimiter } from '../../src/hub/rate-limiter.js';
import { rateLimitsFor } from '../../src/hub/rate-limits.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { until } from '../support/until.js';

const KEY = Buffer.alloc(32, 4).toString('base64');

describe('cancelling a hub call with its request in flight', () => {
  let certificates: EmulatorCertificates;
  let server: https.Server;
  let port: number;
  let connections = 0;
  /** The GET of device `hang`, once the server has received it (never answered). */
  let held: IncomingMessage | undefined;

  const answer = (request: IncomingMessage, response: ServerResponse) => {
    if (request.url?.startsWith('/twins/hang/')) {
      held = request;
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
    response.end(
      JSON.stringify({
        deviceId: 'ok',
        moduleId: 'azureiotsecurity',
        etag: 'AAAAAAAAAAE=',
        properties: { desired: { $version: 1 }, reported: { $version: 1 } },
      }),
    );
  };

  before(async () => {
    certificates = await createCertificates(['localhost', '127.0.0.1']);
    server = https.createServer({ key: certificates.serverKey, cert: certificates.serverCert }, answer);
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function client(): HubClient {
    const host = `localhost:${port}`;
    return createHubClient({
      connectionString: `HostName=${host};SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY}`,
      ca: certificates.caCert,
      tier: 'S1',
      units: 1,
      rateLimiter: new HubRateLimiter(host, rateLimitsFor(host, 'S1', 1)),
    });
  }

  it('rejects with Cancelled at once, closes the connection of the request, and reconnects for the next', async () => {
    const hub = client();
    try {
      assert.equal((await hub.readTwins(SECURITY_MODULE_ID, ['ok'], { consistent: true })).size, 1);
      assert.equal(connections, 1);

      const controller = new AbortController();
      const read = hub.readTwins(SECURITY_MODULE_ID, ['hang'], {
        consistent: true,
        abort: controller.signal,
      });
      read.catch(() => {});
      await until(() => held !== undefined, 5000, 'the request reaching the server');
      let closed = false;
      held!.socket.once('close', () => {
        closed = true;
      });
      controller.abort();
      await assert.rejects(read, (error) => isHubError(error, 'Cancelled'));
      await until(() => closed, 2000, 'closing the connection of the cancelled request');

      assert.equal((await hub.readTwins(SECURITY_MODULE_ID, ['ok'], { consistent: true })).size, 1);
      assert.equal(connections, 2, 'the next request opened a connection of its own');
    } finally {
      hub.close();
    }
  });
});
