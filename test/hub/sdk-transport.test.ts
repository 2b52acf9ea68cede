import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import iothub from 'azure-iothub';
import { createCertificates, type EmulatorCertificates } from '../../src/emulator/certificates.js';
import { verifySharedAccessSignature } from '../../src/emulator/sas-auth.js';
import {
  jobClientFromConnectionString,
  registryFromConnectionString,
  splitHostPort,
  useHubAgent,
} from '../../src/hub/sdk-transport.js';
import { parseSharedAccessSignature } from '../../src/protocol/shared-access-signature.js';

const KEY = Buffer.alloc(32, 3).toString('base64');

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

describe('the azure-iothub transport', () => {
  let certificates: EmulatorCertificates;
  let server: https.Server;
  let port: number;
  const seen: Seen[] = [];

  before(async () => {
    certificates = await createCertificates(['localhost', '127.0.0.1']);
    server = https.createServer(
      { key: certificates.serverKey, cert: certificates.serverCert },
      (request, response) => {
        seen.push({ method: request.method!, url: request.url!, headers: request.headers });
        response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
        response.end(
          JSON.stringify({
            deviceId: 'sensor-1',
            jobId: 'job-1',
            etag: 'AAAAAAAAAAE=',
            properties: { desired: {}, reported: {} },
          }),
        );
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const connectionString = () =>
    `HostName=localhost:${port};SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY}`;

  it('sends a Registry call to the port in the HostName and trusts the given CA', async () => {
    const registry = registryFromConnectionString(connectionString(), { ca: certificates.caCert });
    const twin = await registry.getTwin('sensor-1');
    assert.equal(twin.responseBody.deviceId, 'sensor-1');
    const request = seen.at(-1)!;
    assert.equal(request.method, 'GET');
    assert.equal(request.url, '/twins/sensor-1?api-version=2021-04-12');
    assert.equal(request.headers.host, `localhost:${port}`);
    assert.match(
      String(request.headers.authorization),
      /^SharedAccessSignature sr=localhost:\d+&sig=[^&]+&skn=iothubowner&se=\d+$/,
    );
  });

  it('signs one token for many requests, valid for most of an hour, that the hub accepts', async () => {
    const registry = registryFromConnectionString(connectionString(), { ca: certificates.caCert });
    await registry.getTwin('sensor-1');
    await registry.getTwin('sensor-1');
    const [first, second] = seen.slice(-2).map((request) => String(request.headers.authorization));
    assert.equal(second, first);
    const nowSeconds = Math.floor(Date.now() / 1000);
    const verdict = verifySharedAccessSignature(first, {
      policies: [{ keyName: 'iothubowner', primaryKey: KEY, secondaryKey: KEY }],
      audiences: [`localhost:${port}`],
      nowSeconds,
    });
    assert.ok(verdict.ok, verdict.ok ? '' : verdict.reason);
    const expiry = Number(parseSharedAccessSignature(first)?.se);
    assert.ok(expiry - nowSeconds >= 55 * 60, `the token expires in ${expiry - nowSeconds} s`);
  });

  it('sends a JobClient call the same way', async () => {
    const jobs = jobClientFromConnectionString(connectionString(), { ca: certificates.caCert });
    const job = await jobs.getJob('job-1');
    assert.equal(job.jobStatus.jobId, 'job-1');
    assert.equal(seen.at(-1)!.url, '/jobs/v2/job-1?api-version=2021-04-12');
  });

  it('keeps certificate verification on: without the CA the call fails', async () => {
    const registry = registryFromConnectionString(connectionString());
    await assert.rejects(registry.getTwin('sensor-1'), /self[- ]signed certificate/);
  });

  it('fails the way the SDK does on its own without this module (ENOTFOUND for host:port)', async () => {
    const registry = iothub.Registry.fromConnectionString(connectionString());
    await assert.rejects(
      registry.getTwin('sensor-1'),
      (error: NodeJS.ErrnoException) => error.code === 'ENOTFOUND',
    );
  });

  it('still finds the private HTTP layer of Registry and JobClient (an SDK upgrade that moves it fails here)', () => {
    for (const client of [
      iothub.Registry.fromConnectionString(connectionString()),
      iothub.JobClient.fromConnectionString(connectionString()),
    ]) {
      const restApiClient = (client as unknown as { _restApiClient?: { setOptions?: unknown } })
        ._restApiClient;
      assert.equal(typeof restApiClient?.setOptions, 'function');
    }
    assert.throws(
      () => useHubAgent({} as never, new https.Agent()),
      /src\/hub\/sdk-transport.ts must be adapted/,
    );
  });

  it('splits host names with ports and leaves the others alone', () => {
    assert.deepEqual(splitHostPort('localhost:8443'), { host: 'localhost', port: 8443 });
    assert.deepEqual(splitHostPort('[::1]:8443'), { host: '::1', port: 8443 });
    assert.deepEqual(splitHostPort('myhub.azure-devices.net'), { host: 'myhub.azure-devices.net' });
  });
});
