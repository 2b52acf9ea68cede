import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ErrorContext, parseHubErrorBody, toHubError } from '../../src/hub/errors.js';
import { DEFAULT_RETRY, isRetryable, retryDelayMs } from '../../src/hub/retry.js';

const context: ErrorContext = {
  hubName: 'contoso.azure-devices.net',
  action: 'patching the module twin of device d1',
  policyName: 'registryReadWrite',
};

/** An error as azure-iothub's RestApiClient.translateError builds it. */
function sdkError(statusCode: number, body: string, headers: Record<string, string> = {}) {
  return Object.assign(new Error('sdk message'), { response: { statusCode, headers }, responseBody: body });
}

const hubBody = (code: string, text: string) =>
  JSON.stringify({
    Message: `ErrorCode:${code};${text}`,
    ExceptionMessage: 'Tracking ID:abc-G:0-TimeStamp:01/01/2025 00:00:00',
  });

describe('parseHubErrorBody', () => {
  it('reads the ErrorCode:<name>;<text> message the SDK parses, with the code number', () => {
    assert.deepEqual(parseHubErrorBody(hubBody('PreconditionFailed', 'etag mismatch')), {
      name: 'PreconditionFailed',
      text: 'etag mismatch',
      code: 412001,
    });
  });

  it('reads a message that is itself JSON with a numeric errorCode', () => {
    const body = JSON.stringify({
      Message: JSON.stringify({
        errorCode: 429001,
        trackingId: 'x',
        message: 'Throttled',
        timestampUtc: 'now',
      }),
      ExceptionMessage: '',
    });
    assert.deepEqual(parseHubErrorBody(body), {
      code: 429001,
      name: 'ThrottlingException',
      text: 'Throttled',
    });
  });

  it('reads a top-level ErrorCode and survives bodies that are not JSON', () => {
    assert.equal(parseHubErrorBody('{"ErrorCode":"DeviceNotFound","Message":"gone"}').code, 404001);
    assert.deepEqual(parseHubErrorBody('<html>bad gateway</html>'), {});
    assert.deepEqual(parseHubErrorBody(undefined), {});
  });
});

describe('toHubError', () => {
  it('maps a 412 to PreconditionFailed with the hub code, naming the hub and the action', () => {
    const error = toHubError(sdkError(412, hubBody('PreconditionFailed', 'Precondition failed')), context);
    assert.equal(error.kind, 'PreconditionFailed');
    assert.equal(error.statusCode, 412);
    assert.equal(error.hubErrorCode, 412001);
    assert.equal(
      error.message,
      'patching the module twin of device d1 on hub contoso.azure-devices.net failed (412 PreconditionFailed): Precondition failed',
    );
  });

  it('maps statuses to kinds', () => {
    const kinds = [400, 401, 403, 404, 408, 409, 412, 429, 500, 503].map(
      (status) => toHubError(sdkError(status, ''), context).kind,
    );
    assert.deepEqual(kinds, [
      'InvalidArgument',
      'Unauthorized',
      'InvalidArgument',
      'NotFound',
      'Transient',
      'PreconditionFailed',
      'PreconditionFailed',
      'Throttled',
      'Transient',
      'Transient',
    ]);
    assert.equal(
      toHubError(sdkError(403, hubBody('IotHubQuotaExceeded', 'daily quota')), context).kind,
      'Throttled',
    );
  });

  it('carries the Retry-After of a 429', () => {
    const error = toHubError(
      sdkError(429, hubBody('ThrottlingException', 'slow down'), { 'retry-after': '2' }),
      context,
    );
    assert.equal(error.retryAfterMs, 2000);
    assert.equal(error.hubErrorCode, 429001);
  });

  it('measures an HTTP-date Retry-After from the clock in the context, not the system clock', () => {
    const now = Date.parse('2000-01-01T00:00:00Z');
    const error = toHubError(
      sdkError(429, hubBody('ThrottlingException', 'slow down'), {
        'retry-after': 'Sat, 01 Jan 2000 00:00:05 GMT',
      }),
      { ...context, clock: { now: () => now } },
    );
    assert.equal(error.retryAfterMs, 5000);
  });

  it('maps too many modules on a device (413003) to a final InvalidArgument that says what to do', () => {
    const error = toHubError(
      sdkError(413, hubBody('TooManyModulesOnDevice', 'Device d1 has reached the maximum of 50 modules')),
      { ...context, action: 'creating the azureiotsecurity module of device d1' },
    );
    assert.equal(error.kind, 'InvalidArgument');
    assert.equal(error.hubErrorName, 'TooManyModulesOnDevice');
    assert.equal(isRetryable(error), false);
    assert.equal(retryDelayMs(error, 1, DEFAULT_RETRY), undefined);
    assert.match(
      error.message,
      /^creating the azureiotsecurity module of device d1 on hub contoso\.azure-devices\.net failed \(413 TooManyModulesOnDevice\): the device already has the most modules .*remove a module it no longer uses.*retrying will not help/,
    );
    assert.match(error.message, /the hub said: Device d1 has reached the maximum of 50 modules/);
  });

  it('explains too many modules from a body that gives only the number 413003', () => {
    const error = toHubError(
      sdkError(413, JSON.stringify({ ErrorCode: 413003, Message: 'too many' })),
      context,
    );
    assert.deepEqual(
      [error.kind, error.hubErrorName, error.hubErrorCode],
      ['InvalidArgument', 'TooManyModulesOnDevice', 413003],
    );
    assert.match(error.message, /already has the most modules/);
  });

  it('maps the daily quota (403002) to Throttled that is not retried, and says it lasts the UTC day', () => {
    // The shape of a real hub's answer: the message is itself JSON, with the number only.
    const body = JSON.stringify({
      Message: JSON.stringify({
        errorCode: 403002,
        trackingId: 'x',
        message: "Total number of messages on IotHub 'contoso' exceeded the allocated quota.",
        timestampUtc: '2019-12-12T12:36:43Z',
      }),
      ExceptionMessage: '',
    });
    const error = toHubError(sdkError(403, body), context);
    assert.deepEqual([error.kind, error.statusCode, error.hubErrorCode], ['Throttled', 403, 403002]);
    assert.equal(isRetryable(error), false);
    assert.equal(retryDelayMs(error, 1, DEFAULT_RETRY), undefined);
    assert.match(error.message, /\(403 IotHubQuotaExceeded\): the hub's daily message quota is used up/);
    assert.match(error.message, /next UTC day \(00:00 UTC\), or add units/);
    assert.match(error.message, /the hub said: Total number of messages/);
    assert.match(error.message, /not retried/);
  });

  it('explains a 401 by the policy and its possible causes, never with the key', () => {
    const error = toHubError(sdkError(401, hubBody('IotHubUnauthorizedAccess', 'Unauthorized')), context);
    assert.equal(error.kind, 'Unauthorized');
    assert.match(error.message, /contoso\.azure-devices\.net/);
    assert.match(error.message, /policy 'registryReadWrite'/);
    assert.match(error.message, /key is wrong.*deleted or its keys regenerated/);
  });

  it('says when the connection string carried a signature that has expired', () => {
    const error = toHubError(sdkError(401, ''), {
      ...context,
      credentialExpiresAt: Date.parse('2020-01-01T00:00:00Z'),
    });
    assert.match(error.message, /expired at 2020-01-01T00:00:00.000Z/);
  });

  it("tells whether the signature has expired by the context's clock", () => {
    const expiring = { ...context, credentialExpiresAt: Date.parse('2020-01-01T00:00:00Z') };
    const before = toHubError(sdkError(401, ''), {
      ...expiring,
      clock: { now: () => Date.parse('2019-12-31T00:00:00Z') },
    });
    assert.doesNotMatch(before.message, /expired at/);
    assert.match(before.message, /key is wrong/);
  });

  it('turns an unknown host into a Configuration error naming the host', () => {
    const error = toHubError(
      Object.assign(new Error('getaddrinfo ENOTFOUND contoso.azure-devices.net'), { code: 'ENOTFOUND' }),
      context,
    );
    assert.equal(error.kind, 'Configuration');
    assert.match(error.message, /host name contoso\.azure-devices\.net does not resolve/);
  });

  it('turns an untrusted certificate into a Configuration error that asks for the CA', () => {
    const error = toHubError(
      Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      context,
    );
    assert.equal(error.kind, 'Configuration');
    assert.match(error.message, /not trusted.*CA bundle/);
  });

  it('treats resets and hang-ups as transient network errors', () => {
    const reset = toHubError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), context);
    const hangUp = toHubError(new Error('socket hang up'), context);
    assert.deepEqual(
      [reset.kind, reset.networkCode, hangUp.kind, hangUp.networkCode],
      ['Transient', 'ECONNRESET', 'Transient', 'ECONNRESET'],
    );
  });

  it('redacts a secret a hub text might echo', () => {
    const error = toHubError(
      sdkError(400, hubBody('ArgumentInvalid', 'bad value SharedAccessKey=c2VjcmV0c2VjcmV0c2VjcmV0')),
      context,
    );
    assert.doesNotMatch(error.message, /c2VjcmV0/);
  });
});
