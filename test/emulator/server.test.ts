// The HTTPS front: which SAS audiences it accepts, the order of authorization and body reading, and how
// refusals are counted in the statistics.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  createSharedAccessSignature,
  type EmulatorStatsSnapshot,
  ownAudiences,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import {
  errorCodeOf,
  rawRequest,
  registryOf,
  rejectionOf,
  startHubEmulator,
} from '../support/emulator-requests.js';

const TWIN_PATH = '/twins/device-000001?api-version=2021-04-12';

function keyOf(emulator: RunningEmulator): string {
  return /SharedAccessKey=([^;]+)/.exec(emulator.connectionString)![1];
}

function tokenFor(emulator: RunningEmulator, resource: string, key = keyOf(emulator)): string {
  return createSharedAccessSignature({
    resource,
    keyName: 'iothubowner',
    key,
    expirySeconds: Math.floor(Date.now() / 1000) + 600,
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

/**
 * One request on a connection of its own to 127.0.0.1 (certificate checked for `localhost`), with any Host
 * header. With `declaredBytes`, it declares a body of that length, sends only `sentBytes` of it and never
 * finishes: the answer can only come from a server that does not wait for the body.
 */
function send(
  emulator: RunningEmulator,
  request: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    declaredBytes?: number;
    sentBytes?: number;
    /** A keep-alive agent instead of a connection that asks to be closed. */
    agent?: https.Agent;
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...request.headers };
    if (request.declaredBytes !== undefined) headers['Content-Length'] = String(request.declaredBytes);
    const outgoing = https.request({
      host: '127.0.0.1',
      port: emulator.port,
      servername: 'localhost',
      ca: emulator.caCert,
      agent: request.agent ?? false,
      method: request.method,
      path: request.path,
      headers,
    });
    let answered = false;
    const closed = new Promise<void>((resolveClosed) => outgoing.on('close', () => resolveClosed()));
    // The server may close the connection while the rest of the body is still unsent: not an error here.
    outgoing.on('error', (error) => {
      if (!answered) reject(error);
    });
    outgoing.on('response', (response) => {
      answered = true;
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, closed }),
      );
    });
    if (request.declaredBytes !== undefined) {
      outgoing.write(Buffer.alloc(request.sentBytes ?? 0, 0x20));
    } else {
      outgoing.end(request.body);
    }
  });
}

describe('the emulator server', () => {
  let emulator: RunningEmulator;

  before(async () => {
    emulator = await startHubEmulator({ devices: 2 });
  });
  after(() => emulator.close());
  beforeEach(() => emulator.hub.stats.reset());

  const stats = () => emulator.hub.stats.snapshot() as EmulatorStatsSnapshot;

  describe('SAS audiences', () => {
    it('refuses a token signed with the right key for another hub, even with that hub as the Host header', async () => {
      const evil = tokenFor(emulator, 'evil.azure-devices.net');
      const answer = await send(emulator, {
        method: 'GET',
        path: TWIN_PATH,
        headers: { Host: 'evil.azure-devices.net', Authorization: evil },
      });
      assert.equal(answer.status, 401);
      assert.equal(errorCodeOf(answer.text), 'IotHubUnauthorizedAccess');
    });

    it('refuses a token for the name a client put in its Host header, whatever that name is', async () => {
      const answer = await send(emulator, {
        method: 'GET',
        path: TWIN_PATH,
        headers: { Host: 'attacker:1', Authorization: tokenFor(emulator, 'attacker:1') },
      });
      assert.equal(answer.status, 401);
    });

    it('accepts tokens for its own names, whatever the Host header says', async () => {
      for (const resource of [
        emulator.hostName,
        `127.0.0.1:${emulator.port}`,
        `${emulator.hostName}/devices`,
      ]) {
        const answer = await send(emulator, {
          method: 'GET',
          path: TWIN_PATH,
          headers: { Host: 'evil.azure-devices.net', Authorization: tokenFor(emulator, resource) },
        });
        assert.equal(answer.status, 200, resource);
      }
    });

    it('names its own host names only: localhost, 127.0.0.1 and --host, each with the port', () => {
      assert.deepEqual(ownAudiences('127.0.0.1', 8443, 'localhost:8443'), [
        'localhost:8443',
        '127.0.0.1:8443',
      ]);
      assert.deepEqual(ownAudiences('0.0.0.0', 8443, 'localhost:8443'), ['localhost:8443', '127.0.0.1:8443']);
      assert.deepEqual(ownAudiences('hub.lab', 8443, 'hub.lab:8443'), [
        'hub.lab:8443',
        'localhost:8443',
        '127.0.0.1:8443',
      ]);
      assert.deepEqual(ownAudiences('fd00::5', 8443, '[fd00::5]:8443'), [
        '[fd00::5]:8443',
        'localhost:8443',
        '127.0.0.1:8443',
      ]);
    });
  });

  describe('authorization before the body', () => {
    it('answers an unauthenticated POST of a large body with 401 before the body is sent, and closes', {
      timeout: 20_000,
    }, async () => {
      const answer = await send(emulator, {
        method: 'POST',
        path: '/_emulator/devices',
        headers: { 'Content-Type': 'application/json' },
        declaredBytes: 32 * 1024 * 1024,
        sentBytes: 1024,
      });
      assert.equal(answer.status, 401);
      assert.equal(errorCodeOf(answer.text), 'IotHubUnauthorizedAccess');
      assert.equal(answer.headers.connection, 'close');
      await answer.closed;
      assert.deepEqual(stats().requests, { admin: { 401: 1 } });
    });

    it('answers 413 to an authorized body declared over the limit without reading it, and closes', {
      timeout: 20_000,
    }, async () => {
      const answer = await send(emulator, {
        method: 'PATCH',
        path: TWIN_PATH,
        headers: { 'Content-Type': 'application/json', Authorization: tokenFor(emulator, emulator.hostName) },
        declaredBytes: 300 * 1024,
        sentBytes: 16,
      });
      assert.equal(answer.status, 413);
      assert.equal(errorCodeOf(answer.text), 'MessageTooLarge');
      assert.equal(answer.headers.connection, 'close');
      await answer.closed;
    });

    it('stops reading a chunked body at the limit and answers 413', async () => {
      const answer = await send(emulator, {
        method: 'PATCH',
        path: TWIN_PATH,
        headers: { 'Content-Type': 'application/json', Authorization: tokenFor(emulator, emulator.hostName) },
        body: JSON.stringify({ tags: { big: 'x'.repeat(300 * 1024) } }),
      });
      assert.equal(answer.status, 413);
      assert.equal(errorCodeOf(answer.text), 'MessageTooLarge');
    });

    it('keeps the connection open after a refusal when there was no body to skip', async () => {
      const agent = new https.Agent({ keepAlive: true });
      try {
        const answer = await send(emulator, { method: 'GET', path: TWIN_PATH, agent });
        assert.equal(answer.status, 401);
        assert.equal(answer.headers.connection, 'keep-alive');
      } finally {
        agent.destroy();
      }
    });
  });

  describe('statistics', () => {
    it("counts a client's 401s under the operation class of the route it called", async () => {
      const wrongKey = Buffer.alloc(32, 1).toString('base64');
      const forged = emulator.connectionString.replace(
        /SharedAccessKey=[^;]+/,
        `SharedAccessKey=${wrongKey}`,
      );
      const registry = registryOf(emulator, forged);
      const update = await rejectionOf(registry.updateTwin('device-000001', { tags: { a: 1 } }, '*'));
      assert.equal(update.response?.statusCode, 401);
      await rejectionOf(registry.getTwin('device-000001'));
      await rejectionOf(registry.get('device-000001'));
      const snapshot = await rawRequest(emulator, { method: 'GET', path: '/_emulator/stats' });
      const requests = (snapshot.json as EmulatorStatsSnapshot).requests;
      assert.deepEqual(requests.twinUpdate, { 401: 1 });
      assert.deepEqual(requests.twinRead, { 401: 1 });
      assert.deepEqual(requests.registry, { 401: 1 });
      assert.equal(requests.unknown, undefined);
    });

    it('counts 413 and 400 refusals under the class too, and unknown routes as unknown', {
      timeout: 20_000,
    }, async () => {
      await send(emulator, {
        method: 'PATCH',
        path: TWIN_PATH,
        headers: { 'Content-Type': 'application/json', Authorization: tokenFor(emulator, emulator.hostName) },
        declaredBytes: 300 * 1024,
        sentBytes: 0,
      });
      await rawRequest(emulator, { method: 'GET', path: '/twins/device-000001' });
      await rawRequest(emulator, { method: 'GET', path: '/configurations?api-version=2021-04-12' });
      await rawRequest(emulator, {
        method: 'GET',
        path: '/configurations?api-version=2021-04-12',
        authorization: null,
      });
      assert.deepEqual(stats().requests, {
        twinUpdate: { 413: 1 },
        twinRead: { 400: 1 },
        unknown: { 401: 1, 404: 1 },
      });
    });
  });
});
