// Which lines the process logger writes: a level that is off writes nothing (and is skipped before winston formats
// it), a level that is on writes the line redacted, from the logger and from its children alike.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, type LogLevel } from '../../src/observability/logger.js';
import { until } from '../support/until.js';

const KEY = 'c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3OA==';
const CONNECTION_STRING = `HostName=hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY}`;

/** A JSON logger at `level` writing into memory; `lines()` waits for the line that `end` writes last. */
function capture(level: LogLevel) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ stream, format: 'json', level });
  return {
    logger,
    async lines(): Promise<Record<string, unknown>[]> {
      logger.error('end of test');
      await until(() => chunks.join('').includes('end of test'), 5000, 'the last log line written', 5);
      return chunks
        .join('')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}

describe('process logger levels', () => {
  it('writes no debug line at info, from the logger or a child, and the info lines as before', async () => {
    const { logger, lines } = capture('info');
    logger.debug('hub call', { operation: 'patchModuleTwin', connectionString: CONNECTION_STRING });
    logger.child({ hub: 'h1' }).debug('hub call from a child');
    logger.info('rollout started', { hub: 'h1' });
    const written = await lines();
    assert.deepEqual(
      written.map((line) => line.message),
      ['rollout started', 'end of test'],
    );
    assert.equal(written[0].level, 'info');
    assert.equal(written[0].hub, 'h1');
  });

  it('writes debug lines at debug, redacted, from the logger and from a child', async () => {
    const { logger, lines } = capture('debug');
    logger.debug(`connecting with ${CONNECTION_STRING}`, { connectionString: CONNECTION_STRING });
    logger.child({ hub: 'h1' }).debug('hub call', { error: new Error(`failed: ${CONNECTION_STRING}`) });
    const written = await lines();
    assert.equal(written.length, 3);
    assert.deepEqual(
      written.map((line) => line.level),
      ['debug', 'debug', 'error'],
    );
    assert.equal(
      written[0].message,
      'connecting with HostName=hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=[REDACTED]',
    );
    assert.equal(written[1].hub, 'h1');
    assert.ok(!JSON.stringify(written).includes(KEY), JSON.stringify(written));
  });

  it('follows a level changed after the logger was made', async () => {
    const { logger, lines } = capture('info');
    logger.level = 'debug';
    logger.debug('now written');
    const written = await lines();
    assert.deepEqual(
      written.map((line) => line.message),
      ['now written', 'end of test'],
    );
  });
});
