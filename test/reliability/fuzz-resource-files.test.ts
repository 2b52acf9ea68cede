// Fuzzing the YAML loader and the validator together, as `validate` and `sync` use them: resource files
// generated from the API's schema, written in several YAML styles, then mutated as text and as bytes. Whatever
// a file holds, validation returns (no throw, no hang, bounded time), every problem names the file with a line
// and column inside it and prints as one safe line, and an unmutated file of valid resources is valid.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { hasErrors } from '../../src/validation/issues.js';
import { formatProblem, validateFiles } from '../../src/validation/validate-files.js';
import { validateResource } from '../../src/validation/validate-resource.js';
import { iotHubArb, mutated, securityModuleConfigArb } from '../support/resource-arbitraries.js';
import { hubSecret, writeTempFiles } from '../support/resources.js';

/** A fixed seed keeps the suite repeatable; FUZZ_SEED and FUZZ_RUNS explore further (a soak run). */
const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 7);
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 2500);

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const SECRET = hubSecret('creds', { a: 'b' });

const anyResource: fc.Arbitrary<Record<string, any>> = fc.oneof(
  { weight: 2, arbitrary: securityModuleConfigArb('fleet') },
  { weight: 1, arbitrary: iotHubArb('fleet') },
  { weight: 2, arbitrary: mutated(securityModuleConfigArb('fleet')) },
  { weight: 1, arbitrary: mutated(iotHubArb('fleet')) },
  { weight: 1, arbitrary: fc.constant(SECRET) },
);

/** Whether resources written to a file must be valid: each alone is, and no kind and name comes twice. */
function validTogether(resources: Record<string, any>[]): boolean {
  const ours = resources.filter((r) => r.apiVersion !== SECRET.apiVersion);
  const keys = new Set(ours.map((r) => `${r.kind} ${r.metadata.name}`));
  return keys.size === ours.length && resources.every((r) => !hasErrors(validateResource(r).issues));
}

/** How a document is written: the YAML styles people and tools use. */
const style = fc.record({
  collectionStyle: fc.constantFrom('any', 'block', 'flow' as const),
  defaultStringType: fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE' as const),
  indent: fc.constantFrom(2, 4),
  lineWidth: fc.constantFrom(0, 40, 80),
});

/** Text the mutations insert: YAML's indicators, structure, anchors, and characters that hurt terminals. */
const FRAGMENTS = [
  ':',
  ': ',
  '-',
  '- ',
  '[',
  ']',
  '{',
  '}',
  ',',
  '&a ',
  '*a',
  '&b [*a, *a, *a]',
  '!',
  '!!str ',
  '!!binary ',
  '|',
  '>-',
  "'",
  '"',
  '#',
  '%YAML 1.2\n',
  '\n---\n',
  '\n...\n',
  '? ',
  '<<: *a',
  '\t',
  '  ',
  '\n',
  '\r\n',
  '\\',
  '\\x1b[2J',
  '\u001b[31m',
  '\u0000',
  '\u0085',
  '\u2028',
  '\ufeff',
  '\ud800',
  '😀',
  'Off',
  'yes',
  '~',
  '0x1F',
  '1e400',
  '.nan',
  '2024-01-01',
  'apiVersion: iotsecurity.io/v1alpha1',
  'kind: SecurityModuleConfig',
  'metadata: {name: x}',
];

type Edit =
  | { how: 'insert' | 'replace'; at: number; text: string }
  | { how: 'delete' | 'truncate' | 'duplicateLine' | 'deleteLine' | 'indentLine'; at: number }
  | { how: 'byte'; at: number; byte: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    how: fc.constantFrom('insert', 'replace' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ unit: 'binary', maxLength: 4 })),
  }),
  fc.record({
    how: fc.constantFrom('delete', 'truncate', 'duplicateLine', 'deleteLine', 'indentLine' as const),
    at: fc.nat(),
  }),
  fc.record({
    how: fc.constant('byte' as const),
    at: fc.nat(),
    byte: fc.constantFrom(0x00, 0x80, 0xc0, 0xed, 0xfe, 0xff),
  }),
);

function applyTextEdit(text: string, e: Exclude<Edit, { how: 'byte' }>): string {
  const at = e.at % (text.length + 1);
  const lines = text.split('\n');
  const line = e.at % lines.length;
  switch (e.how) {
    case 'insert':
      return text.slice(0, at) + e.text + text.slice(at);
    case 'replace':
      return text.slice(0, at) + e.text + text.slice(at + e.text.length);
    case 'delete':
      return text.slice(0, at) + text.slice(at + 1);
    case 'truncate':
      return text.slice(0, at);
    case 'duplicateLine':
      return [...lines.slice(0, line + 1), ...lines.slice(line)].join('\n');
    case 'deleteLine':
      return [...lines.slice(0, line), ...lines.slice(line + 1)].join('\n');
    case 'indentLine':
      return [...lines.slice(0, line), ` ${lines[line]}`, ...lines.slice(line + 1)].join('\n');
  }
}

/** The file's bytes after the edits; a byte edit makes the text invalid UTF-8 or binary. */
function mutate(text: string, edits: Edit[]): Buffer {
  let out = text;
  const bytes: { at: number; byte: number }[] = [];
  for (const e of edits) {
    if (e.how === 'byte') bytes.push(e);
    else out = applyTextEdit(out, e);
  }
  let buffer = Buffer.from(out, 'utf8');
  for (const { at, byte } of bytes) {
    const i = at % (buffer.length + 1);
    buffer = Buffer.concat([buffer.subarray(0, i), Buffer.from([byte]), buffer.subarray(i)]);
  }
  return buffer;
}

const resourceFile = fc.record({
  documents: fc.array(fc.tuple(anyResource, style), { minLength: 1, maxLength: 3 }),
  edits: fc.oneof(
    { weight: 1, arbitrary: fc.constant([] as Edit[]) },
    { weight: 4, arbitrary: fc.array(edit, { minLength: 1, maxLength: 4 }) },
  ),
});

/** Files written to hurt: alias bombs, deep nesting, long scalars, many documents, of random sizes. */
const hostileFile = fc.oneof(
  fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 12 })).map(([width, depth]) => {
    const lines = [`a0: &a0 [${Array(width).fill('x').join(', ')}]`];
    for (let i = 1; i <= depth; i++)
      lines.push(
        `a${i}: &a${i} [${Array(width)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    return lines.join('\n');
  }),
  fc.integer({ min: 1, max: 5000 }).map((n) => `${'['.repeat(n)}x${']'.repeat(n % 3 === 0 ? n : 0)}`),
  fc.integer({ min: 1, max: 300 }).map((n) => `${'{a: '.repeat(n)}1${'}'.repeat(n)}`),
  fc
    .integer({ min: 1, max: 150 })
    .map((n) => Array.from({ length: n }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n')),
  fc
    .integer({ min: 1, max: 150 })
    .map((n) => Array.from({ length: n }, (_, i) => `${'  '.repeat(i)}-`).join('\n')),
  fc.integer({ min: 1, max: 3_000_000 }).map((n) => `spec:\n  x: "${'y'.repeat(n)}"\n`),
  fc.integer({ min: 1, max: 12_000 }).map((n) => '---\n{a: 1}\n'.repeat(n)),
  fc.integer({ min: 1, max: 5000 }).map((n) => ']\n'.repeat(n)),
  fc
    .integer({ min: 1, max: 2000 })
    .map((n) => `a: &x 1\n${Array.from({ length: n }, (_, i) => `k${i}: *x`).join('\n')}`),
);

function lineCount(bytes: Buffer): number {
  let lines = 1;
  for (const byte of bytes) if (byte === 0x0a) lines++;
  return lines;
}

interface Figures {
  files: number;
  documents: number;
  valid: number;
  invalid: number;
  problems: number;
  slowestMs: number;
  maxRssMiB: number;
}

const noFigures = (): Figures => ({
  files: 0,
  documents: 0,
  valid: 0,
  invalid: 0,
  problems: 0,
  slowestMs: 0,
  maxRssMiB: 0,
});

/**
 * Validates the file and checks every promise about what comes back. `written`: the resources an unmutated
 * file holds, which must read back as they were, and be judged as validateResource judges them.
 */
function checkFile(file: string, bytes: Buffer, figures: Figures, written?: Record<string, any>[]): void {
  writeFileSync(file, bytes);
  const started = performance.now();
  const result = validateFiles([file]);
  const ms = performance.now() - started;
  figures.files++;
  figures.documents += result.documents.length;
  figures.slowestMs = Math.max(figures.slowestMs, ms);
  figures.maxRssMiB = Math.max(figures.maxRssMiB, process.memoryUsage().rss / 2 ** 20);
  if (result.valid) figures.valid++;
  else figures.invalid++;
  figures.problems += result.problems.length;
  assert.ok(ms < 3000, `${ms} ms`);
  const lines = lineCount(bytes);
  for (const problem of result.problems) {
    assert.equal(problem.file, file);
    assert.ok(
      Number.isInteger(problem.line) && problem.line >= 1 && problem.line <= lines + 1,
      `line ${problem.line}`,
    );
    assert.ok(Number.isInteger(problem.column) && problem.column >= 1, `column ${problem.column}`);
    assert.ok(problem.severity === 'error' || problem.severity === 'warning');
    assert.ok(problem.message.length > 0);
    const printed = formatProblem(problem);
    assert.ok(!UNPRINTABLE.test(printed), JSON.stringify(printed));
    assert.ok(printed.startsWith(`${file}:${problem.line}:${problem.column}: ${problem.severity}: `));
  }
  assert.equal(result.valid, !result.problems.some((p) => p.severity === 'error'));
  if (written) {
    assert.deepEqual(
      result.documents.map((d) => d.source.value),
      written,
    );
    assert.equal(result.valid, validTogether(written), result.problems.map(formatProblem).join('\n'));
  }
}

describe('fuzzing the YAML loader and the validator', () => {
  const dir = writeTempFiles({});
  const file = join(dir, 'fuzzed.yaml');

  it('judges generated and mutated resource files: no throw, every problem located, valid ones valid', {
    timeout: 120_000,
  }, () => {
    const figures = noFigures();
    const started = performance.now();
    fc.assert(
      fc.property(resourceFile, ({ documents, edits }) => {
        const text = documents
          .map(([resource, options]) => stringify(resource, { ...options, version: '1.1' }))
          .join('---\n');
        // As plain JSON values: fast-check's records may have no prototype, and YAML's objects do.
        const written =
          edits.length === 0
            ? documents.map(([resource]) => JSON.parse(JSON.stringify(resource)))
            : undefined;
        checkFile(file, mutate(text, edits), figures, written);
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
    );
    console.log(
      `fuzzed ${figures.files} files (${figures.documents} documents read): ${figures.valid} valid, ${figures.invalid} refused with ${figures.problems} located problems, 0 crashes; slowest ${figures.slowestMs.toFixed(0)} ms, RSS at most ${figures.maxRssMiB.toFixed(0)} MiB, ${((performance.now() - started) / 1000).toFixed(1)} s in all`,
    );
  });

  it('judges files written to hurt in bounded time: alias bombs, deep nesting, long scalars, many documents', {
    timeout: 120_000,
  }, () => {
    const figures = noFigures();
    fc.assert(
      fc.property(hostileFile, fc.array(edit, { maxLength: 2 }), (text, edits) => {
        checkFile(file, mutate(text, edits), figures);
      }),
      { numRuns: Math.ceil(FUZZ_RUNS / 40), seed: FUZZ_SEED },
    );
    console.log(
      `fuzzed ${figures.files} hostile files: ${figures.invalid} refused with ${figures.problems} located problems, 0 crashes; slowest ${figures.slowestMs.toFixed(0)} ms, RSS at most ${figures.maxRssMiB.toFixed(0)} MiB`,
    );
  });
});
