// Problems as GitHub Actions workflow commands (`::error file=F,line=L,col=C,title=T::MESSAGE`), which the
// runner turns into annotations on the pull request's lines. Escaped as the runner unescapes them (actions/
// toolkit's command.ts): '%', CR and LF in the message; those and ':' and ',' in a property's value.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { printable } from './printable-text.js';
import { STANDARD_INPUT } from './standard-input.js';
import type { LocatedProblem } from './validate-files.js';

export interface AnnotationOptions {
  /** GITHUB_WORKSPACE: file paths are made relative to it, as annotations need them. */
  workspace?: string;
}

export function githubAnnotation(problem: LocatedProblem, options: AnnotationOptions = {}): string {
  const properties: [string, string][] = [];
  let message = `${problem.field}: ${problem.message}`;
  if (problem.file === STANDARD_INPUT) {
    // No file in the repository to put it on: the annotation goes on the run, with the place in its words.
    message = `${STANDARD_INPUT}:${problem.line}:${problem.column}: ${message}`;
  } else {
    properties.push(
      ['file', repositoryPath(problem.file, options.workspace)],
      ['line', String(problem.line)],
      ['col', String(problem.column)],
    );
  }
  properties.push(['title', `${problem.kind}/${problem.name}`]);
  const list = properties.map(([key, value]) => `${key}=${escapeProperty(printable(value))}`).join(',');
  return `::${problem.severity} ${list}::${escapeData(printable(message))}`;
}

/** `file` relative to the workspace when it lies inside it; as given otherwise. */
function repositoryPath(file: string, workspace: string | undefined): string {
  if (!workspace) return file;
  const inside = relative(resolve(workspace), resolve(file));
  const outside = inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside);
  return outside ? file : inside;
}

function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}
