import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFieldPath } from '../../src/validation/issues.js';
import { validateResource } from '../../src/validation/validate-resource.js';
import { validIotHub } from '../support/resources.js';

function errors(spec: Record<string, unknown>): string[] {
  const hub = validIotHub();
  hub.spec = spec;
  return validateResource(hub)
    .issues.filter((i) => i.severity === 'error')
    .map((i) => `${formatFieldPath(i.path)}: ${i.message}`);
}

const workload = { kind: 'WorkloadIdentity', tenantId: 't', clientId: 'c' };

describe("an IoTHub's credential kind", () => {
  it('accepts each kind with its own fields', () => {
    assert.deepEqual(errors({ connectionStringSecretRef: { name: 'cs' } }), []);
    assert.deepEqual(errors({ hostName: 'h.azure-devices.net', auth: workload }), []);
    assert.deepEqual(
      errors({
        hostName: 'h:8443',
        auth: { kind: 'ClientSecret', tenantId: 't', clientId: 'c', clientSecretRef: { name: 's' } },
      }),
      [],
    );
    assert.deepEqual(
      errors({
        hostName: 'h.azure-devices.net',
        auth: {
          kind: 'ClientCertificate',
          tenantId: 't',
          clientId: 'c',
          clientCertificateRef: { name: 'tls' },
        },
      }),
      [],
    );
    assert.deepEqual(errors({ hostName: 'h.azure-devices.net', auth: { kind: 'ManagedIdentity' } }), []);
  });

  it('requires the host name and refuses a connection string with an Entra ID kind', () => {
    assert.deepEqual(errors({ auth: workload, connectionStringSecretRef: { name: 'cs' } }), [
      "spec.hostName: is required with auth.kind WorkloadIdentity: the hub's host name, e.g. NAME.azure-devices.net",
      'spec.connectionStringSecretRef: is not used with auth.kind WorkloadIdentity: remove it (a hub is reached with one credential)',
    ]);
  });

  it("refuses a token file or an authority in the IoTHub: they are the operator's, or its author could send its token anywhere", () => {
    assert.deepEqual(
      errors({
        hostName: 'h.azure-devices.net',
        auth: {
          ...workload,
          tokenFilePath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
          authorityHost: 'https://attacker.example',
        },
      }),
      [
        "spec.auth.tokenFilePath: unknown field 'tokenFilePath'; expected one of kind, tenantId, clientId, clientSecretRef, clientCertificateRef",
        "spec.auth.authorityHost: unknown field 'authorityHost'; expected one of kind, tenantId, clientId, clientSecretRef, clientCertificateRef",
      ],
    );
  });

  it('names each field a kind needs and each it does not use', () => {
    assert.deepEqual(
      errors({
        hostName: 'h',
        auth: { kind: 'ClientSecret', clientId: 'c', clientCertificateRef: { name: 'tls' } },
      }),
      [
        'spec.auth.tenantId: is required with auth.kind ClientSecret',
        'spec.auth.clientSecretRef: is required with auth.kind ClientSecret',
        'spec.auth.clientCertificateRef: is not used with auth.kind ClientSecret: remove it',
      ],
    );
  });

  it('requires a connection string when no kind is given', () => {
    assert.deepEqual(errors({}), [
      'spec.connectionStringSecretRef: is required with a connection string (auth.kind ConnectionString, the default)',
    ]);
  });
});
