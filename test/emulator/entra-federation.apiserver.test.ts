// Workload identity as Entra plays it with a cluster: a ServiceAccount token from the real API server's
// TokenRequest API, exchanged by @azure/identity's WorkloadIdentityCredential at the emulator's authority, which
// checks it against the API server's own discovery document and keys, the audience, the expiry and the
// federated credential's subject.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkloadIdentityCredential } from '@azure/identity';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { rejectionOf, startHubEmulator } from '../support/emulator-requests.js';
import { authorityOptions, clusterIssuer, federatedToken, TENANT, tokenRegistry } from '../support/entra.js';

const cp = await sharedControlPlane();
const CLIENT_ID = 'b4a1c3d2-0000-4000-8000-0000000000aa';
const SCOPE = 'https://iothubs.azure.net/.default';

describe('a federated ServiceAccount token exchanged at the emulated Entra ID', () => {
  let emulator: RunningEmulator;
  let namespace: string;
  let offset = 0;
  const folder = mkdtempSync(join(tmpdir(), 'entra-federation-'));

  const credentialFor = (token: string) => {
    const path = join(folder, `token-${Math.random().toString(36).slice(2)}`);
    writeFileSync(path, token, { mode: 0o600 });
    return new WorkloadIdentityCredential({
      tenantId: TENANT,
      clientId: CLIENT_ID,
      tokenFilePath: path,
      ...authorityOptions(emulator),
    });
  };

  before(async () => {
    namespace = await testNamespace(cp, 'entra-federation');
    const issuer = await clusterIssuer(cp);
    emulator = await startHubEmulator({
      devices: 1,
      localAuthentication: false,
      clock: { now: () => Date.now() + offset },
      entra: {
        tenantId: TENANT,
        trustedIssuers: [issuer],
        applications: [
          {
            clientId: CLIENT_ID,
            federatedCredentials: [
              { issuer: issuer.issuer, subject: `system:serviceaccount:${namespace}:operator` },
            ],
          },
        ],
        roleAssignments: { [CLIENT_ID]: ['IoT Hub Twin Contributor'] },
      },
    });
  });
  after(() => emulator?.close());

  it('reaches a hub without local authentication with the token of the federated ServiceAccount', async () => {
    const registry = tokenRegistry(emulator, credentialFor(await federatedToken(cp, namespace, 'operator')));
    assert.equal((await registry.getTwin('device-000001')).responseBody.deviceId, 'device-000001');
  });

  it('refuses another ServiceAccount of the cluster with AADSTS70021 naming its subject', async () => {
    const credential = credentialFor(await federatedToken(cp, namespace, 'someone-else'));
    const error = await rejectionOf(credential.getToken(SCOPE));
    assert.match(error.message, /AADSTS70021/);
    assert.match(error.message, new RegExp(`system:serviceaccount:${namespace}:someone-else`));
  });

  it('refuses a token for another audience with AADSTS700212', async () => {
    const token = await federatedToken(cp, namespace, 'operator', {
      audience: 'https://kubernetes.default.svc',
    });
    const error = await rejectionOf(credentialFor(token).getToken(SCOPE));
    assert.match(error.message, /AADSTS700212/);
  });

  it('refuses an expired token with AADSTS700024', async () => {
    const credential = credentialFor(await federatedToken(cp, namespace, 'operator', { duration: '10m' }));
    offset = 3600_000;
    try {
      const error = await rejectionOf(credential.getToken(SCOPE));
      assert.match(error.message, /AADSTS700024/);
    } finally {
      offset = 0;
    }
  });
});
