import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { githubAnnotation } from '../../src/validation/github-annotations.js';
import type { LocatedProblem } from '../../src/validation/validate-files.js';

const PROBLEM: LocatedProblem = {
  file: 'config/site.yaml',
  line: 12,
  column: 7,
  severity: 'error',
  kind: 'SecurityModuleConfig',
  name: 'site',
  field: 'spec.target.condition',
  message: 'unexpected end of input',
};

/** What the runner does to a command's message and properties (actions/runner's ActionCommand). */
function unescapeData(text: string): string {
  return text.replaceAll('%0D', '\r').replaceAll('%0A', '\n').replaceAll('%25', '%');
}
function unescapeProperty(text: string): string {
  return unescapeData(text.replaceAll('%3A', ':').replaceAll('%2C', ','));
}

/** The command as the runner reads it: its name, properties and message. */
function parseCommand(line: string): { name: string; properties: Record<string, string>; message: string } {
  const match = /^::(\w+)(?: ([^:]*))?::(.*)$/.exec(line);
  assert.ok(match, `a workflow command: ${line}`);
  const properties: Record<string, string> = {};
  for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    properties[pair.slice(0, at)] = unescapeProperty(pair.slice(at + 1));
  }
  return { name: match[1], properties, message: unescapeData(match[3]) };
}

describe('GitHub Actions annotations of problems', () => {
  it('names the file, line, column and resource of an error', () => {
    assert.equal(
      githubAnnotation(PROBLEM),
      '::error file=config/site.yaml,line=12,col=7,title=SecurityModuleConfig/site::spec.target.condition: unexpected end of input',
    );
    assert.match(githubAnnotation({ ...PROBLEM, severity: 'warning' }), /^::warning file=/);
  });

  it("escapes '%', ':' and ',' in properties and '%' in the message, so the runner reads back what was meant", () => {
    const tricky = {
      ...PROBLEM,
      file: 'a,b:c%d.yaml',
      name: 'x,line=1',
      message: "100% sure: 'a,b' is not ::error:: text",
    };
    const line = githubAnnotation(tricky);
    assert.equal(
      line,
      "::error file=a%2Cb%3Ac%25d.yaml,line=12,col=7,title=SecurityModuleConfig/x%2Cline=1::spec.target.condition: 100%25 sure: 'a,b' is not ::error:: text",
    );
    assert.deepEqual(parseCommand(line), {
      name: 'error',
      properties: {
        file: 'a,b:c%d.yaml',
        line: '12',
        col: '7',
        title: 'SecurityModuleConfig/x,line=1',
      },
      message: "spec.target.condition: 100% sure: 'a,b' is not ::error:: text",
    });
  });

  it('keeps every annotation on one line: line breaks and other controls from the files are shown escaped', () => {
    const line = githubAnnotation({
      ...PROBLEM,
      file: 'evil\n::error file=x.yaml::forged.yaml',
      message: 'first\r\nsecond\u001b[31m',
    });
    assert.equal(line.split('\n').length, 1);
    assert.equal(line.split('\r').length, 1);
    const parsed = parseCommand(line);
    assert.equal(parsed.properties.file, 'evil\\n::error file=x.yaml::forged.yaml');
    assert.equal(parsed.message, 'spec.target.condition: first\\r\\nsecond\\u001b[31m');
  });

  it('gives paths relative to GITHUB_WORKSPACE when they lie inside it', () => {
    const inside = githubAnnotation(
      { ...PROBLEM, file: '/home/runner/work/repo/config/site.yaml' },
      {
        workspace: '/home/runner/work/repo',
      },
    );
    assert.match(inside, /^::error file=config\/site\.yaml,/);
    const outside = githubAnnotation(
      { ...PROBLEM, file: '/tmp/site.yaml' },
      { workspace: '/home/runner/work/repo' },
    );
    assert.match(outside, /^::error file=\/tmp\/site\.yaml,/);
    const sibling = githubAnnotation(
      { ...PROBLEM, file: '/home/runner/work/repo2/a.yaml' },
      {
        workspace: '/home/runner/work/repo',
      },
    );
    assert.match(sibling, /^::error file=\/home\/runner\/work\/repo2\/a\.yaml,/);
  });
});
