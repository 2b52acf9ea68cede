import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseEmulatorArgs, runEmulatorCommand } from '../../src/cli/commands/emulator.js';
import { registryFromConnectionString } from '../../src/hub/sdk-transport.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/emulator-command.ts', import.meta.url));

describe('the emulator command line', () => {
  it('parses every option the issue lists', () => {
    const options = parseEmulatorArgs([
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--devices',
      '100',
      '--tier',
      'S2',
      '--units',
      '3',
      '--seed',
      '7',
      '--state',
      '/tmp/hub.state',
      '--agent-delay',
      '10..20',
      '--offline-ratio',
      '0.1',
      '--lowercase-agents',
      '0.5',
      '--query-lag',
      '2000',
      '--no-throttle',
    ]);
    assert.deepEqual(options, {
      host: '127.0.0.1',
      port: 0,
      devices: 100,
      tier: 'S2',
      units: 3,
      seed: 7,
      statePath: '/tmp/hub.state',
      agentDelay: { min: 10, max: 20 },
      offlineRatio: 0.1,
      lowercaseRatio: 0.5,
      queryLagMs: 2000,
      throttle: false,
    });
  });

  it('names the option that is wrong', () => {
    assert.throws(() => parseEmulatorArgs(['--agent-delay', '500..50']), /--agent-delay must be MIN..MAX/);
    assert.throws(() => parseEmulatorArgs(['--tier', 'S9']), /--tier must be one of F1, S1, S2, S3/);
    assert.throws(
      () => parseEmulatorArgs(['--offline-ratio', '1.5']),
      /--offline-ratio must be between 0 and 1/,
    );
    assert.throws(() => parseEmulatorArgs(['--devices', 'many']), /--devices must be a whole number/);
  });

  it('exits with 2 on a bad option', async () => {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
    try {
      assert.equal(await runEmulatorCommand(['--bogus']), 2);
    } finally {
      process.stderr.write = original;
    }
    assert.match(written.join(''), /Usage: iot-security-operator emulator/);
  });

  it('prints one JSON line when listening, serves the SDK, logs to stderr and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', FIXTURE, '--devices', '2', '--seed', '5', '--no-throttle'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const firstLine = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
      });
      child.on('exit', () => reject(new Error(`the command exited before listening: ${stderr}`)));
    });
    try {
      const line = JSON.parse(firstLine) as Record<string, string>;
      assert.deepEqual(Object.keys(line), ['endpoint', 'hostName', 'connectionString', 'caFile']);
      assert.match(line.hostName, /^localhost:\d+$/);
      assert.equal(line.endpoint, `https://${line.hostName}`);
      assert.match(
        line.connectionString,
        new RegExp(`^HostName=${line.hostName};SharedAccessKeyName=iothubowner;SharedAccessKey=`),
      );
      await access(line.caFile);
      const { readFile } = await import('node:fs/promises');
      const registry = registryFromConnectionString(line.connectionString, {
        ca: await readFile(line.caFile, 'utf8'),
      });
      const twin = await registry.getTwin('device-000001');
      assert.equal(twin.responseBody.deviceId, 'device-000001');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.equal(stdout.trim().split('\n').length, 1);
    assert.match(stderr, /"message":"emulator listening"/);
    assert.match(stderr, /"message":"emulator stopped"/);
  });
});
