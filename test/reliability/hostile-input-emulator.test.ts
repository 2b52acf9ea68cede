// Requests written to hurt the IoT Hub emulator, each a regression test of issue 12: the hub's 400 with its
// error shape, never a 500 or a stack overflow, and nothing stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { errorCodeOf, rawRequest, startHubEmulator } from '../support/emulator-requests.js';

const TWIN_PATH = '/twins/device-000001?api-version=2021-04-12';

/** The hub's error body: `ErrorCode:<Code>;<text>` and a tracking line. */
function assertHubError(answer: { status: number; text: string }, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(errorCodeOf(answer.text), code);
  assert.match(JSON.parse(answer.text).ExceptionMessage, /^Tracking ID:[0-9a-f]{32}-G:0-TimeStamp:/);
}

describe('hostile requests to the emulator', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startHubEmulator({ devices: 2 });
  });
  after(() => emulator.close());

  const twinVersion = async () =>
    (
      (await rawRequest(emulator, { method: 'GET', path: TWIN_PATH })).json as {
        properties: { desired: { $version: number } };
      }
    ).properties.desired.$version;

  it('answers 400 ArgumentInvalid to a desired property of arrays nested 5,000 and 100,000 deep', async () => {
    const version = await twinVersion();
    for (const depth of [5000, 100_000, 11]) {
      const rawBody = `{"properties":{"desired":{"x":${'['.repeat(depth)}1${']'.repeat(depth)}}}}`;
      const answer = await rawRequest(emulator, { method: 'PATCH', path: TWIN_PATH, rawBody });
      assertHubError(answer, 400, 'ArgumentInvalid');
      assert.match(JSON.parse(answer.text).Message, /Nested depth of twin property exceeds 10/);
    }
    const tags = `{"tags":{"x":${'['.repeat(5000)}1${']'.repeat(5000)}}}`;
    assertHubError(
      await rawRequest(emulator, { method: 'PATCH', path: TWIN_PATH, rawBody: tags }),
      400,
      'ArgumentInvalid',
    );
    assert.equal(await twinVersion(), version, 'nothing stored');
    const stats = (await rawRequest(emulator, { method: 'GET', path: '/_emulator/stats' })).json as {
      requests: Record<string, Record<string, number>>;
    };
    assert.equal(stats.requests.twinUpdate?.['500'], undefined);
  });

  it('answers 400 to a body that is not UTF-8, and stores nothing', async () => {
    const version = await twinVersion();
    for (const bytes of [
      Buffer.from('{"properties":{"desired":{"x":"caf\xe9"}}}', 'latin1'),
      Buffer.concat([Buffer.from('{"tags":{"x":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}}')]),
      Buffer.concat([Buffer.from('{"tags":{"x":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}}')]),
    ]) {
      const answer = await rawRequest(emulator, { method: 'PATCH', path: TWIN_PATH, rawBody: bytes });
      assertHubError(answer, 400, 'IotHubFormatError');
      assert.match(JSON.parse(answer.text).Message, /not valid UTF-8/);
    }
    assert.equal(await twinVersion(), version);
    const valid = Buffer.from('{"properties":{"desired":{"x":"café \ufffd"}}}', 'utf8');
    assert.equal(
      (await rawRequest(emulator, { method: 'PATCH', path: TWIN_PATH, rawBody: valid })).status,
      200,
    );
  });
});
