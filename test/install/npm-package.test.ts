// The command line installed as users install it: `npm pack`, `npm install -g` of the tarball into a fresh
// prefix, then the installed bin run from an empty folder with none of the repository's modules in reach:
// --version, help for every command, validate on the examples it ships, sync of them to the emulator it ships.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import {
  type InstalledPackage,
  installGlobally,
  type PackedPackage,
  packPackage,
  tail,
} from '../support/installed-package.js';
import { REPO } from '../support/kube.js';
import { keepKeys, keepOutput } from '../support/suite-output.js';

const MANIFEST = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};

describe('the npm package', () => {
  let packed: PackedPackage;
  let installed: InstalledPackage;
  before(async () => {
    packed = await packPackage();
    installed = await installGlobally(packed.tarball);
  });
  after(() => {
    installed?.remove();
    packed?.remove();
  });

  it('holds what the command line runs and reads, and nothing else', () => {
    const files = packed.files;
    for (const needed of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/src/cli/main.js',
      'dist/src/package-folder.js',
      'schemas/securitymoduleconfig.schema.json',
      'schemas/twinconfig.schema.json',
      'crds/twinconfigs.iotsecurity.io.yaml',
      'examples/thermostats.yaml',
      'examples/pnp-models.yaml',
    ])
      assert.ok(files.includes(needed), `${needed} is in the package`);
    const extra = files.filter(
      (f) => !/^(dist\/src\/.*\.js|schemas\/.*\.schema\.json|crds\/.*\.yaml|examples\/.*)$/.test(f),
    );
    assert.deepEqual(extra.sort(), ['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
  });

  it('installs on this Node with engine-strict, with its dependencies and none of the dev ones', () => {
    const modules = join(installed.root, 'node_modules');
    for (const dependency of Object.keys(MANIFEST.dependencies))
      assert.ok(existsSync(join(modules, dependency, 'package.json')), `${dependency} is installed`);
    // @types/node excepted: @kubernetes/client-node depends on it.
    for (const dev of Object.keys(MANIFEST.devDependencies).filter((d) => d !== '@types/node'))
      assert.ok(!existsSync(join(modules, dev)), `the dev dependency ${dev} is not installed`);
    assert.match(
      readFileSync(join(installed.root, 'dist/src/cli/main.js'), 'utf8'),
      /^#!\/usr\/bin\/env node\n/,
    );
  });

  it("prints the package's version with --version", async () => {
    const run = await installed.run(['--version']);
    assert.equal(run.code, 0, tail(run));
    assert.equal(run.stdout, `${MANIFEST.version}\n`);
  });

  it('answers `help COMMAND` for every command its help lists, each loading with the production dependencies', async () => {
    const help = await installed.run(['help']);
    assert.equal(help.code, 0, tail(help));
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+)\b/gm)]
      .map((m) => m[1])
      .filter((c) => c !== 'help');
    assert.deepEqual(commands, ['run', 'validate', 'sync', 'export', 'emulator', 'demo']);
    for (const command of commands) {
      const run = await installed.run(['help', command]);
      assert.equal(run.code, 0, `help ${command}: ${tail(run)}`);
      assert.match(run.stdout, new RegExp(`^Usage: iot-security-operator ${command}`));
    }
  });

  it('validates the examples it ships', async () => {
    const run = await installed.run(['validate', join(installed.root, 'examples')]);
    assert.equal(run.code, 0, tail(run));
    assert.match(run.stderr, /^valid: 6 resources in 6 files, 0 errors, 0 warnings$/m);
  });

  it('says how to run demo when there is no cluster (the local control plane is not in the package)', async () => {
    const run = await installed.run(['demo', '--devices', '10']);
    assert.equal(run.code, 1, tail(run));
    assert.match(
      run.stderr,
      /no Kubernetes API server: set KUBECONFIG to a cluster of yours .* or run 'demo --gitops'/,
    );
  });

  describe('sync, against the emulator it ships', () => {
    let emulator: ChildProcess;
    let hub: { connectionString: string; caFile: string };
    before(async () => {
      // Agents and IoT Plug and Play devices that answer at once; no quota, so the run is bound by the devices.
      // A fixed seed: a random one leaves one of the two models without a device about one run in 30 (six devices,
      // half controllers), and that model's TwinConfig with none to converge. Seed 19 gives two controllers and four
      // thermostats.
      emulator = spawn(
        installed.bin,
        [
          'emulator',
          '--seed',
          '19',
          '--devices',
          '30',
          '--pnp-devices',
          '6',
          '--pnp-slow',
          '0',
          '--agent-delay',
          '10..50',
          '--no-throttle',
        ],
        { cwd: installed.cwd, env: installed.env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let log = '';
      emulator.stderr?.on('data', (chunk) => {
        log += chunk;
      });
      emulator.once('close', () => keepOutput('installed-emulator', log));
      const firstLine = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the emulator did not start in 60 s: ${log}`)),
          60_000,
        );
        createInterface({ input: emulator.stdout! }).once('line', (line) => {
          clearTimeout(timer);
          resolve(line);
        });
        emulator.once('exit', (code) => reject(new Error(`the emulator exited (${code}): ${log}`)));
      });
      hub = JSON.parse(firstLine);
      keepKeys([/SharedAccessKey=([^;]+)/.exec(hub.connectionString)![1]]);
    });
    after(() => {
      if (emulator.exitCode === null) emulator.kill('SIGKILL');
    });

    // The emulator's IoT Plug and Play devices are tagged with an environment but have no security module: the
    // TwinConfigs and the device-list SecurityModuleConfig, not the fleet baseline, which would target them.
    const files = () =>
      ['iothub.yaml', 'pnp-models.yaml', 'thermostats.yaml', 'lab-devices.yaml'].flatMap((f) => [
        '-f',
        join(installed.root, 'examples', f),
      ]);

    it('writes the TwinConfigs and a SecurityModuleConfig and waits until the devices converge', async () => {
      const run = await installed.run(
        ['sync', ...files(), '--ca-file', hub.caFile, '--wait', '--timeout', '2m'],
        { IOTHUB_CONNECTION_STRING: hub.connectionString },
        3 * 60_000,
      );
      assert.equal(run.code, 0, tail(run));
      const rows = run.stdout.split('\n').filter((l) => l.startsWith('iot-security/'));
      assert.deepEqual(rows.map((r) => r.split(/\s+/)[0]).sort(), [
        'iot-security/TwinConfig/controller-thermostat1',
        'iot-security/TwinConfig/thermostat-target',
        'iot-security/lab-gateways-debug',
      ]);
      for (const row of rows) assert.match(row, /\s[1-9]\d*\s.*True \(Converged\)$/, row);
    });

    it('then finds nothing to change in a dry run', async () => {
      const run = await installed.run(['sync', ...files(), '--ca-file', hub.caFile, '--dry-run'], {
        IOTHUB_CONNECTION_STRING: hub.connectionString,
      });
      assert.equal(run.code, 0, tail(run));
      assert.match(run.stdout, /\(dry run, nothing written\): no changes/);
    });

    it('stops the emulator cleanly on SIGTERM', async () => {
      const exited = new Promise<number | null>((resolve) => emulator.once('exit', resolve));
      emulator.kill('SIGTERM');
      assert.equal(await exited, 0);
    });
  });
});
