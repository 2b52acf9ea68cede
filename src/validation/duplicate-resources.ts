// Resources defined more than once in a set of files: kubectl apply would keep only the last, and sync could
// not tell which one is meant. The one check behind `validate` and `sync`.
import type { LocatedProblem, ValidatedDocument } from './validate-files.js';

function field(value: unknown, key: string): unknown {
  return value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

/** `namespace/name` as sync and the planner key a resource: no namespace is `default`. */
function namespacedName(metadata: unknown): string | undefined {
  const name = field(metadata, 'name');
  if (typeof name !== 'string' || name === '') return undefined;
  const namespace = field(metadata, 'namespace');
  return `${typeof namespace === 'string' && namespace !== '' ? namespace : 'default'}/${name}`;
}

/** An error at each definition of a kind, namespace and name after the first, naming where the first is. */
export function duplicateResourceProblems(documents: readonly ValidatedDocument[]): LocatedProblem[] {
  const firstDefinitions = new Map<string, string>();
  const problems: LocatedProblem[] = [];
  for (const { source, validation } of documents) {
    if (!validation.ours) continue;
    const key = namespacedName(field(source.value, 'metadata'));
    if (key === undefined) continue;
    const position = source.locate(['metadata', 'name']);
    const first = firstDefinitions.get(`${validation.kind} ${key}`);
    if (first === undefined) {
      firstDefinitions.set(`${validation.kind} ${key}`, `${source.file}:${position.line}`);
      continue;
    }
    problems.push({
      file: source.file,
      line: position.line,
      column: position.column,
      severity: 'error',
      kind: validation.kind,
      name: validation.name,
      field: 'metadata.name',
      message: `${key} is also defined in ${first}; each resource may appear once`,
    });
  }
  return problems;
}
