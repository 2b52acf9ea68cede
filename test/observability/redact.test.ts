import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.js';
import { redactSecrets, redactValue } from '../../src/observability/redact.js';
import { SecretScanner } from '../support/secret-scanner.js';
import { until } from '../support/until.js';

const KEY = 'c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3OA==';
const CONNECTION_STRING = `HostName=hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY}`;
const SAS = 'SharedAccessSignature sr=hub.azure-devices.net&sig=abc%2Bdef%3D&se=1700000000&skn=iothubowner';
const QUOTED = 'TOPSECRETQUOTED=';

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An Entra ID access token's shape: a header, claims and a signature, each base64url. */
const JWT_PARTS = [
  base64url({ alg: 'RS256', typ: 'JWT', kid: 'k1' }),
  base64url({ aud: 'https://iothubs.azure.net', sub: 'system:serviceaccount:ns:operator', exp: 1700000000 }),
  'c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0xMjM0NTY3ODkw_-Ab',
];
const JWT = JWT_PARTS.join('.');
/** An Entra ID client secret's shape (letters, digits and `~._-`). */
const CLIENT_SECRET = 'Xy8Q~abcDEF.ghi_JKL-mno1234567890pqrs';

/** Each form a key takes in a connection string, and the part of it that must not be printed. */
const FORMS: { form: string; text: string; secret: string }[] = [
  { form: 'a bare key', text: CONNECTION_STRING, secret: KEY },
  {
    form: 'a double-quoted key',
    text: `HostName=h;SharedAccessKeyName=o;SharedAccessKey="${QUOTED}"`,
    secret: 'TOPSECRETQUOTED',
  },
  { form: 'a single-quoted key', text: `HostName=h;SharedAccessKey='${KEY}'`, secret: KEY },
  { form: 'a key after spaces', text: `SharedAccessKey = ${KEY}; HostName=h`, secret: KEY },
  {
    form: 'a storage account key (AccountKey)',
    text: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${KEY};EndpointSuffix=core.windows.net`,
    secret: KEY,
  },
  {
    form: 'a URL-encoded key',
    text: `https://x.example/?cs=${encodeURIComponent(CONNECTION_STRING)}&next=1`,
    secret: encodeURIComponent(KEY),
  },
  {
    form: 'a URL-encoded storage key',
    text: `cs=${encodeURIComponent(`AccountName=a;AccountKey=${KEY};EndpointSuffix=x`)}`,
    secret: encodeURIComponent(KEY),
  },
  {
    form: 'a URL-encoded SAS token',
    text: `token=${encodeURIComponent('SharedAccessSignature sr=hub&sig=c2lnbmF0dXJlLXZhbHVl%3D&se=1')}`,
    secret: 'c2lnbmF0dXJlLXZhbHVl',
  },
  {
    form: 'a key after an unterminated quote',
    text: `SharedAccessKey="${KEY} and the rest of the line`,
    secret: KEY,
  },
  {
    form: 'a bearer token in an Authorization header',
    text: `Authorization: Bearer ${JWT}`,
    secret: JWT_PARTS[1],
  },
  { form: 'a JWT alone (a ServiceAccount token file)', text: `${JWT}\n`, secret: JWT_PARTS[2] },
  {
    form: 'a JWT in JSON',
    text: JSON.stringify({ access_token: JWT, expires_in: 3599 }),
    secret: JWT_PARTS[1],
  },
  {
    form: 'a client secret in a token request form',
    text: `grant_type=client_credentials&client_id=c1&client_secret=${encodeURIComponent(CLIENT_SECRET)}&scope=x`,
    secret: CLIENT_SECRET.slice(0, 8),
  },
  {
    form: 'a quoted client secret',
    text: `client_secret="${CLIENT_SECRET}" was refused`,
    secret: CLIENT_SECRET.slice(0, 8),
  },
  {
    form: 'a URL-encoded client secret',
    text: `body=${encodeURIComponent(`client_id=c1&client_secret=${CLIENT_SECRET}&scope=x`)}`,
    secret: CLIENT_SECRET.slice(0, 8),
  },
  {
    form: 'a client assertion in a token request form',
    text: `client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=${JWT}&scope=x`,
    secret: JWT_PARTS[2],
  },
  {
    form: 'a URL-encoded client assertion',
    text: `body=${encodeURIComponent(`client_assertion=${JWT}&scope=x`)}`,
    secret: JWT_PARTS[1],
  },
];

function capture(format: 'json' | 'text'): { logger: ReturnType<typeof createLogger>; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ stream, format, level: 'debug' }), text: () => chunks.join('') };
}

describe('secret redaction', () => {
  it('removes the key of a connection string and the signature of a SAS token', () => {
    const out = redactSecrets(`connecting with ${CONNECTION_STRING}; header ${SAS}`);
    assert.ok(!out.includes(KEY));
    assert.ok(!out.includes('abc%2Bdef'));
    assert.match(
      out,
      /HostName=hub\.azure-devices\.net;SharedAccessKeyName=iothubowner;SharedAccessKey=\[REDACTED\]/,
    );
  });

  for (const { form, text, secret } of FORMS) {
    it(`redacts ${form}, and the suite's secret scanner agrees`, () => {
      const out = redactSecrets(text);
      assert.ok(!out.includes(secret), out);
      assert.match(out, /\[REDACTED( JWT)?\]/);
      const scanner = new SecretScanner();
      assert.notDeepEqual(scanner.scan('raw', text), [], `the scanner finds ${form} unredacted`);
      assert.deepEqual(scanner.scan('redacted', out), [], `the scanner passes it redacted: ${out}`);
    });
  }

  it('leaves the rest of a connection string as it was, quotes included', () => {
    assert.equal(
      redactSecrets(`HostName=h;SharedAccessKeyName=o;SharedAccessKey="${QUOTED}";DeviceId=d`),
      'HostName=h;SharedAccessKeyName=o;SharedAccessKey=[REDACTED];DeviceId=d',
    );
    assert.equal(
      redactSecrets(`AccountName=a;AccountKey=${KEY};EndpointSuffix=core.windows.net`),
      'AccountName=a;AccountKey=[REDACTED];EndpointSuffix=core.windows.net',
    );
    assert.equal(
      redactSecrets(encodeURIComponent(`HostName=h;SharedAccessKey=${KEY};DeviceId=d`)),
      'HostName%3Dh%3BSharedAccessKey%3D[REDACTED]%3BDeviceId%3Dd',
    );
  });

  it('keeps the Bearer scheme and the form around a credential, and redacts a token of any shape', () => {
    assert.equal(redactSecrets(`Authorization: Bearer ${JWT}`), 'Authorization: Bearer [REDACTED]');
    assert.equal(
      redactSecrets('authorization: bearer 0123456789abcdefXYZ~+/=='),
      'authorization: bearer [REDACTED]',
    );
    assert.equal(
      redactSecrets(
        `client_id=c1&client_secret=${CLIENT_SECRET}&scope=https%3A%2F%2Fiothubs.azure.net%2F.default`,
      ),
      'client_id=c1&client_secret=[REDACTED]&scope=https%3A%2F%2Fiothubs.azure.net%2F.default',
    );
    assert.equal(
      redactSecrets(`client_assertion_type=jwt-bearer&client_assertion=${JWT}`),
      'client_assertion_type=jwt-bearer&client_assertion=[REDACTED]',
    );
    assert.equal(redactSecrets(`token ${JWT} refused`), 'token [REDACTED JWT] refused');
    assert.equal(redactSecrets(`unsigned ${JWT_PARTS[0]}.${JWT_PARTS[1]}.`), 'unsigned [REDACTED JWT]');
  });

  it('leaves ordinary text alone: etags, resourceVersions, UIDs, dotted names, prose about tokens', () => {
    const ordinary = [
      'AAAAAAAAAAE=',
      '"etag":"MTIzNDU2Nzg5MA=="',
      'resourceVersion 184467',
      '0b9c7f2e-3c55-4f0e-9a1d-2f1f1a3e8d11',
      'a.b.c',
      'iotsecurity.io/v1alpha1',
      'hub1.azure-devices.net',
      'v1.2.3-rc.1',
      'Unauthorized: a bearer token is needed',
      'the bearer token is not signed by this authority',
      'WWW-Authenticate: Bearer realm="", authorization_uri="https://login.microsoftonline.com/t/oauth2/authorize"',
      "client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'",
      'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value',
      'eyJhbGciOiJSUzI1NiJ9 alone is only a header',
    ];
    for (const text of ordinary) {
      assert.equal(redactSecrets(text), text);
      assert.deepEqual(new SecretScanner().scan('ordinary', text), [], text);
    }
  });

  it('leaves JSON text valid when a value holds a quote, escaped or not', () => {
    for (const value of [
      'SharedAccessKey=abc"def',
      `SharedAccessKey="${QUOTED}"`,
      'sig=abc"def',
      `client_secret="${CLIENT_SECRET}"`,
      `Bearer ${JWT}"`,
    ]) {
      const json = JSON.stringify({ value });
      const parsed = JSON.parse(redactSecrets(json)) as { value: string };
      assert.equal(parsed.value, redactSecrets(value), json);
      assert.ok(!parsed.value.includes('TOPSECRET') && !parsed.value.includes(CLIENT_SECRET), parsed.value);
    }
  });

  it('redacts every string of a structure, keys of a document untouched', () => {
    const document = { plan: [{ from: `SharedAccessKey="${QUOTED}"`, to: null, devices: 2 }] };
    assert.deepEqual(redactValue(document), {
      plan: [{ from: 'SharedAccessKey=[REDACTED]', to: null, devices: 2 }],
    });
  });

  for (const format of ['json', 'text'] as const) {
    it(`keeps secrets out of ${format} log lines, in messages, metadata and errors`, async () => {
      const { logger, text } = capture(format);
      logger.info(`using ${CONNECTION_STRING}`, {
        hub: { connectionString: CONNECTION_STRING },
        headers: [SAS],
        error: new Error(`failed: ${CONNECTION_STRING}`),
        forms: FORMS.map((f) => f.text),
      });
      logger.end();
      await until(() => text().endsWith('\n'), 5000, 'the log line written', 5);
      const written = text();
      assert.ok(written.includes('SharedAccessKey=[REDACTED]'), written);
      assert.ok(!written.includes(KEY), written);
      assert.ok(!written.includes('abc%2Bdef'), written);
      for (const { form, secret } of FORMS) assert.ok(!written.includes(secret), `${form}: ${written}`);
      if (format === 'json') assert.equal(JSON.parse(written.trim().split('\n')[0]).level, 'info');
    });
  }
});
