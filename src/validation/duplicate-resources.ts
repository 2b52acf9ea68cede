// Resources defined more than once in a set of files: kubectl apply would keep only the last, and sync could
// not tell which one is meant. The one check behind `validate` and `sync`. ConfigMaps count when a TwinConfig of
// the files names them: its schema must come from one.
import { documentKey, isConfigMapDocument } from './file-config-maps.js';
import type { LocatedProblem, ValidatedDocument } from './validate-files.js';

function field(value: unknown, ...path: string[]): unknown {
  let node = value;
  for (const key of path)
    node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

/** `namespace/name` of the ConfigMaps the TwinConfigs of the files name. */
function namedConfigMaps(documents: readonly ValidatedDocument[]): Set<string> {
  const named = new Set<string>();
  for (const { source, validation } of documents) {
    if (!validation.ours || validation.kind !== 'TwinConfig') continue;
    const name = field(source.value, 'spec', 'schema', 'configMapKeyRef', 'name');
    if (typeof name === 'string') named.add(`${validation.namespace ?? 'default'}/${name}`);
  }
  return named;
}

/** An error at each definition of a kind, namespace and name after the first, naming where the first is. */
export function duplicateResourceProblems(documents: readonly ValidatedDocument[]): LocatedProblem[] {
  const firstDefinitions = new Map<string, string>();
  const problems: LocatedProblem[] = [];
  const configMaps = namedConfigMaps(documents);
  for (const { source, validation } of documents) {
    const key = documentKey(source.value);
    if (key === undefined) continue;
    if (!validation.ours && !(isConfigMapDocument(source.value) && configMaps.has(key))) continue;
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
