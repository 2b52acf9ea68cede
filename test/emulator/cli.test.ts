import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ClientSecretCredential } from '@azure/identity';
import iothub from 'azure-iothub';
import { emulatorLog, parseEmulatorArgs, runEmulatorCommand } from '../../src/cli/commands/emulator.js';
import { HubHttpsAgent, registryFromConnectionString, useHubAgent } from '../../src/hub/sdk-transport.js';
import { errorCodeOf, rejectionOf } from '../support/emulator-requests.js';
import { clientSecret, TENANT } from '../support/entra.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/emulator-command.ts', import.meta.url));

/** The emulator command in a child process, once it has printed its one JSON line. */
async function startEmulatorProcess(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const firstLine = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
    });
    child.on('exit', () => reject(new Error(`the command exited before listening: ${stderr}`)));
  });
  return { child, firstLine, exited, stdout: () => stdout, stderr: () => stderr };
}

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
      '--quota',
      'twinUpdate=20/s',
      '--quota=query=100/min',
      '--faults',
      '{"twinUpdate":{"errorRatio":0.1,"errorStatuses":[500,503],"latencyMs":{"min":20,"max":200}}}',
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
      quotas: { twinUpdate: { limit: 20, windowMs: 1000 }, query: { limit: 100, windowMs: 60_000 } },
      faults: {
        twinUpdate: { errorRatio: 0.1, errorStatuses: [500, 503], latencyMs: { min: 20, max: 200 } },
      },
    });
  });

  it('parses the IoT Plug and Play options, and leaves them out when not given', () => {
    assert.deepEqual(
      parseEmulatorArgs([
        '--pnp-devices',
        '50',
        '--pnp-controllers',
        '0.3',
        '--pnp-legacy-firmware',
        '0.5',
        '--pnp-slow',
        '0.2',
        '--pnp-slow-delay',
        '1000..3000',
      ]),
      {
        ...(parseEmulatorArgs([]) as object),
        pnpDevices: 50,
        pnpControllerRatio: 0.3,
        pnpLegacyRatio: 0.5,
        pnpSlowRatio: 0.2,
        pnpSlowDelay: { min: 1000, max: 3000 },
      },
    );
    const none = parseEmulatorArgs([]) as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(none).filter((key) => key.startsWith('pnp')),
      [],
    );
    assert.throws(() => parseEmulatorArgs(['--pnp-devices', 'some']), /--pnp-devices must be a whole number/);
    assert.throws(() => parseEmulatorArgs(['--pnp-slow', '2']), /--pnp-slow must be between 0 and 1/);
    assert.throws(
      () => parseEmulatorArgs(['--pnp-slow-delay', '5..1']),
      /--pnp-slow-delay must be MIN..MAX milliseconds/,
    );
  });

  it('leaves quotas and faults out when not given', () => {
    const options = parseEmulatorArgs([]);
    assert.equal(options === 'help' ? 'help' : 'quotas' in options, false);
    assert.equal(options === 'help' ? 'help' : 'faults' in options, false);
  });

  it('names what is wrong in --quota and --faults', () => {
    assert.throws(
      () => parseEmulatorArgs(['--quota', 'twinWrite=20/s']),
      /--quota: unknown operation class 'twinWrite'; use one of registry, twinRead, twinUpdate, query, jobs, jobDeviceOperations, configurations/,
    );
    assert.throws(
      () => parseEmulatorArgs(['--quota', 'twinUpdate']),
      /--quota must be CLASS=N\/s or CLASS=N\/min/,
    );
    for (const rate of ['20', '20/h', '0/s', '-3/s', '2.5/s', 'many/min', '']) {
      assert.throws(
        () => parseEmulatorArgs(['--quota', `twinUpdate=${rate}`]),
        /--quota twinUpdate must be a whole number of at least 1 per second or minute/,
        rate,
      );
    }
    assert.throws(
      () => parseEmulatorArgs(['--quota', 'query=10/min', '--quota', 'query=20/min']),
      /--quota query is given more than once/,
    );
    assert.throws(() => parseEmulatorArgs(['--faults', '{twinUpdate:']), /--faults must be JSON: /);
    assert.throws(
      () => parseEmulatorArgs(['--faults', '{"twinUpdate":{"errorRatio":2}}']),
      /--faults is not a valid fault configuration: faults.twinUpdate.errorRatio must be a number between 0 and 1/,
    );
    assert.throws(
      () => parseEmulatorArgs(['--faults', '{"twinWrite":{}}']),
      /--faults is not a valid fault configuration: unknown operation class twinWrite/,
    );
    assert.throws(() => parseEmulatorArgs(['--faults', '[]']), /--faults is not a valid fault configuration/);
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

  async function exitOf(argv: string[]): Promise<{ code: number; stderr: string }> {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
    try {
      return { code: await runEmulatorCommand(argv), stderr: written.join('') };
    } finally {
      process.stderr.write = original;
    }
  }

  it('exits with 2 on a bad option', async () => {
    const { code, stderr } = await exitOf(['--bogus']);
    assert.equal(code, 2);
    assert.match(stderr, /Usage: iot-security-operator emulator/);
  });

  it('exits with 2 and says why on a bad --quota or --faults', async () => {
    const quota = await exitOf(['--quota', 'twinWrite=5/s']);
    assert.equal(quota.code, 2);
    assert.match(quota.stderr, /^--quota: unknown operation class 'twinWrite'; use one of registry, /);
    assert.match(quota.stderr, /--quota CLASS=N\/s\|N\/min/);
    const rate = await exitOf(['--quota', 'twinUpdate=fast']);
    assert.equal(rate.code, 2);
    assert.match(rate.stderr, /^--quota twinUpdate must be a whole number/);
    const faults = await exitOf(['--faults', '{"all":{"latencyMs":-5}}']);
    assert.equal(faults.code, 2);
    assert.match(
      faults.stderr,
      /^--faults is not a valid fault configuration: faults.all.latencyMs must be >= 0/,
    );
    const json = await exitOf(['--faults', 'errorRatio=1']);
    assert.equal(json.code, 2);
    assert.match(json.stderr, /^--faults must be JSON: /);
  });

  it('exits with 2 (a usage error) on a tier and units that do not go together', async () => {
    const { code, stderr } = await exitOf(['--tier', 'S3', '--units', '11']);
    assert.equal(code, 2);
    assert.match(stderr, /^--tier S3 --units 11: a S3 hub has at most 10 units, not 11/);
    assert.match(stderr, /Usage: iot-security-operator emulator/);
    assert.throws(() => parseEmulatorArgs(['--tier', 'F1', '--units', '2']), /a F1 hub has at most 1 units/);
    assert.doesNotThrow(() => parseEmulatorArgs(['--tier', 'S3', '--units', '10']));
  });

  it('logs through the process logger, which redacts keys and signatures', async () => {
    let written = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        written += chunk;
        done();
      },
    });
    const log = emulatorLog({ stream, format: 'json', level: 'debug' });
    log('error', 'saving failed for HostName=h;SharedAccessKeyName=p;SharedAccessKey=c2VjcmV0S2V5', {
      authorization: 'SharedAccessSignature sr=localhost%3A1&sig=c2lnbmF0dXJl%3D&se=1&skn=iothubowner',
      nested: { connectionString: 'HostName=h;SharedAccessKey=bmVzdGVkS2V5' },
    });
    await tick();
    assert.ok(written.length > 0);
    assert.doesNotMatch(written, /c2VjcmV0S2V5|c2lnbmF0dXJl|bmVzdGVkS2V5/);
    const line = JSON.parse(written.split('\n')[0]) as Record<string, unknown>;
    assert.equal(line.component, 'emulator');
    assert.equal(line.level, 'error');
    assert.match(String(line.message), /SharedAccessKey=\[REDACTED\]/);
  });

  it('prints one JSON line when listening, serves the SDK, logs to stderr and stops on SIGTERM', async () => {
    const emulator = await startEmulatorProcess(['--devices', '2', '--seed', '5', '--no-throttle']);
    const { child, firstLine, exited } = emulator;
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
      const registry = registryFromConnectionString(line.connectionString, {
        ca: await readFile(line.caFile, 'utf8'),
      });
      const twin = await registry.getTwin('device-000001');
      assert.equal(twin.responseBody.deviceId, 'device-000001');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.equal(emulator.stdout().trim().split('\n').length, 1);
    assert.match(emulator.stderr(), /"message":"emulator listening"/);
    assert.match(emulator.stderr(), /"message":"emulator stopped"/);
  });

  it('plays Entra ID from --entra FILE and refuses shared keys with --no-local-auth', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'emulator-entra-'));
    const secret = clientSecret();
    const file = join(folder, 'entra.json');
    writeFileSync(
      file,
      JSON.stringify({
        tenantId: TENANT,
        applications: [{ clientId: 'cli-app', secrets: [secret] }],
        roleAssignments: { 'cli-app': ['IoT Hub Data Reader'] },
      }),
    );
    const emulator = await startEmulatorProcess([
      '--devices',
      '1',
      '--seed',
      '5',
      '--entra',
      file,
      '--no-local-auth',
    ]);
    const { child, firstLine, exited } = emulator;
    try {
      const line = JSON.parse(firstLine) as Record<string, string>;
      assert.equal(line.authorityHost, line.endpoint);
      const ca = await readFile(line.caFile, 'utf8');
      const refused = await rejectionOf(
        registryFromConnectionString(line.connectionString, { ca }).getTwin('device-000001'),
      );
      assert.equal(refused.response?.statusCode, 401);
      const credential = new ClientSecretCredential(TENANT, 'cli-app', secret, {
        authorityHost: line.authorityHost,
        disableInstanceDiscovery: true,
        tlsOptions: { ca: [...tls.rootCertificates, ca] },
      });
      const registry = iothub.Registry.fromTokenCredential(line.hostName, credential);
      useHubAgent(registry, new HubHttpsAgent({ ca }));
      assert.equal((await registry.getTwin('device-000001')).responseBody.deviceId, 'device-000001');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it('names what is wrong in an --entra file', () => {
    const folder = mkdtempSync(join(tmpdir(), 'emulator-entra-'));
    const file = join(folder, 'entra.json');
    writeFileSync(file, JSON.stringify({ tenantId: 't', roleAssignments: { app: ['Owner'] } }));
    assert.throws(
      () => parseEmulatorArgs(['--entra', file]),
      /roleAssignments\.app must list roles of IoT Hub Data Contributor/,
    );
    assert.throws(
      () => parseEmulatorArgs(['--entra', join(folder, 'absent.json')]),
      /must be a readable JSON file/,
    );
  });

  it('starts with the --faults and --quota of its command line, and logs the overrides', async () => {
    const emulator = await startEmulatorProcess([
      '--devices',
      '2',
      '--seed',
      '5',
      '--no-throttle',
      '--quota',
      'twinUpdate=2/min',
      '--faults',
      '{"twinRead":{"errorRatio":1,"errorStatuses":[500]}}',
    ]);
    const { child, firstLine, exited } = emulator;
    try {
      const line = JSON.parse(firstLine) as Record<string, string>;
      const registry = registryFromConnectionString(line.connectionString, {
        ca: await readFile(line.caFile, 'utf8'),
      });
      // --faults: every twin read fails with 500 from the start.
      const readError = await rejectionOf(registry.getTwin('device-000001'));
      assert.equal(readError.response?.statusCode, 500);
      assert.equal(errorCodeOf(readError.responseBody), 'ServerError');
      // --quota with --no-throttle: two twin updates a minute, and no limit on anything else (S1 allows 20
      // queries a minute).
      for (const round of [1, 2]) await registry.updateTwin('device-000001', { tags: { round } }, '*');
      const throttled = await rejectionOf(registry.updateTwin('device-000001', { tags: { round: 3 } }, '*'));
      assert.equal(throttled.response?.statusCode, 429);
      assert.equal(errorCodeOf(throttled.responseBody), 'ThrottlingException');
      for (let i = 0; i < 25; i++) await registry.createQuery('SELECT * FROM devices').next();
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    const listening = emulator
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"message":"emulator listening"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(listening.length, 1);
    assert.equal(listening[0].throttle, false);
    assert.deepEqual(listening[0].quotas, { twinUpdate: '2/min' });
    assert.deepEqual(listening[0].faults, { twinRead: { errorRatio: 1, errorStatuses: [500] } });
  });
});
