// The scan of the whole suite's output for secrets (scripts/scan-suite-output.ts): a secret in anything the
// suite kept fails the run, naming the file and line but not the secret; redacted values pass.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startHubEmulator } from '../support/emulator-support.js';
import { REPO } from '../support/kube.js';

/** Runs the scan over `script`; removes the folder it keeps after a finding or a failure. */
function scan(script: string) {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'scripts/scan-suite-output.ts'), 'bash', '-c', script],
    { encoding: 'utf8', env: { ...process.env, SUITE_OUTPUT_DIR: '' } },
  );
  const kept = /the output is kept in (\S+)/.exec(run.stderr)?.[1];
  if (kept) rmSync(kept, { recursive: true, force: true });
  return { ...run, kept };
}

describe('scan-suite-output', () => {
  it("fails on a key of the suite's emulators and on an unredacted SharedAccessKey=, without printing them", async () => {
    const emulator = await startHubEmulator();
    const key = /SharedAccessKey=([^;]+)/.exec(emulator.connectionString)![1];
    await emulator.close();
    const run = scan(
      `echo "key in a message: ${encodeURIComponent(key)}" > "$SUITE_OUTPUT_DIR/a.log"; ` +
        `mkdir "$SUITE_OUTPUT_DIR/operator-x"; printf 'ok\\nHostName=h;SharedAccessKey=c2VjcmV0\\n' > "$SUITE_OUTPUT_DIR/operator-x/operator.log"`,
    );
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /a\.log: a key of an emulator of the suite \(URL-encoded\) at line 1/);
    assert.match(run.stderr, /operator-x\/operator\.log: a SharedAccessKey= value at line 2/);
    assert.match(run.stderr, /: 2 found/);
    assert.ok(run.kept, 'the output is kept for a look');
    assert.ok(!run.stderr.includes(key) && !run.stderr.includes('c2VjcmV0'), 'the secrets are not printed');
  });

  it('looks for the keys the suite recorded of its other emulators (keepKeys), in the recorded folder only', () => {
    const key = Buffer.from('another-emulator-key-0123456789!!').toString('base64');
    const run = scan(
      `mkdir "$SUITE_OUTPUT_DIR/.keys"; echo '["${key}"]' > "$SUITE_OUTPUT_DIR/.keys/1.json"; ` +
        `echo "hex: ${Buffer.from(key, 'base64').toString('hex')}" > "$SUITE_OUTPUT_DIR/b.log"`,
    );
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /b\.log: a key of an emulator of the suite \(hex\) at line 1/);
    assert.match(run.stderr, /: 1 found/, 'the recorded keys themselves are not findings');
  });

  it('fails on a bare 32-byte base64 key that is no emulator key, and passes etags and base64 of other lengths', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const run = scan(
      `printf '{"etag":"AAAAAAAAAAE=","version":4,"uid":"0b9c7f2e-3c55-4f0e-9a1d-2f1f1a3e8d11"}\\n${Buffer.alloc(31, 7).toString('base64')}\\n' > "$SUITE_OUTPUT_DIR/a.log"; ` +
        `printf 'ok\\nstringData: {key: ${key}}\\n' > "$SUITE_OUTPUT_DIR/b.log"`,
    );
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /b\.log: a bare 32-byte base64 key at line 2/);
    assert.match(run.stderr, /: 1 found/, 'the etag, the UID and 31 bytes of base64 are not findings');
    assert.ok(!run.stderr.includes(key), 'the key is not printed');
  });

  it('fails on a JWT (an Entra ID access token, a ServiceAccount token) and on a client_secret= value, not on their redacted forms', () => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const jwt = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ aud: 'https://iothubs.azure.net' })}.c2lnbmF0dXJl`;
    const run = scan(
      `printf 'token: ${jwt}\\n' > "$SUITE_OUTPUT_DIR/a.log"; ` +
        `printf 'ok\\nclient_id=c&client_secret=Xy8Q~abcdefgh&scope=x\\n' > "$SUITE_OUTPUT_DIR/b.log"; ` +
        `echo "Authorization: Bearer [REDACTED] token [REDACTED JWT] client_secret=[REDACTED] a.b.c" > "$SUITE_OUTPUT_DIR/c.log"`,
    );
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /a\.log: a JWT at line 1/);
    assert.match(run.stderr, /b\.log: a client_secret= value at line 2/);
    assert.match(run.stderr, /JWTs .*: 2 found/, 'the redacted forms are not findings');
    assert.ok(!run.stderr.includes(jwt) && !run.stderr.includes('Xy8Q~'), 'the secrets are not printed');
  });

  it("passes redacted values, exits with the command's status, and keeps the output of a failed run", () => {
    const run = scan(`echo "SharedAccessKey=[REDACTED] sig=[REDACTED]" > "$SUITE_OUTPUT_DIR/a.log"; exit 3`);
    assert.equal(run.status, 3);
    // a.log and the runner's own output.
    assert.match(run.stderr, /2 files .* 0 found/);
    assert.ok(run.kept, 'the output of a failed run is kept');
  });
});
