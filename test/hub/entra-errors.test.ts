// The hub client's errors when it reaches a hub with a Microsoft Entra ID credential: a 403 names the role for
// the call's data action; a credential that gives no token says whether the token file or the authority is why.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ErrorContext, toHubError } from '../../src/hub/errors.js';
import { isRetryable } from '../../src/hub/retry.js';

const context: ErrorContext = {
  hubName: 'contoso.azure-devices.net',
  action: 'patching the module twin of device d1',
  credential: 'workload identity 3f1e of tenant 72f9',
  dataAction: 'Microsoft.Devices/IotHubs/twins/write',
};

function identityError(name: string, message: string) {
  return Object.assign(new Error(message), { name });
}

describe('errors of a hub reached with Microsoft Entra ID', () => {
  it('turns a 403 IotHubUnauthorizedAccess into Forbidden naming the data action and the role to assign', () => {
    const body = JSON.stringify({
      Message: 'ErrorCode:IotHubUnauthorizedAccess;Principal x is not authorized',
    });
    const error = toHubError(
      Object.assign(new Error('x'), { response: { statusCode: 403, headers: {} }, responseBody: body }),
      context,
    );
    assert.equal(error.kind, 'Forbidden');
    assert.equal(error.roleToAssign, 'IoT Hub Twin Contributor');
    assert.match(error.message, /twins\/write.*'IoT Hub Twin Contributor'/);
    assert.equal(isRetryable(error), false);
  });

  it("turns Azure IoT Hub's 401 for an identity without the role (no assigned permissions) into Forbidden naming the role", () => {
    const body = JSON.stringify({
      Message:
        'ErrorCode:IotHubUnauthorized;Principal 3f1e is not authorized for PATCH on /twins/d1/modules/azureiotsecurity due to no assigned permissions',
      ExceptionMessage: 'Tracking ID:abc-G:10-TimeStamp:06/10/2026 13:41:24',
    });
    const error = toHubError(
      Object.assign(new Error('x'), { response: { statusCode: 401, headers: {} }, responseBody: body }),
      context,
    );
    assert.equal(error.kind, 'Forbidden');
    assert.equal(error.roleToAssign, 'IoT Hub Twin Contributor');
    assert.match(
      error.message,
      /\(401 IotHubUnauthorized\).*assign it the role 'IoT Hub Twin Contributor'.*no assigned permissions/,
    );
    // A 401 that is not about roles is the credential refused, as before.
    const refused = toHubError(
      Object.assign(new Error('x'), {
        response: { statusCode: 401, headers: {} },
        responseBody: JSON.stringify({ Message: 'ErrorCode:IotHubUnauthorizedAccess;Unauthorized' }),
      }),
      context,
    );
    assert.equal(refused.kind, 'Unauthorized');
  });

  it('says the token file cannot be read', () => {
    const error = toHubError(
      identityError(
        'AuthenticationRequiredError',
        "ENOENT: no such file or directory, open '/var/run/token'",
      ),
      context,
    );
    assert.equal(error.kind, 'CredentialRefused');
    assert.equal(error.credentialProblem, 'TokenFileUnreadable');
    assert.match(error.message, /ENOENT.*AZURE_FEDERATED_TOKEN_FILE/);
  });

  it("keeps the authority's AADSTS code and text, without its trace and correlation ids", () => {
    const message =
      "invalid_client: Error(s): 700212 - Timestamp: 2026-01-01 00:00:00Z - Description: AADSTS700212: No matching federated identity record found for presented assertion audience 'x'. Trace ID: 1234 Correlation ID: 5678 Timestamp: 2026-01-01";
    const error = toHubError(identityError('AuthenticationRequiredError', message), context);
    assert.equal(error.credentialProblem, 'AuthorityRefused');
    assert.match(error.message, /refused workload identity 3f1e of tenant 72f9: AADSTS700212: No matching/);
    assert.doesNotMatch(error.message, /Trace ID|Correlation ID/);
  });

  it('treats an authority that does not answer as transient', () => {
    const error = toHubError(
      identityError('CredentialUnavailableError', 'endpoints_resolution_error'),
      context,
    );
    assert.equal(error.kind, 'Transient');
  });

  it('explains a 401 by the token, not by a shared access policy', () => {
    const error = toHubError(
      Object.assign(new Error('x'), { response: { statusCode: 401, headers: {} }, responseBody: '' }),
      context,
    );
    assert.equal(error.kind, 'Unauthorized');
    assert.match(error.message, /Microsoft Entra ID token of workload identity/);
  });
});
