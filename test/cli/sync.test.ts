import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCliCaptured } from '../support/cli.js';
import { startHubEmulator } from '../support/emulator-support.js';
import { writeTempFiles } from '../support/resources.js';

const CONFIG = `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata: { name: everything, namespace: fleet }
spec:
  hubRef: { name: hub }
  target: { condition: "IS_DEFINED(tags.site)" }
  agentConfiguration:
    snapshotFrequency: PT2H
`;

describe('iot-security-operator sync (command line)', () => {
  let emulator: RunningEmulator;
  let dir: string;
  before(async () => {
    // Agents that take a minute to answer: --wait can only time out.
    emulator = await startHubEmulator({
      seed: 3,
      devices: 5,
      throttle: false,
      agentDelay: { min: 60_000, max: 60_000 },
    });
    dir = writeTempFiles({ 'config.yaml': CONFIG });
  });
  after(() => emulator.close());

  const hubArgs = () => [
    '--connection-string',
    emulator.connectionString,
    '--ca-file',
    emulator.caFile,
    '--tier',
    'S3',
  ];

  it('writes the twins and prints the status table', async () => {
    const run = await runCliCaptured(['sync', '-f', dir, ...hubArgs()]);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.match(
      run.stdout[0],
      /: 5 twins written \(0 re-planned after a concurrent change\), 0 failed, 0 modules created$/,
    );
    assert.match(
      run.stdout[1],
      /^RESOURCE\s+TARGETED\s+APPLIED\s+CONVERGED\s+PENDING\s+OFFLINE\s+STALLED\s+FAILED\s+CONFLICTS\s+READY$/,
    );
    assert.match(
      run.stdout[2],
      /^fleet\/everything\s+5\s+5\s+0\s+5\s+0\s+0\s+0\s+0\s+False \(Progressing\)$/,
    );
  });

  it('exits 3 when --wait times out, and never shows the key', async () => {
    const run = await runCliCaptured([
      'sync',
      '-f',
      dir,
      ...hubArgs(),
      '--wait',
      '--timeout',
      '1s',
      '--poll',
      '200ms',
    ]);
    assert.equal(run.code, 3);
    assert.match(run.stderr.join('\n'), /timed out after 1s before every resource was Ready/);
    const key = /SharedAccessKey=([^;]+)/.exec(emulator.connectionString)![1];
    assert.ok(!`${run.stdout.join('\n')}${run.stderr.join('\n')}`.includes(key));
  });

  it('reports a wrong key as one clear error without the key', async () => {
    const wrong = emulator.connectionString.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`,
    );
    const run = await runCliCaptured([
      'sync',
      '-f',
      dir,
      '--connection-string',
      wrong,
      '--ca-file',
      emulator.caFile,
    ]);
    assert.equal(run.code, 1);
    const text = run.stderr.join('\n');
    assert.match(text, /Unauthorized|unauthori[sz]ed|401/i);
    assert.ok(!text.includes(Buffer.alloc(32, 7).toString('base64')));
    assert.ok(!text.includes('    at '), 'no stack trace');
  });

  it('exits 2 on usage errors', async () => {
    assert.equal((await runCliCaptured(['sync', ...hubArgs()])).code, 2, 'no -f');
    const noHub = await runCliCaptured(['sync', '-f', dir]);
    assert.equal(noHub.code, 2);
    assert.match(noHub.stderr.join('\n'), /IOTHUB_CONNECTION_STRING/);
    assert.equal((await runCliCaptured(['sync', '-f', dir, ...hubArgs(), '--output', 'yaml'])).code, 2);
    assert.equal((await runCliCaptured(['sync', '-f', dir, ...hubArgs(), '--timeout', 'soon'])).code, 2);
    const markdown = await runCliCaptured(['sync', '-f', dir, ...hubArgs(), '--output', 'markdown']);
    assert.equal(markdown.code, 2, 'markdown is the plan of a dry run');
    assert.match(markdown.stderr.join('\n'), /--output markdown prints the plan of a dry run/);
    const waitForNothing = await runCliCaptured(['sync', '-f', dir, ...hubArgs(), '--dry-run', '--wait']);
    assert.equal(waitForNothing.code, 2, 'a dry run has no writes to wait for');
    assert.match(
      waitForNothing.stderr.join('\n'),
      /--wait waits for the writes of a run, and --dry-run makes none/,
    );
  });

  it('gives a usage error for a missing path, as validate does', async () => {
    const run = await runCliCaptured(['sync', '-f', join(dir, 'missing.yaml'), ...hubArgs()]);
    assert.equal(run.code, 2);
    assert.match(run.stderr.join('\n'), /missing\.yaml: no such file or directory/);
  });
});
