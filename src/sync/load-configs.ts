// The resources of a GitOps repository: validated first, every problem reported, nothing half-used.
import type { IoTHub, SecurityModuleConfig } from '../api/generated/types.js';
import { toPlannedResource } from '../planner/resource-input.js';
import type { PlannedResource } from '../planner/types.js';
import { type LocatedProblem, validateFiles } from '../validation/validate-files.js';

export interface LoadedConfigs {
  valid: boolean;
  problems: LocatedProblem[];
  /** Every SecurityModuleConfig of the files, whatever hub it names (empty when anything is invalid). */
  resources: PlannedResource[];
  /** The same, as written (their hubRef says which hub each is for). */
  configs: SecurityModuleConfig[];
  /** The IoTHub documents of the files. */
  hubs: IoTHub[];
  files: string[];
}

/** A resource defined twice is one of the problems `validateFiles` finds, as `validate` reports it. */
export function loadSyncResources(paths: readonly string[]): LoadedConfigs {
  const result = validateFiles(paths);
  const configs: SecurityModuleConfig[] = [];
  const hubs: IoTHub[] = [];
  if (result.valid) {
    for (const { validation } of result.documents) {
      if (!validation.resource) continue;
      if (validation.kind === 'SecurityModuleConfig')
        configs.push(validation.resource as SecurityModuleConfig);
      if (validation.kind === 'IoTHub') hubs.push(validation.resource as IoTHub);
    }
  }
  return {
    valid: result.valid,
    problems: result.problems,
    resources: configs.map(toPlannedResource),
    configs,
    hubs,
    files: result.files,
  };
}
