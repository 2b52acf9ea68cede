import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCliCaptured } from '../support/cli.js';
import { writeTempFiles } from '../support/resources.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

const BAD = `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata:
  name: site-layer
spec:
  hubRef:
    name: hub
  target:
    condition: tags.site = 'a' AND
  agentConfiguration:
    maxMessageSizeInBytes: 300000
    eventPriorities:
      Logn: High
---
apiVersion: iotsecurity.io/v1alpha1
kind: IoTHub
metadata:
  name: hub
spec:
  connectionStringSecretRef:
    name: creds
  tier: S9
`;

const GOOD = `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata:
  name: warned
spec:
  hubRef: { name: hub }
  target: { deviceIds: [d1, d2] }
  agentConfiguration:
    maxMessageSizeInBytes: 10000
`;

describe('iot-security-operator validate', () => {
  it('accepts the shipped examples', async () => {
    const run = await runCliCaptured(['validate', EXAMPLES]);
    assert.equal(run.code, 0, run.stdout.join('\n'));
    assert.deepEqual(run.stdout, []);
    assert.match(run.stderr.join('\n'), /^valid: 6 resources in 6 files, 0 errors, 0 warnings$/);
  });

  it('prints one line per problem with the file, line and column of the offending node, and exits 1', async () => {
    const dir = writeTempFiles({ 'bad.yaml': BAD });
    const file = join(dir, 'bad.yaml');
    const run = await runCliCaptured(['validate', dir]);
    assert.equal(run.code, 1);
    assert.deepEqual(run.stdout, [
      `${file}:9:35: error: SecurityModuleConfig/site-layer: spec.target.condition: ${run.stdout[0].split(': ').slice(4).join(': ')}`,
      `${file}:11:28: error: SecurityModuleConfig/site-layer: spec.agentConfiguration.maxMessageSizeInBytes: 300000 is above the maximum 262144`,
      `${file}:13:7: error: SecurityModuleConfig/site-layer: spec.agentConfiguration.eventPriorities.Logn: unknown field 'Logn'; did you mean 'Login'?`,
      `${file}:22:9: error: IoTHub/hub: spec.tier: 'S9' is not one of F1, B1, B2, B3, S1, S2, S3; did you mean 'S1'?`,
    ]);
    assert.match(
      run.stdout[0],
      /: unexpected end of input at character 20 of the condition, expected a condition: /,
      'the condition error says where in the condition, in words that cannot be taken for the file column',
    );
    assert.doesNotMatch(run.stdout[0], /at column/);
  });

  it('points a missing field at the key of its parent and a condition error at its line in a block scalar', async () => {
    const dir = writeTempFiles({
      'placed.yaml': `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata:
  name: no-target
spec:
  hubRef:
    name: hub
  agentConfiguration:
    maxMessageSizeInBytes: 8192
---
apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata:
  name: block
spec:
  hubRef: { name: hub }
  target:
    condition: |
      tags.site = 'a'
        AND (tags.kind = 'gateway'
        OR tags.kind = 'sensor'))
  agentConfiguration:
    maxMessageSizeInBytes: 8192
`,
    });
    const file = join(dir, 'placed.yaml');
    const run = await runCliCaptured(['validate', file]);
    assert.equal(run.code, 1);
    assert.deepEqual(run.stdout, [
      `${file}:5:1: error: SecurityModuleConfig/no-target: spec.target: required field 'target' is missing`,
      `${file}:21:33: error: SecurityModuleConfig/block: spec.target.condition: unexpected ')' at character 27 of line 3 of the condition; it closes no '('`,
    ]);
  });

  it('exits 0 with warnings only', async () => {
    const dir = writeTempFiles({ 'warned.yml': GOOD });
    const run = await runCliCaptured(['validate', join(dir, 'warned.yml')]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout.length, 1);
    assert.match(
      run.stdout[0],
      /:9:28: warning: SecurityModuleConfig\/warned: spec\.agentConfiguration\.maxMessageSizeInBytes: .*NotOptimal/,
    );
  });

  it('reports a YAML syntax error with its position and still checks the other files', async () => {
    const dir = writeTempFiles({ 'a-broken.yaml': 'kind: [unclosed\n', 'b-bad.yaml': BAD });
    const run = await runCliCaptured(['validate', dir]);
    assert.equal(run.code, 1);
    assert.match(run.stdout[0], /a-broken\.yaml:\d+:\d+: error: YAML\/-: \(syntax\): /);
    assert.ok(run.stdout.some((line) => line.includes('b-bad.yaml:13:7')));
  });

  it('gives the same problems as JSON with --output json', async () => {
    const dir = writeTempFiles({ 'bad.yaml': BAD });
    const run = await runCliCaptured(['validate', '--output', 'json', dir]);
    assert.equal(run.code, 1);
    const report = JSON.parse(run.stdout.join('\n'));
    assert.equal(report.valid, false);
    assert.equal(report.resources, 2);
    assert.equal(report.problems.length, 4);
    assert.deepEqual(
      {
        line: report.problems[3].line,
        column: report.problems[3].column,
        field: report.problems[3].field,
        kind: report.problems[3].kind,
      },
      { line: 22, column: 9, field: 'spec.tier', kind: 'IoTHub' },
    );
  });

  it('exits 2 on usage errors: no path, a missing path, an unknown option', async () => {
    assert.equal((await runCliCaptured(['validate'])).code, 2);
    const missing = await runCliCaptured(['validate', '/nonexistent/dir']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr.join('\n'), /\/nonexistent\/dir: no such file or directory/);
    assert.equal((await runCliCaptured(['validate', '--bogus', EXAMPLES])).code, 2);
    assert.equal((await runCliCaptured(['frobnicate'])).code, 2);
  });
});
