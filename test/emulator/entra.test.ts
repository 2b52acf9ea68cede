// The emulator playing Microsoft Entra ID and the hub's Azure RBAC, through the real @azure/identity (MSAL node)
// and azure-iothub: each grant the credentials send, the authority's refusals with their AADSTS codes, 401 and
// 401 IotHubUnauthorized (no assigned permissions) on the hub's API per operation, and local authentication disabled.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
} from '@azure/identity';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { rawRequest, registryOf, rejectionOf, startHubEmulator } from '../support/emulator-requests.js';
import {
  authorityOptions,
  clientCertificate,
  clientSecret,
  TENANT,
  tokenRegistry,
} from '../support/entra.js';

const DEVICE = 'device-000001';
const SCOPE = 'https://iothubs.azure.net/.default';

describe('the emulator as Microsoft Entra ID and the hub RBAC', () => {
  let emulator: RunningEmulator;
  const secret = clientSecret();
  let certificate: { certificate: string; privateKey: string };
  let offset = 0;

  before(async () => {
    certificate = await clientCertificate();
    emulator = await startHubEmulator({
      devices: 2,
      // Real time, moved forward when a test needs a token to have expired.
      clock: { now: () => Date.now() + offset },
      entra: {
        tenantId: TENANT,
        applications: [
          { clientId: 'twin-app', secrets: [secret] },
          { clientId: 'reader-app', secrets: [secret] },
          { clientId: 'cert-app', certificates: [certificate.certificate] },
        ],
        managedIdentities: [{ clientId: 'mi-client' }],
        roleAssignments: {
          'twin-app': ['IoT Hub Twin Contributor'],
          'reader-app': ['IoT Hub Data Reader'],
          'cert-app': ['IoT Hub Data Contributor'],
          'mi-client': ['IoT Hub Data Contributor'],
        },
      },
    });
  });
  after(() => emulator.close());

  const secretCredential = (clientId: string, value = secret) =>
    new ClientSecretCredential(TENANT, clientId, value, authorityOptions(emulator));

  it('serves the OpenID configuration MSAL reads and the keys its tokens are signed with', async () => {
    const config = await rawRequest(emulator, {
      method: 'GET',
      path: `/${TENANT}/v2.0/.well-known/openid-configuration`,
      authorization: null,
    });
    assert.equal(config.status, 200);
    const document = config.json as Record<string, string>;
    assert.equal(document.token_endpoint, `${emulator.endpoint}/${TENANT}/oauth2/v2.0/token`);
    const keys = await rawRequest(emulator, {
      method: 'GET',
      path: new URL(document.jwks_uri).pathname,
      authorization: null,
    });
    assert.equal((keys.json as { keys: { kty: string }[] }).keys[0].kty, 'RSA');
  });

  it('gives a client secret an access token the hub takes for what its role allows', async () => {
    const registry = tokenRegistry(emulator, secretCredential('twin-app'));
    const twin = await registry.getTwin(DEVICE);
    assert.equal(twin.responseBody.deviceId, DEVICE);
    await registry.updateTwin(DEVICE, { tags: { entra: 'yes' } }, '*');
    const query = registry.createQuery('SELECT * FROM devices', 10);
    assert.ok((await query.nextAsTwin()).result.length > 0);
  });

  it('answers a role that does not grant the call as Azure IoT Hub does: 401 IotHubUnauthorized, no assigned permissions', async () => {
    const status = (error: unknown) => (error as { response?: { statusCode?: number } }).response?.statusCode;
    const body = (error: unknown) => String((error as { responseBody?: string }).responseBody);
    const registry = tokenRegistry(emulator, secretCredential('twin-app'));
    const error = await rejectionOf(registry.get(DEVICE));
    assert.equal(status(error), 401);
    assert.match(
      body(error),
      new RegExp(
        `ErrorCode:IotHubUnauthorized;Principal \\S+ is not authorized for GET on /devices/${DEVICE} due to no assigned permissions`,
      ),
    );
    const reader = tokenRegistry(emulator, secretCredential('reader-app'));
    await reader.getTwin(DEVICE);
    const write = await rejectionOf(reader.updateTwin(DEVICE, { tags: { entra: 'no' } }, '*'));
    assert.equal(status(write), 401);
    assert.match(
      body(write),
      new RegExp(`not authorized for PATCH on /twins/${DEVICE} due to no assigned permissions`),
    );
  });

  it('applies a role removed to tokens already issued, as Azure RBAC is evaluated at the hub', async () => {
    const registry = tokenRegistry(emulator, secretCredential('reader-app'));
    await registry.getTwin(DEVICE);
    emulator.entra!.directory.assignRoles('reader-app', []);
    try {
      const error = await rejectionOf(registry.getTwin(DEVICE));
      assert.match(
        String((error as { responseBody?: string }).responseBody),
        /due to no assigned permissions/,
      );
    } finally {
      emulator.entra!.directory.assignRoles('reader-app', ['IoT Hub Data Reader']);
    }
  });

  it('refuses a wrong client secret with AADSTS7000215 and an unknown app with AADSTS700016', async () => {
    const wrong = await rejectionOf(secretCredential('twin-app', 'not-the-secret').getToken(SCOPE));
    assert.match((wrong as Error).message, /AADSTS7000215/);
    const unknown = await rejectionOf(secretCredential('no-such-app').getToken(SCOPE));
    assert.match((unknown as Error).message, /AADSTS700016/);
  });

  it('takes an assertion signed with a registered certificate, and refuses one it does not know', async () => {
    const credential = new ClientCertificateCredential(
      TENANT,
      'cert-app',
      { certificate: `${certificate.privateKey}\n${certificate.certificate}` },
      authorityOptions(emulator),
    );
    const registry = tokenRegistry(emulator, credential);
    assert.equal((await registry.get(DEVICE)).responseBody.deviceId, DEVICE);
    const other = await clientCertificate();
    const stranger = new ClientCertificateCredential(
      TENANT,
      'cert-app',
      { certificate: `${other.privateKey}\n${other.certificate}` },
      authorityOptions(emulator),
    );
    assert.match(((await rejectionOf(stranger.getToken(SCOPE))) as Error).message, /AADSTS700027/);
  });

  it('serves a managed identity through the App Service identity endpoint', async () => {
    const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };
    process.env.IDENTITY_ENDPOINT = `${emulator.endpoint}/_entra/managed-identity`;
    process.env.IDENTITY_HEADER = emulator.entra!.identityHeader;
    try {
      const credential = new ManagedIdentityCredential({
        clientId: 'mi-client',
        ...authorityOptions(emulator),
      });
      const registry = tokenRegistry(emulator, credential);
      assert.equal((await registry.getTwin(DEVICE)).responseBody.deviceId, DEVICE);
    } finally {
      for (const [name, value] of [
        ['IDENTITY_ENDPOINT', saved.endpoint],
        ['IDENTITY_HEADER', saved.header],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('answers 401 to a bearer token that is not its own or has expired', async () => {
    const path = `/twins/${DEVICE}?api-version=2021-04-12`;
    const forged = await rawRequest(emulator, { method: 'GET', path, authorization: 'Bearer e30.e30.c2ln' });
    assert.equal(forged.status, 401);
    const { token } = (await secretCredential('twin-app').getToken(SCOPE))!;
    assert.equal(
      (await rawRequest(emulator, { method: 'GET', path, authorization: `Bearer ${token}` })).status,
      200,
    );
    offset = 2 * 3600_000;
    try {
      const expired = await rawRequest(emulator, { method: 'GET', path, authorization: `Bearer ${token}` });
      assert.equal(expired.status, 401);
      assert.match(expired.text, /IotHubUnauthorizedAccess/);
    } finally {
      offset = 0;
    }
  });

  it('refuses shared access signatures on the hub API once local authentication is disabled', async () => {
    await registryOf(emulator).getTwin(DEVICE);
    emulator.setLocalAuthentication(false);
    try {
      const error = await rejectionOf(registryOf(emulator).getTwin(DEVICE));
      assert.equal((error as { response?: { statusCode?: number } }).response?.statusCode, 401);
      assert.match(
        String((error as { responseBody?: string }).responseBody),
        /local authentication .* is disabled/,
      );
      const registry = tokenRegistry(emulator, secretCredential('twin-app'));
      assert.equal((await registry.getTwin(DEVICE)).responseBody.deviceId, DEVICE);
      // The emulator's own admin API still takes the owner's signature.
      assert.equal((await rawRequest(emulator, { method: 'GET', path: '/_emulator/info' })).status, 200);
    } finally {
      emulator.setLocalAuthentication(true);
    }
  });
});
