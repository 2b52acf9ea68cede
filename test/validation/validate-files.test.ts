import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSyncResources } from '../../src/sync/load-configs.js';
import { loadResourceFile } from '../../src/validation/resource-files.js';
import { formatProblem, validateFiles } from '../../src/validation/validate-files.js';
import { writeTempFiles } from '../support/resources.js';

/** `LINE:COLUMN FIELD: MESSAGE` for each problem of one YAML file. */
function problemsIn(yaml: string): string[] {
  const dir = writeTempFiles({ 'r.yaml': yaml });
  return validateFiles([dir]).problems.map((p) => `${p.line}:${p.column} ${p.field}: ${p.message}`);
}

/** A SecurityModuleConfig whose target is `target` (indented under `  target:`). */
function config(target: string, name = 'site'): string {
  return `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata:
  name: ${name}
spec:
  hubRef: { name: hub }
  target:
${target}
  agentConfiguration:
    maxMessageSizeInBytes: 8192
`;
}

describe('positions of missing fields', () => {
  it('points at the key of the parent that lacks the field, not at its first child', () => {
    const yaml = `# a SecurityModuleConfig without a target
apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata:
  name: no-target
spec:
  hubRef:
    name: hub
  agentConfiguration:
    maxMessageSizeInBytes: 8192
`;
    assert.deepEqual(problemsIn(yaml), ["6:1 spec.target: required field 'target' is missing"]);
  });

  it('points at a nested parent key, in block and flow style', () => {
    const yaml = `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata:
  name: no-hub-name
spec:
  hubRef: { other: x }
  target:
    deviceIds: [d1]
  agentConfiguration:
    baselineCustomChecks:
      enabled: true
`;
    const problems = problemsIn(yaml);
    assert.ok(
      problems.includes("6:3 spec.hubRef.name: required field 'name' is missing"),
      problems.join('\n'),
    );
  });

  it('points at the start of the document for a missing top-level field', () => {
    const yaml = `apiVersion: v1
kind: Secret
metadata: { name: s }
---
# the hub
apiVersion: iotsecurity.io/v1alpha1
kind: IoTHub
spec:
  connectionStringSecretRef: { name: creds }
`;
    assert.deepEqual(problemsIn(yaml), ["6:1 metadata: required field 'metadata' is missing"]);
  });

  it('points at a key written without a value for a field below it', () => {
    const dir = writeTempFiles({ 'r.yaml': 'spec:\n  hubRef:\n  target: {}\n' });
    const [document] = loadResourceFile(join(dir, 'r.yaml')).documents;
    assert.deepEqual(document.locate(['spec', 'hubRef', 'name']), { line: 2, column: 3 });
    assert.deepEqual(document.locate(['spec', 'hubRef']), { line: 2, column: 3 });
    assert.deepEqual(document.locate(['spec', 'target', 'condition']), { line: 3, column: 3 });
  });
});

describe('positions and messages of target condition errors', () => {
  it('keeps the file column and names the place inside the condition differently', () => {
    const [problem] = problemsIn(config("    condition: tags.site = 'a' AND"));
    assert.equal(
      problem,
      "8:35 spec.target.condition: unexpected end of input at character 20 of the condition, expected a condition: a property path, a value, a function or '('",
    );
    assert.doesNotMatch(problem, /at column/);
  });

  it('points inside a double-quoted condition with escapes', () => {
    // 'condition: "' ends at column 16; `\"` takes two columns in the file and one in the value.
    assert.deepEqual(problemsIn(config('    condition: "tags.site = \\"a\\" AND )"')), [
      "8:39 spec.target.condition: unexpected ')' at character 21 of the condition, expected a condition: a property path, a value, a function or '('",
    ]);
    assert.deepEqual(problemsIn(config('    condition: "tags.site = \\u0027a\\u0027 == 1"')), [
      "8:43 spec.target.condition: '==' at character 17 of the condition is not an operator; use '=' to compare",
    ]);
  });

  it("points inside a single-quoted condition with ''", () => {
    assert.deepEqual(problemsIn(config("    condition: 'tags.site = ''a'' OR )'")), [
      "8:38 spec.target.condition: unexpected ')' at character 20 of the condition, expected a condition: a property path, a value, a function or '('",
    ]);
  });

  it('points at the line and column of the error inside a literal block scalar', () => {
    const yaml = config(`    condition: |
      tags.site = 'a'
        AND tags.kind == 'gateway'`);
    // Line 10 is "        AND tags.kind == 'gateway'": '==' at column 23.
    assert.deepEqual(problemsIn(yaml), [
      "10:23 spec.target.condition: '==' at character 17 of line 2 of the condition is not an operator; use '=' to compare",
    ]);
  });

  it('points just after the last character for an unexpected end of a block scalar', () => {
    const yaml = config(`    condition: |-  # a comment on the header line
      tags.site = 'a' AND

      tags.x =`);
    assert.deepEqual(problemsIn(yaml), [
      '11:15 spec.target.condition: unexpected end of input at character 9 of line 3 of the condition, expected a value',
    ]);
  });

  it('points at the line of the error inside a folded block scalar', () => {
    const yaml = config(`    condition: >
      tags.site = 'a'
      AND tags.x = 'b' )`);
    // The folded value is one line: "tags.site = 'a' AND tags.x = 'b' )".
    assert.deepEqual(problemsIn(yaml), [
      "10:24 spec.target.condition: unexpected ')' at character 34 of the condition; it closes no '('",
    ]);
  });

  it('points inside a plain condition over several lines', () => {
    const yaml = config(`    condition: tags.site = 'a'
      AND tags.x = 'b' )`);
    assert.deepEqual(problemsIn(yaml), [
      "9:24 spec.target.condition: unexpected ')' at character 34 of the condition; it closes no '('",
    ]);
  });

  it('points inside a double-quoted condition over several lines with an escaped line break', () => {
    const yaml = config(`    condition: "tags.site = 'a' AND \\
      tags.x = \\"b\\" )"`);
    assert.deepEqual(problemsIn(yaml), [
      "9:22 spec.target.condition: unexpected ')' at character 34 of the condition; it closes no '('",
    ]);
  });
});

describe('resources defined twice', () => {
  it('makes validate refuse the second definition of a kind, namespace and name, as sync does', () => {
    const hub = (name: string, namespace?: string) =>
      `apiVersion: iotsecurity.io/v1alpha1
kind: IoTHub
metadata:
  name: ${name}${namespace ? `\n  namespace: ${namespace}` : ''}
spec:
  connectionStringSecretRef: { name: creds }
`;
    const dir = writeTempFiles({
      'a.yaml': `${hub('fleet')}---\n${hub('fleet', 'other')}---\n${config('    deviceIds: [d1]', 'fleet')}`,
      'b.yaml': `${hub('fleet', 'default')}---\n${hub('fleet', 'other')}`,
    });
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    const result = validateFiles([dir]);
    assert.equal(result.valid, false);
    assert.deepEqual(result.problems.map(formatProblem), [
      `${b}:4:9: error: IoTHub/fleet: metadata.name: default/fleet is also defined in ${a}:4; each resource may appear once`,
      `${b}:12:9: error: IoTHub/fleet: metadata.name: other/fleet is also defined in ${a}:11; each resource may appear once`,
    ]);
  });
});

describe('loading the resources of a sync', () => {
  it('names the file and line of the first definition of a duplicate, and keeps problems in file order', () => {
    const first = config('    deviceIds: [d1]', 'twice');
    const second = `${config('    deviceIds: [d2]', 'twice')}---
${config('    deviceIds: [d3]', 'other').replace('8192', '10000')}`;
    const dir = writeTempFiles({ 'a.yaml': first, 'b.yaml': second });
    const loaded = loadSyncResources([dir]);
    assert.equal(loaded.valid, false);
    assert.deepEqual(loaded.resources, []);
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    assert.deepEqual(
      loaded.problems.map((p) => formatProblem(p).replace(/; the agent .*$/, '')),
      [
        `${b}:4:9: error: SecurityModuleConfig/twice: metadata.name: default/twice is also defined in ${a}:4; each resource may appear once`,
        `${b}:21:28: warning: SecurityModuleConfig/other: spec.agentConfiguration.maxMessageSizeInBytes: maxMessageSizeInBytes 10000 is not a multiple of 4096`,
      ],
    );
  });
});
