// `validate` in a pipeline: resources piped to `validate -`, and problems as GitHub Actions annotations.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_FILE_BYTES } from '../../src/validation/input-limits.js';
import { runCliCaptured } from '../support/cli.js';
import { REPO } from '../support/kube.js';
import { writeTempFiles } from '../support/resources.js';

const INVALID = `apiVersion: iotsecurity.io/v1alpha1
kind: IoTHub
metadata:
  name: hub
spec:
  connectionStringSecretRef:
    name: creds
  tier: S9
---
apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata:
  name: site-layer
spec:
  hubRef: { name: hub }
  target: { condition: "tags.site = 'a,b'" }
  agentConfiguration:
    maxMessageSizeInBytes: 300000
`;

const TIER = "spec.tier: 'S9' is not one of F1, B1, B2, B3, S1, S2, S3; did you mean 'S1'?";
const SIZE = 'spec.agentConfiguration.maxMessageSizeInBytes: 300000 is above the maximum 262144';

describe('validate - (standard input)', () => {
  it('judges the documents piped in, naming the file <stdin> with the line and column of each problem', async () => {
    const run = await runCliCaptured(['validate', '-'], { stdin: [INVALID] });
    assert.equal(run.code, 1);
    assert.deepEqual(run.stdout, [
      `<stdin>:8:9: error: IoTHub/hub: ${TIER}`,
      `<stdin>:18:28: error: SecurityModuleConfig/site-layer: ${SIZE}`,
    ]);
    assert.deepEqual(run.stderr, ['invalid: 2 resources in 1 file, 2 errors, 0 warnings']);
  });

  it('warns and exits 1 when standard input holds no document at all, as a failed producer leaves it', async () => {
    for (const stdin of [[], ['\n  \n'], ['# kustomize build failed\n']]) {
      const run = await runCliCaptured(['validate', '-'], { stdin });
      assert.equal(run.code, 1, JSON.stringify(stdin));
      assert.deepEqual(run.stdout, []);
      assert.deepEqual(run.stderr, [
        'validate: standard input holds no document; if a command pipes into it, it may have failed (in a shell script, set -o pipefail)',
        'invalid: 0 resources in 1 file, 0 errors, 0 warnings',
      ]);
    }
    const json = await runCliCaptured(['validate', '--output', 'json', '-']);
    assert.equal(json.code, 1);
    assert.deepEqual(
      [JSON.parse(json.stdout.join('\n')).valid, JSON.parse(json.stdout.join('\n')).emptyStandardInput],
      [false, true],
    );
    // A document of another kind is a document: nothing to warn about.
    const other = await runCliCaptured(['validate', '-'], {
      stdin: ['apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n'],
    });
    assert.equal(other.code, 0, other.stderr.join('\n'));
  });

  it('reads standard input beside files, and a character split across chunks whole', async () => {
    const dir = writeTempFiles({ 'hub.yaml': INVALID.split('---\n')[0] });
    // 'é' is two bytes in UTF-8; the pipe may deliver them in two reads.
    const bytes = Buffer.from(INVALID.split('---\n')[1].replace('site-layer', 'site-layer # é'));
    const at = bytes.indexOf(0xc3) + 1;
    const run = await runCliCaptured(['validate', dir, '-'], {
      stdin: [bytes.subarray(0, at), bytes.subarray(at)],
    });
    assert.equal(run.code, 1);
    assert.deepEqual(run.stdout, [
      `${join(dir, 'hub.yaml')}:8:9: error: IoTHub/hub: ${TIER}`,
      `<stdin>:9:28: error: SecurityModuleConfig/site-layer: ${SIZE}`,
    ]);
    assert.deepEqual(run.stderr, ['invalid: 2 resources in 2 files, 2 errors, 0 warnings']);
  });

  it('refuses standard input over the file limit as one problem, and stops reading it there', async () => {
    let chunksRead = 0;
    // An endless producer: only a reader that stops at the limit ends.
    function* endless() {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      for (;;) {
        chunksRead++;
        yield chunk;
      }
    }
    const run = await runCliCaptured(['validate', '-'], { stdin: endless() });
    assert.equal(run.code, 1);
    assert.deepEqual(run.stdout, [
      '<stdin>:1:1: error: YAML/-: (file): standard input holds more than the limit of 4 MiB; it is not read',
    ]);
    assert.equal(chunksRead, MAX_FILE_BYTES / (64 * 1024) + 1, 'not a chunk past the limit was read');
  });

  it('locates bytes that are not UTF-8', async () => {
    const broken = await runCliCaptured(['validate', '-'], {
      stdin: [Buffer.concat([Buffer.from('kind: IoTHub\nname: '), Buffer.from([0xff])])],
    });
    assert.equal(broken.code, 1);
    assert.match(broken.stdout[0], /^<stdin>:2:7: error: YAML\/-: \(file\): not UTF-8 text \(the byte 0xff/);
  });

  it("refuses '-' given twice as a usage error", async () => {
    const run = await runCliCaptured(['validate', '-', '-'], { stdin: [INVALID] });
    assert.equal(run.code, 2);
    assert.match(run.stderr.join('\n'), /'-' \(standard input\) can be given only once/);
  });

  it('reads the standard input of the process (a pipe), as a shell pipeline gives it', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'validate', '-'],
      {
        input: INVALID,
        encoding: 'utf8',
        cwd: REPO,
      },
    );
    assert.equal(run.status, 1, run.stderr);
    assert.equal(
      run.stdout,
      `<stdin>:8:9: error: IoTHub/hub: ${TIER}\n<stdin>:18:28: error: SecurityModuleConfig/site-layer: ${SIZE}\n`,
    );
  });
});

describe('validate --output github', () => {
  it('prints one workflow command per problem: ::error or ::warning, file, line, col and title', async () => {
    const dir = writeTempFiles({
      'bad.yaml': INVALID,
      'warned.yaml': `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata:
  name: warned
spec:
  hubRef: { name: hub }
  target: { deviceIds: [d1] }
  agentConfiguration:
    maxMessageSizeInBytes: 10000
`,
    });
    const run = await runCliCaptured(['validate', '--output', 'github', dir]);
    assert.equal(run.code, 1);
    const file = join(dir, 'bad.yaml').replaceAll(':', '%3A').replaceAll(',', '%2C');
    assert.equal(run.stdout.length, 3);
    assert.equal(run.stdout[0], `::error file=${file},line=8,col=9,title=IoTHub/hub::${TIER}`);
    assert.equal(
      run.stdout[1],
      `::error file=${file},line=18,col=28,title=SecurityModuleConfig/site-layer::${SIZE}`,
    );
    assert.match(
      run.stdout[2],
      /^::warning file=.*warned\.yaml,line=9,col=28,title=SecurityModuleConfig\/warned::spec\.agentConfiguration\.maxMessageSizeInBytes: /,
    );
    assert.deepEqual(run.stderr, ['invalid: 3 resources in 2 files, 2 errors, 1 warning']);
  });

  it('puts problems of standard input on the run, with their place in the message', async () => {
    const run = await runCliCaptured(['validate', '-o', 'github', '-'], { stdin: [INVALID] });
    assert.equal(run.stdout[0], `::error title=IoTHub/hub::<stdin>:8:9: ${TIER}`);
  });

  it('accepts text, json and github only', async () => {
    const run = await runCliCaptured(['validate', '--output', 'sarif', '-']);
    assert.equal(run.code, 2);
    assert.match(run.stderr[0], /--output must be text, json or github, not 'sarif'/);
  });
});
