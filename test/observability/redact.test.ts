import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.js';
import { redactSecrets } from '../../src/observability/redact.js';
import { until } from '../support/until.js';

const KEY = 'c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3OA==';
const CONNECTION_STRING = `HostName=hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY}`;
const SAS = 'SharedAccessSignature sr=hub.azure-devices.net&sig=abc%2Bdef%3D&se=1700000000&skn=iothubowner';

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

  for (const format of ['json', 'text'] as const) {
    it(`keeps secrets out of ${format} log lines, in messages, metadata and errors`, async () => {
      const { logger, text } = capture(format);
      logger.info(`using ${CONNECTION_STRING}`, {
        hub: { connectionString: CONNECTION_STRING },
        headers: [SAS],
        error: new Error(`failed: ${CONNECTION_STRING}`),
      });
      logger.end();
      await until(() => text().endsWith('\n'), 5000, 'the log line written', 5);
      const written = text();
      assert.ok(written.includes('SharedAccessKey=[REDACTED]'), written);
      assert.ok(!written.includes(KEY), written);
      assert.ok(!written.includes('abc%2Bdef'), written);
      if (format === 'json') assert.equal(JSON.parse(written.trim().split('\n')[0]).level, 'info');
    });
  }
});
