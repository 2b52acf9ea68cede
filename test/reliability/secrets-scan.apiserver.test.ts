// Secrets never reach a log line, an Event, a status or an error message. Every path where a hub's key is at
// hand and something goes wrong is run as users run it, everything it produces is captured, and all of it is
// scanned for the keys (base64, URL-encoded, base64url, decoded, hex, and their first 16 characters), for any
// `SharedAccessKey=` or `sig=` value that is not redacted, and for the SharedAccessSignature tokens the clients
// actually sent (recorded where they arrive). The keys are sentinels: distinctive, so the scan is exact.
//
//  - `sync` (its own process, LOG_LEVEL=debug, LOG_FORMAT json and text): a wrong key, an unreachable hub,
//    malformed connection strings, a hub that refuses with 401 and echoes the token in its error, an expired
//    signature, and a successful run with a valid key and with a ready signature;
//  - `validate` and `sync --dry-run` on files holding connection strings, some in the wrong places;
//  - the emulator's own log (its process, debug, json and text) while it refuses forged and wrong tokens;
//  - the operator process against the real API server, its Secret holding a wrong key, a malformed connection
//    string, an expired signature, a hub refusing with 401, then a valid key: its log, the Events, the
//    resources' status and its /metrics.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, createServer as httpsServer, type Server } from 'node:https';
import { type AddressInfo, createServer as tcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { emulatorLog } from '../../src/cli/commands/emulator.js';
import { createCertificates } from '../../src/emulator/certificates.js';
import { createSharedAccessSignature, type RunningEmulator } from '../../src/emulator/index.js';
import { applyObjects, kubectlOk, sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { startHubEmulator } from '../support/emulator-support.js';
import { installCrds } from '../support/kube.js';
import { OPERATOR_MAIN, startOperatorProcess } from '../support/operator-process.js';
import { hubSecret, iotHub, securityModuleConfig } from '../support/resources.js';
import { SecretScanner } from '../support/secret-scanner.js';
import { until } from '../support/until.js';

const sentinel = (text: string) => Buffer.from(text.padEnd(32, '!').slice(0, 32)).toString('base64');
/** The key `sync` and the operator are given when it is wrong. */
const WRONG_KEY = sentinel('wrong-sentinel-key-do-not-leak');
/** The emulator's policy key: valid. */
const VALID_KEY = sentinel('valid-sentinel-key-do-not-leak');
/** The key of a hub that refuses every call with 401. */
const REFUSED_KEY = sentinel('refused-sentinel-key-no-leak');
const POLICY = 'iothubowner';
const SECURITY_MODULE_CONFIG = `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata: { name: scan-baseline, namespace: scan }
spec:
  hubRef: { name: hub }
  target: { condition: "tags.site = 'scan'" }
  agentConfiguration: { highPriorityMessageFrequency: PT5M, eventPriorities: { Login: High } }
`;

const scanner = new SecretScanner();
for (const [label, key] of [
  ['the wrong key', WRONG_KEY],
  ['the valid key', VALID_KEY],
  ['the refused key', REFUSED_KEY],
] as const)
  scanner.addKey(label, key);

/** A SAS token of the valid key that expired a minute ago, recorded for the scan. */
function expiredToken(emulator: RunningEmulator): string {
  const token = createSharedAccessSignature({
    resource: emulator.hostName,
    keyName: POLICY,
    key: VALID_KEY,
    expirySeconds: Math.floor(Date.now() / 1000) - 60,
  });
  scanner.addToken(token);
  return token;
}

// Every Authorization header any HTTPS server of this process receives (the emulator, the refusing hub).
subscribe('http.server.request.start', (message) => {
  const header = (message as { request: { headers: Record<string, string | undefined> } }).request.headers
    .authorization;
  if (header) scanner.addToken(header);
});

// --- helpers --------------------------------------------------------------------------------------------------

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command line as its own process, as users run it. */
function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OPERATOR_MAIN, ...args], {
      env: { ...process.env, IOTHUB_CONNECTION_STRING: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the tasks, at most `limit` at a time; results in the tasks' order. */
async function inParallel<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

function connectionString(hostName: string, key: string): string {
  return `HostName=${hostName};SharedAccessKeyName=${POLICY};SharedAccessKey=${key}`;
}

/** A logger sink in memory. */
function memoryStream(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    text: () => chunks.join(''),
  };
}

/**
 * A hub that refuses every call with 401, as IoT Hub does, and (unlike IoT Hub) echoes the token it was sent in
 * its error: whatever a client prints of a hub's answer must not carry it.
 */
async function startRefusingHub(): Promise<{
  server: Server;
  hostName: string;
  caCert: string;
  caFile: string;
}> {
  const certificates = await createCertificates(['localhost', '127.0.0.1']);
  const server = httpsServer(
    { key: certificates.serverKey, cert: certificates.serverCert },
    (request, response) => {
      request.resume();
      const token = request.headers.authorization ?? '';
      response.writeHead(401, {
        'content-type': 'application/json; charset=utf-8',
        'iothub-errorcode': 'IotHubUnauthorizedAccess',
      });
      response.end(
        JSON.stringify({
          Message: `ErrorCode:IotHubUnauthorizedAccess;Unauthorized: ${token}`,
          ExceptionMessage: `Tracking ID:0-G:0-TimeStamp:${new Date().toISOString()} token ${token}`,
        }),
      );
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const caFile = join(mkdtempSync(join(tmpdir(), 'refusing-hub-')), 'ca.pem');
  writeFileSync(caFile, certificates.caCert);
  return {
    server,
    hostName: `localhost:${(server.address() as AddressInfo).port}`,
    caCert: certificates.caCert,
    caFile,
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = tcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One HTTPS request with a forged or wrong token, as an attacker or a misconfigured client sends it. */
function forgedRequest(hostName: string, ca: string, path: string, authorization: string): Promise<number> {
  const [host, port] = hostName.split(':');
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host, port: Number(port), path, method: 'GET', ca, headers: { authorization } },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

// --- the paths ------------------------------------------------------------------------------------------------

describe('secrets scan', () => {
  let emulator: RunningEmulator;
  let refusing: Awaited<ReturnType<typeof startRefusingHub>>;
  const emulatorLogs = memoryStream();
  let resourceFile: string;
  let tmp: string;

  before(async () => {
    emulator = await startHubEmulator({
      tier: 'S3',
      agentDelay: { min: 5, max: 50 },
      log: emulatorLog({ stream: emulatorLogs.stream, level: 'debug', format: 'json' }),
    });
    // The policy's key becomes a sentinel: every token the clients sign with it is then exact to look for.
    emulator.hub.secrets.policies[0].primaryKey = VALID_KEY;
    scanner.addKey(
      'the emulator key it started with',
      emulator.connectionString.split('SharedAccessKey=')[1],
    );
    emulator.addDevices(
      Array.from({ length: 6 }, (_, i) => ({ deviceId: `scan-${i}`, tags: { site: 'scan' }, online: true })),
    );
    refusing = await startRefusingHub();
    tmp = mkdtempSync(join(tmpdir(), 'secrets-scan-'));
    resourceFile = join(tmp, 'baseline.yaml');
    writeFileSync(resourceFile, SECURITY_MODULE_CONFIG);
  });
  after(async () => {
    await emulator?.close();
    await new Promise((resolve) => refusing?.server.close(resolve));
  });

  it('sync: a wrong key, an unreachable hub, malformed connection strings, a 401, an expired signature, debug logs', async () => {
    const unreachable = `localhost:${await closedPort()}`;
    const expired = expiredToken(emulator);
    const cases: { name: string; cs: string; args?: string[]; via?: 'flag' }[] = [
      {
        name: 'wrong key',
        cs: connectionString(emulator.hostName, WRONG_KEY),
        args: ['--ca-file', emulator.caFile],
      },
      {
        name: 'wrong key on the command line',
        cs: connectionString(emulator.hostName, WRONG_KEY),
        args: ['--ca-file', emulator.caFile],
        via: 'flag',
      },
      { name: 'unreachable hub', cs: connectionString(unreachable, WRONG_KEY) },
      {
        name: 'hub refusing with 401',
        cs: connectionString(refusing.hostName, REFUSED_KEY),
        args: ['--ca-file', refusing.caFile],
      },
      { name: 'key not base64', cs: connectionString(emulator.hostName, `${WRONG_KEY}*`) },
      { name: 'no host name', cs: `SharedAccessKeyName=${POLICY};SharedAccessKey=${WRONG_KEY}` },
      {
        name: 'a part without a name',
        cs: `HostName=${emulator.hostName};${WRONG_KEY};SharedAccessKeyName=${POLICY}`,
      },
      {
        name: 'a device connection string',
        cs: `HostName=${emulator.hostName};DeviceId=d1;SharedAccessKey=${WRONG_KEY}`,
      },
      {
        name: 'key given twice',
        cs: `${connectionString(emulator.hostName, WRONG_KEY)};SharedAccessKey=${VALID_KEY}`,
      },
      {
        name: 'key and signature',
        cs: `${connectionString(emulator.hostName, WRONG_KEY)};SharedAccessSignature=${expired}`,
      },
      {
        name: 'expired signature',
        cs: `HostName=${emulator.hostName};SharedAccessKeyName=${POLICY};SharedAccessSignature=${expired}`,
      },
      { name: 'a space in the host name', cs: connectionString(`bad host ${WRONG_KEY}`, WRONG_KEY) },
    ];
    const runs = await inParallel(
      cases.flatMap((c) =>
        (['json', 'text'] as const).map((format) => async () => {
          const args = ['sync', '-f', resourceFile, ...(c.args ?? [])];
          const env: Record<string, string> = { LOG_LEVEL: 'debug', LOG_FORMAT: format };
          if (c.via === 'flag') args.push('--connection-string', c.cs);
          else env.IOTHUB_CONNECTION_STRING = c.cs;
          return { name: `sync, ${c.name} (${format})`, run: await cli(args, env) };
        }),
      ),
      6,
    );
    for (const { name, run } of runs) {
      assert.notEqual(run.code, 0, `${name}: exit ${run.code}\n${run.stderr}`);
      assert.ok(run.stderr.length > 0, `${name}: says nothing`);
      scanner.assertClean(name, run.stdout + run.stderr);
    }
    // What users see says what is wrong, without the key.
    const said = (name: string) => runs.find((r) => r.name === `sync, ${name} (text)`)!.run.stderr;
    assert.match(said('wrong key'), /Unauthorized|401|not authorized|unauthori/i);
    assert.match(said('key not base64'), /not a base64 key/);
    assert.match(said('expired signature'), /expired/);
  });

  it('sync: a valid key and a ready signature, debug logs, every setting written', async () => {
    const signature = createSharedAccessSignature({
      resource: emulator.hostName,
      keyName: POLICY,
      key: VALID_KEY,
      expirySeconds: Math.floor(Date.now() / 1000) + 3600,
    });
    scanner.addToken(signature);
    const cases = [
      { name: 'valid key', cs: connectionString(emulator.hostName, VALID_KEY) },
      {
        name: 'ready signature',
        cs: `HostName=${emulator.hostName};SharedAccessKeyName=${POLICY};SharedAccessSignature=${signature}`,
      },
    ];
    for (const c of cases) {
      for (const format of ['json', 'text'] as const) {
        const name = `sync, ${c.name} (${format})`;
        const run = await cli(
          [
            'sync',
            '-f',
            resourceFile,
            '--ca-file',
            emulator.caFile,
            '--wait',
            '--timeout',
            '60s',
            '--output',
            'json',
            '--poll',
            '200ms',
          ],
          {
            LOG_LEVEL: 'debug',
            LOG_FORMAT: format,
            IOTHUB_CONNECTION_STRING: c.cs,
          },
        );
        assert.equal(run.code, 0, `${name}: exit ${run.code}\n${run.stderr}`);
        scanner.assertClean(name, run.stdout + run.stderr);
      }
    }
    assert.ok(scanner.tokens >= 3, `only ${scanner.tokens} tokens recorded`);
  });

  it('validate and sync --dry-run: files holding connection strings, some in the wrong places', async () => {
    const cs = connectionString('fleet-hub.azure-devices.net', WRONG_KEY);
    const files: Record<string, string> = {
      'secret.yaml': `apiVersion: v1
kind: Secret
metadata: { name: fleet-hub-credentials, namespace: scan }
stringData: { connectionString: "${cs}" }
data: { connectionString: ${Buffer.from(cs).toString('base64')} }
---
apiVersion: iotsecurity.io/v1alpha1
kind: IoTHub
metadata: { name: hub, namespace: scan }
spec: { connectionStringSecretRef: { name: fleet-hub-credentials } }
`,
      // The connection string pasted where the reference goes, where the tier goes, as an unknown field.
      'pasted.yaml': `apiVersion: iotsecurity.io/v1alpha1
kind: IoTHub
metadata: { name: pasted, namespace: scan }
spec:
  connectionStringSecretRef: "${cs}"
  tier: "${cs}"
  connectionString: "${cs}"
`,
      'pasted-ref-name.yaml': `apiVersion: iotsecurity.io/v1alpha1
kind: IoTHub
metadata: { name: pasted-name, namespace: scan }
spec:
  connectionStringSecretRef: { name: "${cs}", key: "${cs}" }
`,
      // A quote left open on the line that holds the connection string: a YAML syntax error there.
      'broken.yaml': `apiVersion: iotsecurity.io/v1alpha1
kind: IoTHub
metadata: { name: broken, namespace: scan }
spec:
  connectionStringSecretRef: { name: "${cs} }
`,
      'condition.yaml': SECURITY_MODULE_CONFIG.replace("tags.site = 'scan'", `tags.cs = ${cs}`).replace(
        'scan-baseline',
        'condition',
      ),
      'hub-resource-id.yaml': SECURITY_MODULE_CONFIG.replace('scan-baseline', 'resource-id').replace(
        'PT5M,',
        `PT5M, hubResourceId: "${cs}", maxMessageSizeInBytes: "${cs}",`,
      ),
      'name.yaml': SECURITY_MODULE_CONFIG.replace('scan-baseline', JSON.stringify(cs)),
    };
    const dir = join(tmp, 'files');
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const runs: [string, Run][] = [];
    for (const [name, args] of [
      ['validate', ['validate', dir]],
      ['validate --output json', ['validate', '--output', 'json', dir]],
      ['sync --dry-run', ['sync', '--dry-run', '-f', dir]],
    ] as const) {
      for (const format of ['json', 'text'] as const) {
        runs.push([
          `${name} (${format})`,
          await cli([...args], {
            LOG_LEVEL: 'debug',
            LOG_FORMAT: format,
            IOTHUB_CONNECTION_STRING: connectionString(emulator.hostName, WRONG_KEY),
          }),
        ]);
      }
    }
    for (const [name, run] of runs) {
      // Invalid files: 1, and 4 for a dry run, where 1 says "changes".
      const invalid = name.startsWith('sync --dry-run') ? 4 : 1;
      assert.equal(run.code, invalid, `${name}: exit ${run.code}\n${run.stdout}${run.stderr}`);
      // Each file with a mistake is named.
      for (const file of ['pasted.yaml', 'broken.yaml', 'condition.yaml', 'name.yaml'])
        assert.ok(
          (run.stdout + run.stderr).includes(file),
          `${name}: ${file} not named\n${run.stdout}${run.stderr}`,
        );
      scanner.assertClean(name, run.stdout + run.stderr);
    }
  });

  it("the emulator's own log (its process, debug): wrong keys, forged and expired tokens, a valid run", async () => {
    for (const format of ['json', 'text'] as const) {
      const child = spawn(
        process.execPath,
        [OPERATOR_MAIN, 'emulator', '--devices', '5', '--no-throttle', '--agent-delay', '5..20'],
        {
          env: { ...process.env, LOG_LEVEL: 'debug', LOG_FORMAT: format },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      try {
        await until(async () => stdout.includes('\n'), 20_000, 'the emulator to say where it listens');
        // Its first line gives its connection string, for the user to use: by design, and not scanned.
        const [first, ...rest] = stdout.split('\n');
        const started = JSON.parse(first) as { hostName: string; connectionString: string; caFile: string };
        const key = started.connectionString.split('SharedAccessKey=')[1];
        scanner.addKey(`the emulator process's key (${format})`, key);
        const ca = readFileSync(started.caFile, 'utf8');
        const now = Math.floor(Date.now() / 1000);
        const tokens = [
          createSharedAccessSignature({
            resource: started.hostName,
            keyName: POLICY,
            key: WRONG_KEY,
            expirySeconds: now + 600,
          }),
          createSharedAccessSignature({
            resource: started.hostName,
            keyName: POLICY,
            key,
            expirySeconds: now - 600,
          }),
          createSharedAccessSignature({
            resource: 'another-hub.azure-devices.net',
            keyName: POLICY,
            key,
            expirySeconds: now + 600,
          }),
          createSharedAccessSignature({
            resource: started.hostName,
            keyName: 'nobody',
            key,
            expirySeconds: now + 600,
          }),
          `SharedAccessSignature sig=${encodeURIComponent(WRONG_KEY)}&sr=${started.hostName}`,
          `${WRONG_KEY}`,
        ];
        for (const token of tokens) {
          scanner.addToken(token);
          const status = await forgedRequest(started.hostName, ca, '/devices?api-version=2021-04-12', token);
          assert.equal(status, 401, token);
        }
        // A signature in the URL too (as in a SAS URL pasted around).
        await forgedRequest(
          started.hostName,
          ca,
          `/devices/x?api-version=2021-04-12&sig=${encodeURIComponent(WRONG_KEY)}`,
          tokens[0],
        );
        const wrong = await cli(
          ['sync', '-f', resourceFile, '--ca-file', started.caFile, '--timeout', '5s'],
          {
            IOTHUB_CONNECTION_STRING: connectionString(started.hostName, WRONG_KEY),
          },
        );
        assert.equal(wrong.code, 1, wrong.stderr);
        const valid = await cli(['sync', '-f', resourceFile, '--ca-file', started.caFile], {
          IOTHUB_CONNECTION_STRING: started.connectionString,
        });
        assert.equal(valid.code, 0, valid.stderr);
        scanner.assertClean(
          `sync against the emulator process (${format})`,
          wrong.stdout + wrong.stderr + valid.stdout + valid.stderr,
        );
        child.kill('SIGTERM');
        assert.equal(await exited, 0);
        assert.match(stderr, /request refused/, 'the emulator logs the refusals at debug');
        scanner.assertClean(`emulator process log (${format})`, stderr + rest.join('\n'));
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }
    // And the emulator this file runs in process, through the same logger, after everything above.
    assert.match(emulatorLogs.text(), /request refused/);
    scanner.assertClean('in-process emulator log (debug, json)', emulatorLogs.text());
  });

  it('the operator process and the real API server: its log, the Events, the status, /metrics', async () => {
    const cp = await sharedControlPlane();
    await installCrds(cp);
    const namespace = await testNamespace(cp, 'secrets-scan');
    const k = (args: string[], input?: string) => kubectlOk(cp.kubeconfig, [...args, '-n', namespace], input);
    const apply = (objects: object[]) => applyObjects(cp.kubeconfig, objects, ['-n', namespace]);
    const secret = (name: string, connection: string, ca: string) =>
      hubSecret(name, { connectionString: connection, 'ca.crt': ca });
    const hub = (name: string, secretName: string) =>
      iotHub(name, {
        connectionStringSecretRef: { name: secretName },
        caSecretRef: { name: secretName },
        tier: 'S3',
        units: 10,
      });
    const smc = (name: string, hubName: string) =>
      securityModuleConfig(name, {
        hubRef: { name: hubName },
        target: { condition: "tags.site = 'scan'" },
        agentConfiguration: { snapshotFrequency: 'PT6H' },
      });
    const ready = async (kind: string, name: string) =>
      JSON.parse(await k(['get', kind, name, '-o', 'json'])).status?.conditions?.find(
        (c: any) => c.type === 'Ready',
      );
    const waitReason = (kind: string, name: string, reason: string) =>
      until(async () => (await ready(kind, name))?.reason === reason, 30_000, `${kind}/${name} ${reason}`);

    await apply([
      secret('hub-credentials', connectionString(emulator.hostName, WRONG_KEY), emulator.caCert),
      hub('hub', 'hub-credentials'),
      smc('baseline', 'hub'),
      secret('refusing-credentials', connectionString(refusing.hostName, REFUSED_KEY), refusing.caCert),
      hub('refusing', 'refusing-credentials'),
      smc('refused', 'refusing'),
    ]);
    // Each changed Secret is read again within 1s (1m by default).
    const args = ['--kubeconfig', cp.kubeconfig, '--namespace', namespace, '--secret-recheck-interval', '1s'];
    const operator = startOperatorProcess(args, {
      LOG_LEVEL: 'debug',
    });
    try {
      await waitReason('iothub', 'hub', 'Unauthorized');
      await waitReason('iothub', 'refusing', 'Unauthorized');
      await waitReason('smc', 'baseline', 'Unauthorized');
      const expired = expiredToken(emulator);
      const steps: [string, string][] = [
        ['key not base64', connectionString(emulator.hostName, `${WRONG_KEY}*`)],
        ['a part without a name', `HostName=${emulator.hostName};${WRONG_KEY};SharedAccessKeyName=${POLICY}`],
        [
          'expired signature',
          `HostName=${emulator.hostName};SharedAccessKeyName=${POLICY};SharedAccessSignature=${expired}`,
        ],
      ];
      for (const [, connection] of steps) {
        await apply([secret('hub-credentials', connection, emulator.caCert)]);
        await until(
          async () => (await ready('iothub', 'hub'))?.message?.match(/not valid|expired/) !== null,
          30_000,
          'the hub to say its connection string is wrong',
        );
      }
      await apply([
        secret('hub-credentials', connectionString(emulator.hostName, VALID_KEY), emulator.caCert),
      ]);
      await until(
        async () => (await ready('smc', 'baseline'))?.status === 'True',
        60_000,
        'the resource to converge',
      );

      const { metrics } = await operator.endpoints();
      const sources: [string, string][] = [
        ['operator log (debug, json)', operator.log()],
        ['Events (kubectl get events -o json)', await k(['get', 'events', '-o', 'json'])],
        [
          'status (kubectl get iothubs,securitymoduleconfigs -o json)',
          await k(['get', 'iothubs,securitymoduleconfigs', '-o', 'json']),
        ],
        ['/metrics', await (await fetch(`${metrics}/metrics`)).text()],
      ];
      const events = JSON.parse(sources[1][1]).items as { reason: string; message: string }[];
      assert.ok(
        events.some((e) => e.reason === 'Unauthorized'),
        `no Unauthorized event: ${sources[1][1].slice(0, 2000)}`,
      );
      for (const [name, text] of sources) scanner.assertClean(name, text);
    } finally {
      await operator.stop();
    }
  });

  it('prints what it scanned', (t) => {
    const total = scanner.sources.reduce(
      (sum, s) => ({ bytes: sum.bytes + s.bytes, lines: sum.lines + s.lines }),
      { bytes: 0, lines: 0 },
    );
    for (const s of scanner.sources)
      t.diagnostic(`${s.name}: ${s.bytes} bytes, ${s.lines} lines, ${s.findings.length} found`);
    t.diagnostic(
      `${scanner.sources.length} outputs, ${total.bytes} bytes in ${total.lines} lines scanned for ${scanner.keys} keys and ${scanner.tokens} tokens sent (and their encodings), SharedAccessKey= and sig= values: ${scanner.sources.reduce((n, s) => n + s.findings.length, 0)} found`,
    );
    assert.ok(scanner.sources.length > 40);
    assert.deepEqual(
      scanner.sources.filter((s) => s.findings.length),
      [],
    );
  });
});
