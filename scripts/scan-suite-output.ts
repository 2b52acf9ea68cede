// Runs a command (the test suite) and then scans everything its processes and commands printed for secrets: the
// logs of every operator process, the output of every `sync`, `validate` and other command a test ran, and the
// Events and resource statuses left on the control plane (test/support/suite-output.ts keeps them in
// SUITE_OUTPUT_DIR). Looked for: the keys of the suite's emulators (seed 42) in every encoding, and any
// SharedAccessKey= or sig= value or private key that is not redacted. A finding names the file and line, never
// the secret, and fails the run; the files are then kept for a look.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startEmulator } from '../src/emulator/index.js';
import { SecretScanner } from '../test/support/secret-scanner.js';
import { SUITE_OUTPUT_ENV } from '../test/support/suite-output.js';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: tsx scripts/scan-suite-output.ts COMMAND [ARG...]');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'suite-output-'));
const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, [SUITE_OUTPUT_ENV]: dir } });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
const code = await new Promise<number>((done) => child.once('exit', (c, s) => done(c ?? (s ? 128 : 1))));

const scanner = new SecretScanner();
// The suite's emulators start with seed 42 (test/hub/emulator-support.ts): their keys are this one's.
const emulator = await startEmulator({ seed: 42, throttle: false, devices: 0 });
for (const [i, policy] of emulator.hub.secrets.policies.entries()) {
  scanner.addKey(`policy ${i} primary key of the suite's emulators`, policy.primaryKey);
  scanner.addKey(`policy ${i} secondary key of the suite's emulators`, policy.secondaryKey);
}
await emulator.close();

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
    `${lines.toLocaleString('en-US')} lines) scanned for ${scanner.keys} keys in every encoding and for ` +
    `SharedAccessKey= and sig= values: ${findings.length} found`,
);
if (findings.length) {
  for (const finding of findings) console.error(`  ${finding}`);
  console.error(`the output is kept in ${dir}`);
  process.exit(code || 1);
}
rmSync(dir, { recursive: true, force: true });
process.exit(code);

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(folder, entry.name)) : [join(folder, entry.name)],
  );
}
