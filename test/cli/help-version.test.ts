// `help`, `help COMMAND` and `--version`, as a user and a pipeline call them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { packageVersion } from '../../src/cli/package-version.js';
import { runCliCaptured } from '../support/cli.js';
import { REPO } from '../support/kube.js';
import { writeTempFiles } from '../support/resources.js';

const VERSION = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version as string;

describe('help', () => {
  it('lists the commands, alone or as --help, and exits 0', async () => {
    for (const argv of [['help'], ['--help'], ['-h']]) {
      const run = await runCliCaptured(argv);
      assert.equal(run.code, 0);
      assert.match(run.stdout.join('\n'), /^Usage: iot-security-operator <command>/);
      assert.match(run.stdout.join('\n'), /help \[COMMAND\]/);
    }
  });

  it("prints a command's options as `COMMAND --help` does", async () => {
    for (const command of ['validate', 'sync', 'run', 'demo']) {
      const help = await runCliCaptured(['help', command]);
      const flag = await runCliCaptured([command, '--help']);
      assert.equal(help.code, 0, command);
      assert.match(help.stdout.join('\n'), new RegExp(`^Usage: iot-security-operator ${command}`));
      assert.deepEqual(help.stdout, flag.stdout, command);
    }
  });

  it('lists in the synopsis of sync in docs/command-line.md every option its help lists', async () => {
    const page = readFileSync(join(REPO, 'docs', 'command-line.md'), 'utf8');
    const synopsis = /```\n(iot-security-operator sync -f [\s\S]*?)```/.exec(page)?.[1] ?? '';
    assert.ok(synopsis, 'docs/command-line.md has a synopsis of sync');
    const help = (await runCliCaptured(['help', 'sync'])).stdout.join('\n');
    const options = (text: string) => new Set(text.match(/--[a-z][a-z-]+/g));
    const missing = [...options(help)].filter((o) => o !== '--help' && !options(synopsis).has(o));
    assert.deepEqual(
      missing,
      [],
      'options of `sync --help` missing from the synopsis in docs/command-line.md',
    );
  });

  it('names an unknown command and exits 2', async () => {
    const run = await runCliCaptured(['help', 'frobnicate']);
    assert.equal(run.code, 2);
    assert.match(run.stderr.join('\n'), /unknown command 'frobnicate'/);
  });
});

describe('--version', () => {
  it("prints package.json's version and exits 0", async () => {
    const run = await runCliCaptured(['--version']);
    assert.equal(run.code, 0);
    assert.deepEqual(run.stdout, [VERSION]);
  });

  it('finds the package.json from the built layout (dist/src/cli) as from the sources', () => {
    const root = writeTempFiles({
      'package.json': JSON.stringify({ name: 'iot-security-operator', version: '9.8.7' }),
    });
    // A package.json of another package on the way up (as a dependency's would be) is passed over.
    mkdirSync(join(root, 'dist', 'src', 'cli'), { recursive: true });
    writeFileSync(join(root, 'dist', 'package.json'), JSON.stringify({ name: 'other', version: '1.0.0' }));
    const built = pathToFileURL(join(root, 'dist', 'src', 'cli', 'package-version.js')).href;
    assert.equal(packageVersion(built), '9.8.7');
    assert.equal(packageVersion(), VERSION);
    assert.throws(() => packageVersion(pathToFileURL('/no-package-here/cli/main.js').href), /cannot find/);
  });

  it('works as a process started through tsx, from another working directory', () => {
    // tsx named by its location: the working directory has no node_modules to resolve it from.
    const tsx = import.meta.resolve('tsx');
    const run = spawnSync(process.execPath, ['--import', tsx, join(REPO, 'src/cli/main.ts'), '--version'], {
      encoding: 'utf8',
      cwd: writeTempFiles({}),
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `${VERSION}\n`);
  });
});
