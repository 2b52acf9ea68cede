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

  it('prints the options of every command the help lists, as `COMMAND --help` and `-h` do', async () => {
    const commands = [...(await commandLines()).keys()];
    assert.deepEqual(commands, ['run', 'validate', 'sync', 'export', 'emulator', 'demo']);
    for (const command of commands) {
      const help = await runCliCaptured(['help', command]);
      assert.equal(help.code, 0, command);
      assert.deepEqual(help.stderr, [], command);
      assert.match(help.stdout.join('\n'), new RegExp(`^Usage: iot-security-operator ${command}`));
      for (const flag of ['--help', '-h']) {
        const run = await runCliCaptured([command, flag]);
        assert.equal(run.code, 0, `${command} ${flag}`);
        assert.deepEqual(run.stdout, help.stdout, `${command} ${flag}`);
      }
    }
  });

  it('describes demo as what it runs: the operator on a Kubernetes API server, or sync with --gitops', async () => {
    const demo = (await commandLines()).get('demo') ?? '';
    assert.match(demo, /the operator on an emulated fleet of 2,000 devices/);
    assert.match(demo, /Kubernetes API server/);
    assert.match(demo, /KUBECONFIG/);
    assert.match(demo, /--gitops: the same with sync, no cluster/);
    // The command's own help says the same.
    const usage = (await runCliCaptured(['help', 'demo'])).stdout.join('\n');
    assert.match(usage, /by default\s+the operator: a local Kubernetes API server/);
    assert.match(usage, /--gitops\s+the same resources with 'sync --wait', no cluster/);
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

/** Each command of the top-level help with its description (continuation lines joined). */
async function commandLines(): Promise<Map<string, string>> {
  const text = (await runCliCaptured(['help'])).stdout.join('\n');
  const section = /\nCommands:\n([\s\S]*?)\n\n/.exec(text)?.[1] ?? '';
  const lines = new Map<string, string>();
  let current = '';
  for (const line of section.split('\n')) {
    const entry = /^ {2}([a-z]+)\b.*?\s{2,}(\S.*)$/.exec(line);
    if (entry) {
      current = entry[1];
      lines.set(current, entry[2]);
    } else lines.set(current, `${lines.get(current)} ${line.trim()}`);
  }
  lines.delete('help');
  return lines;
}

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
