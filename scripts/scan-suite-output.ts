// Runs a command (the test suite) and then scans everything it printed for secrets: the test runner's own output
// (test files' logs, diagnostics, failures), the logs of every operator process, the output of every `sync`,
// `validate` and other command a test ran, and the Events and resource statuses left on the control plane
// (test/support/suite-output.ts keeps them in SUITE_OUTPUT_DIR). Looked for: the keys of every emulator the
// suite started through its helper (and of seed 42, the default), in every encoding, and any SharedAccessKey=,
// AccountKey=, sig= or client_secret= value (quoted or URL-encoded too), bare 32-byte base64 key, JWT or private key
// that is not redacted. A finding names the file and line, never the secret, and fails the run. The folder is
// removed after a clean, passing run, and kept otherwise for a look.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startEmulator } from '../src/emulator/index.js';
import { SecretScanner } from '../test/support/secret-scanner.js';
import { KEYS_FOLDER, SUITE_OUTPUT_ENV } from '../test/support/suite-output.js';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: tsx scripts/scan-suite-output.ts COMMAND [ARG...]');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'suite-output-'));
const runnerLog = createWriteStream(join(dir, 'runner.log'), { mode: 0o600 });
const child = spawn(command, args, {
  stdio: ['inherit', 'pipe', 'pipe'],
  env: { ...process.env, [SUITE_OUTPUT_ENV]: dir },
});
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  runnerLog.write(chunk);
});
child.stderr.on('data', (chunk) => {
  process.stderr.write(chunk);
  runnerLog.write(chunk);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
const code = await new Promise<number>((done) => child.once('close', (c, s) => done(c ?? (s ? 128 : 1))));
await new Promise((done) => runnerLog.end(done));

const scanner = new SecretScanner();
const keys = new Set<string>();
// The default of the suite's emulators (seed 42), whether or not one recorded its keys.
const emulator = await startEmulator({ seed: 42, throttle: false, devices: 0 });
for (const policy of emulator.hub.secrets.policies) keys.add(policy.primaryKey).add(policy.secondaryKey);
keys.add(emulator.hub.secrets.keySecret);
await emulator.close();
const keysDir = join(dir, KEYS_FOLDER);
if (existsSync(keysDir))
  for (const file of readdirSync(keysDir))
    for (const key of JSON.parse(readFileSync(join(keysDir, file), 'utf8')) as string[]) keys.add(key);
for (const key of keys) scanner.addKey('a key of an emulator of the suite', key);

const findings: string[] = [];
for (const file of filesUnder(dir)) {
  const name = relative(dir, file);
  for (const finding of scanner.scan(name, readFileSync(file, 'utf8'), { quote: false }))
    findings.push(`${name}: ${finding}`);
}
const bytes = scanner.sources.reduce((n, s) => n + s.bytes, 0);
const lines = scanner.sources.reduce((n, s) => n + s.lines, 0);
console.error(
  `secrets scan of the suite's output: ${scanner.sources.length} files (${bytes.toLocaleString('en-US')} bytes, ` +
    `${lines.toLocaleString('en-US')} lines) scanned for ${keys.size} emulator keys in every encoding and for ` +
    `SharedAccessKey=, AccountKey=, sig= and client_secret= values, bare keys, JWTs and private keys: ` +
    `${findings.length} found`,
);
for (const finding of findings) console.error(`  ${finding}`);
if (findings.length || code !== 0) {
  console.error(`the output is kept in ${dir}`);
  process.exit(code || 1);
}
rmSync(dir, { recursive: true, force: true });
process.exit(0);

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return entry.name === KEYS_FOLDER ? [] : filesUnder(join(folder, entry.name));
    return [join(folder, entry.name)];
  });
}
