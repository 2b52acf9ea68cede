// The SecurityModuleConfigs of a GitOps repository: validated first, every problem reported, nothing half-used.
import type { SecurityModuleConfig } from '../api/generated/types.js';
import { toPlannedResource } from '../planner/resource-input.js';
import type { PlannedResource } from '../planner/types.js';
import { type LocatedProblem, validateFiles } from '../validation/validate-files.js';

export interface LoadedConfigs {
  valid: boolean;
  problems: LocatedProblem[];
  resources: PlannedResource[];
  files: string[];
}

/** A resource defined twice is one of the problems `validateFiles` finds, as `validate` reports it. */
export function loadSyncResources(paths: readonly string[]): LoadedConfigs {
  const result = validateFiles(paths);
  const resources: PlannedResource[] = [];
  if (result.valid) {
    for (const { validation } of result.documents) {
      if (validation.kind !== 'SecurityModuleConfig' || !validation.resource) continue;
      resources.push(toPlannedResource(validation.resource as SecurityModuleConfig));
    }
  }
  return { valid: result.valid, problems: result.problems, resources, files: result.files };
}
