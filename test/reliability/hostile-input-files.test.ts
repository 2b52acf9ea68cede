// Resource files written to hurt: each case a regression test of issue 12. Whatever a file holds, `validate`
// and `sync` name it with a line and column, check the other files, and finish in bounded time and memory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCliCaptured } from '../support/cli.js';
import { writeTempFiles } from '../support/resources.js';

/** A syntactically valid connection string: sync refuses invalid files before it ever calls the hub. */
const HUB = [
  '--connection-string',
  `HostName=nowhere.invalid;SharedAccessKeyName=iothubowner;SharedAccessKey=${Buffer.alloc(32, 3).toString('base64')}`,
];

const INVALID = `apiVersion: iotsecurity.io/v1alpha1
kind: IoTHub
metadata: { name: hub }
spec:
  connectionStringSecretRef: { name: creds }
  tier: S9
`;

/** `&a [...]` then eight levels of `&x [*prev, *prev, ...]` nine wide: 9^9 values once expanded. */
function aliasBomb(): string {
  const lines = [`a: &a [${Array(9).fill('"lol"').join(', ')}]`];
  let previous = 'a';
  for (const name of 'bcdefghi') {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    previous = name;
  }
  return `${lines.join('\n')}\n`;
}

describe('an alias bomb', () => {
  it('is a located problem of its file; the other files are still checked (validate, text and JSON)', async () => {
    const dir = writeTempFiles({ 'a-bomb.yaml': aliasBomb(), 'b-invalid.yaml': INVALID });
    const bomb = join(dir, 'a-bomb.yaml');
    const run = await runCliCaptured(['validate', dir]);
    assert.equal(run.code, 1, run.stderr.join('\n'));
    assert.match(
      run.stdout[0],
      new RegExp(`^${bomb}:4:8: error: YAML/-: \\(syntax\\): too many aliases: .*limit of 100`),
    );
    assert.ok(run.stdout.some((line) => line.includes('b-invalid.yaml:6:9: error: IoTHub/hub: spec.tier')));

    const json = await runCliCaptured(['validate', '--output', 'json', dir]);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout.join('\n'));
    assert.equal(report.valid, false);
    assert.deepEqual(
      report.problems.map((p: { file: string; line: number }) => `${p.file}:${p.line}`),
      [`${bomb}:4`, `${join(dir, 'b-invalid.yaml')}:6`],
    );
  });

  it('is the same located problem for sync, with exit 1 and nothing written', async () => {
    const dir = writeTempFiles({ 'bomb.yaml': aliasBomb() });
    const run = await runCliCaptured(['sync', '-f', dir, ...HUB]);
    assert.equal(run.code, 1);
    assert.match(run.stderr.join('\n'), /bomb\.yaml:4:8: error: YAML\/-: \(syntax\): too many aliases/);
    assert.match(run.stderr.join('\n'), /nothing was written/);
  });

  it('passes a file with a few aliases', async () => {
    const dir = writeTempFiles({ 'fine.yaml': `a: &a [1, 2]\nb: [*a, *a, *a]\n` });
    assert.equal((await runCliCaptured(['validate', dir])).code, 0);
  });

  it('refuses an alias to its own anchor, which would be an endless value', async () => {
    const dir = writeTempFiles({
      'cycle.yaml': `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata: &m
  name: x
  labels: *m
`,
    });
    const run = await runCliCaptured(['validate', dir]);
    assert.equal(run.code, 1);
    assert.match(run.stdout[0], /cycle\.yaml:5:11: error: YAML\/-: \(syntax\): .*\*m .*its own anchor/);
  });

  it('refuses an alias that names no anchor before it', async () => {
    const dir = writeTempFiles({ 'unresolved.yaml': 'a: *later\nb: &later 1\n' });
    const run = await runCliCaptured(['validate', dir]);
    assert.equal(run.code, 1);
    assert.match(
      run.stdout[0],
      /unresolved\.yaml:1:4: error: YAML\/-: \(syntax\): the alias \*later refers to no anchor/,
    );
  });
});

/** Runs `validate` on `files` and says how long it took. */
async function timedValidate(...args: string[]) {
  const started = performance.now();
  const run = await runCliCaptured(['validate', ...args]);
  return { ...run, seconds: (performance.now() - started) / 1000 };
}

describe('files of many documents or many syntax errors', () => {
  it('refuses a file of 130,000 small documents past 10,000, names it, and checks the others', async () => {
    const dir = writeTempFiles({ 'a-many.yaml': '---\n{a: 1}\n'.repeat(130_000), 'b-invalid.yaml': INVALID });
    const run = await timedValidate(dir);
    assert.equal(run.code, 1, run.stderr.join('\n'));
    assert.deepEqual(run.stdout, [
      `${join(dir, 'a-many.yaml')}:20001:1: error: YAML/-: (syntax): more than 10000 documents in this file, the limit; the rest of the file is not read`,
      `${join(dir, 'b-invalid.yaml')}:6:9: error: IoTHub/hub: spec.tier: 'S9' is not one of F1, B1, B2, B3, S1, S2, S3; did you mean 'S1'?`,
    ]);
    console.log(`130,000 documents (1.4 MB): refused in ${run.seconds.toFixed(2)} s`);
    assert.ok(run.seconds < 10, `${run.seconds} s`);
    const sync = await runCliCaptured(['sync', '-f', dir, ...HUB]);
    assert.equal(sync.code, 1);
    assert.match(sync.stderr.join('\n'), /a-many\.yaml:20001:1: error: .*more than 10000 documents/);
  });

  it('shows the first 20 syntax errors of 200,000 lines of ] and stops reading', async () => {
    const dir = writeTempFiles({ 'brackets.yaml': ']\n'.repeat(200_000) });
    const file = join(dir, 'brackets.yaml');
    const run = await timedValidate('--output', 'json', dir);
    assert.equal(run.code, 1, run.stderr.join('\n'));
    const { problems } = JSON.parse(run.stdout.join('\n'));
    assert.equal(problems.length, 21);
    assert.deepEqual(problems[0], {
      file,
      line: 1,
      column: 1,
      severity: 'error',
      kind: 'YAML',
      name: '-',
      field: '(syntax)',
      message: 'Unexpected flow-seq-end token in YAML document: "]"',
    });
    assert.deepEqual(
      [problems[20].line, problems[20].message],
      [21, 'more than 20 syntax errors; the rest of the file is not read'],
    );
    console.log(`200,000 lines of ]: ${problems.length} problems in ${run.seconds.toFixed(2)} s`);
    assert.ok(run.seconds < 10, `${run.seconds} s`);
  });
});

describe('deep nesting', () => {
  it('stops at the 101st open flow collection of four million', async () => {
    const dir = writeTempFiles({ 'deep.yaml': `${'['.repeat(4_000_000)}\n` });
    const run = await timedValidate(dir);
    assert.equal(run.code, 1, run.stderr.join('\n'));
    assert.deepEqual(run.stdout, [
      `${join(dir, 'deep.yaml')}:1:101: error: YAML/-: (syntax): nested more than 100 levels deep, the limit (a resource needs fewer than 10); the rest of the file is not read`,
    ]);
    console.log(`4,000,000 '[': refused in ${run.seconds.toFixed(2)} s`);
    assert.ok(run.seconds < 10, `${run.seconds} s`);
  });

  it('refuses a document of block mappings nested 101 deep, and reads the next document', async () => {
    const deep = Array.from({ length: 101 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n');
    const dir = writeTempFiles({ 'deep.yaml': `${deep} x\n---\n${INVALID}` });
    const run = await timedValidate(dir);
    assert.equal(run.code, 1, run.stderr.join('\n'));
    assert.deepEqual(
      run.stdout.map((line) => line.slice(dir.length + 1)),
      [
        'deep.yaml:101:201: error: YAML/-: (syntax): nested more than 100 levels deep, the limit (a resource needs fewer than 10)',
        "deep.yaml:108:9: error: IoTHub/hub: spec.tier: 'S9' is not one of F1, B1, B2, B3, S1, S2, S3; did you mean 'S1'?",
      ],
    );
  });
});

describe('control characters in what is echoed', () => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u202e]/;

  const withName = (name: string) => `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata:
  name: "${name}"
spec:
  hubRef: { name: hub }
  target: { deviceIds: [d1] }
  agentConfiguration: { snapshotFrequency: PT1H }
`;

  it('escapes a name that would clear the screen and colour the output', async () => {
    const dir = writeTempFiles({ 'ansi.yaml': withName('a\\e[2J\\e[31mRED') });
    const run = await runCliCaptured(['validate', dir]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout.length, 1);
    assert.ok(!run.stdout[0].includes('\x1b'), JSON.stringify(run.stdout[0]));
    assert.match(
      run.stdout[0],
      /ansi\.yaml:4:9: error: SecurityModuleConfig\/a\\u001b\[2J\\u001b\[31mRED: metadata\.name: 'a\\u001b\[2J/,
    );
    const text = (await runCliCaptured(['validate', '-o', 'json', dir])).stdout.join('\n');
    assert.ok(!UNPRINTABLE.test(text.replaceAll('\n', '')), text);
    assert.equal(JSON.parse(text).problems[0].name, 'a\x1b[2J\x1b[31mRED', 'JSON keeps the value, escaped');
  });

  it('keeps a name with a line break on one line, so that it cannot forge a second problem', async () => {
    const forged = 'x\\nforged.yaml:1:1: error: IoTHub/x: spec: nothing wrong';
    const dir = writeTempFiles({
      'newline.yaml': withName(forged),
      'unicode.yaml': withName('a\\u2028b\\u202Ec\\x9b31m'),
    });
    const run = await runCliCaptured(['validate', dir]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout.length, 2, run.stdout.join('\n'));
    assert.ok(run.stdout.every((line) => line.startsWith(dir)));
    assert.match(run.stdout[0], /SecurityModuleConfig\/x\\nforged\.yaml:1:1: error: /);
    assert.match(run.stdout[1], /SecurityModuleConfig\/a\\u2028b\\u202ec\\u009b31m: /);
    const json = (await runCliCaptured(['validate', '-o', 'json', dir])).stdout.join('\n');
    assert.ok(!UNPRINTABLE.test(json.replaceAll('\n', '')), json);
    assert.equal(JSON.parse(json).problems[1].name, 'a\u2028b\u202ec\x9b31m');
    const sync = await runCliCaptured(['sync', '-f', dir, ...HUB]);
    assert.equal(sync.code, 1);
    assert.ok(
      sync.stderr.every((line) => !UNPRINTABLE.test(line)),
      sync.stderr.join('|'),
    );
  });

  it('escapes control characters in file names, field names and quoted values', async () => {
    const dir = writeTempFiles({
      'bell\u0007.yaml': `apiVersion: iotsecurity.io/v1alpha1
kind: IoTHub
metadata: { name: hub }
spec:
  connectionStringSecretRef: { name: creds }
  "ti\\rer": "S\\e]0;title\\a"
`,
    });
    const run = await runCliCaptured(['validate', dir]);
    assert.equal(run.code, 1);
    assert.ok(run.stdout.length > 0);
    for (const line of run.stdout) assert.ok(!UNPRINTABLE.test(line), JSON.stringify(line));
    assert.ok(
      run.stdout.some((line) => line.includes('bell\\u0007.yaml:6:3: error: IoTHub/hub: spec["ti\\rer"]')),
    );
  });
});

const DEVICE_LIST = `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata: { name: big, namespace: fleet }
spec:
  hubRef: { name: hub }
  agentConfiguration: { snapshotFrequency: PT1H }
  target:
    deviceIds:
`;

/** Writes `head` then `count` lines of `line(i)` to `file` in chunks, without holding the file in memory. */
function writeLines(file: string, head: string, count: number, line: (i: number) => string): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, head);
    for (let start = 0; start < count; start += 10_000) {
      const chunk: string[] = [];
      for (let i = start; i < Math.min(count, start + 10_000); i++) chunk.push(line(i));
      writeSync(fd, chunk.join(''));
    }
  } finally {
    closeSync(fd);
  }
}

describe('oversized input', () => {
  it('refuses a 57 MB file of 2.5 million device ids before reading it, naming the limit', async () => {
    const dir = writeTempFiles({ 'b-invalid.yaml': INVALID });
    writeLines(
      join(dir, 'a-ids.yaml'),
      DEVICE_LIST,
      2_500_000,
      (i) => `    - d-${String(i).padStart(15, '0')}\n`,
    );
    const rss = process.memoryUsage().rss;
    const run = await timedValidate(dir);
    const grown = (process.memoryUsage().rss - rss) / 2 ** 20;
    assert.equal(run.code, 1, run.stderr.join('\n'));
    assert.deepEqual(run.stdout, [
      `${join(dir, 'a-ids.yaml')}:1:1: error: YAML/-: (file): the file is 57.2 MiB, more than the limit of 4 MiB; it is not read`,
      `${join(dir, 'b-invalid.yaml')}:6:9: error: IoTHub/hub: spec.tier: 'S9' is not one of F1, B1, B2, B3, S1, S2, S3; did you mean 'S1'?`,
    ]);
    console.log(
      `57 MB file of 2.5 million device ids: refused in ${run.seconds.toFixed(3)} s, RSS +${grown.toFixed(0)} MiB`,
    );
    assert.ok(run.seconds < 1, `${run.seconds} s`);
    assert.ok(grown < 50, `${grown} MiB`);
    const sync = await runCliCaptured(['sync', '-f', dir, ...HUB]);
    assert.equal(sync.code, 1);
    assert.match(sync.stderr.join('\n'), /a-ids\.yaml:1:1: error: YAML\/-: \(file\): the file is 57\.2 MiB/);
  });

  it('refuses a 50 MB scalar the same way', async () => {
    const dir = writeTempFiles({});
    writeLines(join(dir, 'scalar.yaml'), 'name: "', 50_000, () => 'x'.repeat(1000));
    const run = await timedValidate(dir);
    assert.equal(run.code, 1);
    assert.match(
      run.stdout[0],
      /scalar\.yaml:1:1: error: YAML\/-: \(file\): the file is 47\.7 MiB, more than the limit of 4 MiB/,
    );
    console.log(`50 MB scalar: refused in ${run.seconds.toFixed(3)} s`);
    assert.ok(run.seconds < 1, `${run.seconds} s`);
  });

  it('refuses a document over 1.5 MiB at its first line and judges the next one', async () => {
    const dir = writeTempFiles({});
    const file = join(dir, 'ids.yaml');
    writeLines(file, DEVICE_LIST, 80_000, (i) => `    - d-${String(i).padStart(15, '0')}\n`);
    const after = `---\n${INVALID}`;
    const fd = openSync(file, 'a');
    writeSync(fd, after);
    closeSync(fd);
    const run = await timedValidate(dir);
    assert.equal(run.code, 1);
    assert.deepEqual(
      run.stdout.map((line) => line.slice(dir.length + 1)),
      [
        "ids.yaml:1:1: error: YAML/-: (document): the document is 1.8 MiB, more than the limit of 1.5 MiB (etcd's request limit, which bounds every Kubernetes object); it is not read",
        "ids.yaml:80015:9: error: IoTHub/hub: spec.tier: 'S9' is not one of F1, B1, B2, B3, S1, S2, S3; did you mean 'S1'?",
      ],
    );
    console.log(`a 1.8 MiB document of 80,000 device ids: refused in ${run.seconds.toFixed(2)} s`);
    assert.ok(run.seconds < 5, `${run.seconds} s`);
  });

  it('judges a list of 12,000 device ids in full, under the limits', async () => {
    const dir = writeTempFiles({});
    writeLines(join(dir, 'ids.yaml'), DEVICE_LIST, 12_000, (i) => `    - d-${i}\n`);
    const run = await timedValidate(dir);
    assert.equal(run.code, 1);
    assert.match(
      run.stdout[0],
      /ids\.yaml:8:5: error: SecurityModuleConfig\/big: spec\.target\.deviceIds: .*10000/,
    );
  });
});

describe('files that cannot be read as resources', () => {
  it('reports a dangling symbolic link in a directory as a problem of its own and reads the rest', async () => {
    const dir = writeTempFiles({ 'b-invalid.yaml': INVALID });
    symlinkSync(join(dir, 'gone.yaml'), join(dir, 'a-dangling.yaml'));
    symlinkSync(join(dir, 'gone.txt'), join(dir, 'not-yaml.txt'));
    const run = await runCliCaptured(['validate', dir]);
    assert.equal(run.code, 1, run.stderr.join('\n'));
    assert.deepEqual(
      run.stdout.map((line) => line.slice(dir.length + 1)),
      [
        `a-dangling.yaml:1:1: error: YAML/-: (file): a symbolic link to ${join(dir, 'gone.yaml')}, which does not exist`,
        "b-invalid.yaml:6:9: error: IoTHub/hub: spec.tier: 'S9' is not one of F1, B1, B2, B3, S1, S2, S3; did you mean 'S1'?",
      ],
    );
    const sync = await runCliCaptured(['sync', '-f', dir, ...HUB]);
    assert.equal(sync.code, 1);
    assert.match(sync.stderr.join('\n'), /a-dangling\.yaml:1:1: error: YAML\/-: \(file\): a symbolic link/);
  });

  it('follows a symbolic link to a directory once, not round a loop', async () => {
    const dir = writeTempFiles({ 'b-invalid.yaml': INVALID });
    mkdirSync(join(dir, 'sub'));
    symlinkSync(dir, join(dir, 'sub', 'loop'));
    const run = await runCliCaptured(['validate', dir]);
    assert.equal(run.code, 1, run.stderr.join('\n'));
    assert.equal(run.stdout.length, 1, run.stdout.join('\n'));
  });

  it('says a binary file is not UTF-8 text in one line, without its bytes', async () => {
    const dir = writeTempFiles({ 'b-invalid.yaml': INVALID });
    const bytes = Buffer.alloc(200_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 256;
    writeFileSync(
      join(dir, 'a-binary.yaml'),
      Buffer.concat([Buffer.from('kind: x\n  # caf'), Buffer.from([0]), bytes]),
    );
    writeFileSync(join(dir, 'c-latin1.yaml'), Buffer.from('name: caf\xe9\n', 'latin1'));
    writeFileSync(join(dir, 'd-utf16.yaml'), Buffer.from('\ufeffkind: IoTHub\n', 'utf16le'));
    const run = await runCliCaptured(['validate', dir]);
    assert.equal(run.code, 1);
    const lines = run.stdout.map((line) => line.slice(dir.length + 1));
    assert.deepEqual(lines, [
      'a-binary.yaml:2:8: error: YAML/-: (file): binary content (a NUL byte here): resource files are UTF-8 text; it is not read',
      "b-invalid.yaml:6:9: error: IoTHub/hub: spec.tier: 'S9' is not one of F1, B1, B2, B3, S1, S2, S3; did you mean 'S1'?",
      'c-latin1.yaml:1:10: error: YAML/-: (file): not UTF-8 text (the byte 0xe9 here is no part of a UTF-8 character); it is not read',
      'd-utf16.yaml:1:1: error: YAML/-: (file): UTF-16 text: resource files are UTF-8 (convert it, e.g. with iconv -f UTF-16 -t UTF-8); it is not read',
    ]);
    assert.ok(run.stdout.join('\n').length < 1000);
  });

  it('refuses a named pipe or a device without waiting on it', async () => {
    const dir = writeTempFiles({});
    execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
    const run = await runCliCaptured(['validate', dir, '/dev/zero']);
    assert.equal(run.code, 1);
    assert.deepEqual(run.stdout, [
      '/dev/zero:1:1: error: YAML/-: (file): not a regular file; it is not read',
      `${join(dir, 'pipe.yaml')}:1:1: error: YAML/-: (file): not a regular file; it is not read`,
    ]);
  });

  it('gives a usage error for a missing path given on the command line', async () => {
    const dir = writeTempFiles({ 'a.yaml': INVALID });
    const run = await runCliCaptured(['validate', dir, join(dir, 'missing.yaml')]);
    assert.equal(run.code, 2);
    assert.match(run.stderr[0], /missing\.yaml: no such file or directory/);
  });
});

describe('warnings of the YAML library', () => {
  it('prints no process warning for a mapping key that is a collection', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const dir = writeTempFiles({ 'key.yaml': '? [a, "\\e[31m"]\n: b\n' });
      const run = await runCliCaptured(['validate', dir]);
      assert.equal(run.code, 0);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });
});
