// The SecurityModuleConfigs of a GitOps repository: validated first, every problem reported, nothing half-used.
import type { SecurityModuleConfig } from '../api/generated/types.js';
import { resourceKey, toPlannedResource } from '../planner/resource-input.js';
import type { PlannedResource } from '../planner/types.js';
import { compareProblems, type LocatedProblem, validateFiles } from '../validation/validate-files.js';

export interface LoadedConfigs {
  valid: boolean;
  problems: LocatedProblem[];
  resources: PlannedResource[];
  files: string[];
}

export function loadSyncResources(paths: readonly string[]): LoadedConfigs {
  const result = validateFiles(paths);
  const problems = [...result.problems];
  const resources: PlannedResource[] = [];
  const seen = new Map<string, string>();
  for (const { source, validation } of result.documents) {
    if (validation.kind !== 'SecurityModuleConfig' || !validation.resource) continue;
    const config = validation.resource as SecurityModuleConfig;
    const key = resourceKey(config.metadata);
    const first = seen.get(key);
    const position = source.locate(['metadata', 'name']);
    if (first) {
      problems.push({
        file: source.file,
        line: position.line,
        column: position.column,
        severity: 'error',
        kind: 'SecurityModuleConfig',
        name: config.metadata.name,
        field: 'metadata.name',
        message: `${key} is also defined in ${first}; each resource may appear once`,
      });
      continue;
    }
    seen.set(key, `${source.file}:${position.line}`);
    resources.push(toPlannedResource(config));
  }
  problems.sort(compareProblems);
  const valid = !problems.some((p) => p.severity === 'error');
  return { valid, problems, resources: valid ? resources : [], files: result.files };
}
