// The scan of the whole suite's output for secrets (scripts/scan-suite-output.ts): a secret in anything the
// suite kept fails the run, naming the file and line but not the secret; redacted values pass.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startHubEmulator } from '../hub/emulator-support.js';
import { REPO } from '../support/kube.js';

const scan = (script: string) =>
  spawnSync(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'scripts/scan-suite-output.ts'), 'bash', '-c', script],
    { encoding: 'utf8', env: { ...process.env, SUITE_OUTPUT_DIR: '' } },
  );

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
    assert.match(
      run.stderr,
      /a\.log: policy 0 primary key of the suite's emulators \(URL-encoded\) at line 1/,
    );
    assert.match(run.stderr, /operator-x\/operator\.log: a SharedAccessKey= value at line 2/);
    assert.match(run.stderr, /: 2 found/);
    assert.ok(!run.stderr.includes(key) && !run.stderr.includes('c2VjcmV0'), 'the secrets are not printed');
  });

  it("passes redacted values, and exits with the command's status", () => {
    const run = scan(`echo "SharedAccessKey=[REDACTED] sig=[REDACTED]" > "$SUITE_OUTPUT_DIR/a.log"; exit 3`);
    assert.equal(run.status, 3);
    assert.match(run.stderr, /1 files .* 0 found/);
  });
});
