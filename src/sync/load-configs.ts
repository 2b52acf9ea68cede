// The resources of a GitOps repository: validated first (TwinConfigs with the ConfigMaps of the same files), every
// problem reported, nothing half-used.
import type { IoTHub, SecurityModuleConfig, TwinConfig } from '../api/generated/types.js';
import { toPlannedResource } from '../planner/resource-input.js';
import type { PlannedResource } from '../planner/types.js';
import { type LocatedProblem, validateFiles } from '../validation/validate-files.js';

export interface LoadedConfigs {
  valid: boolean;
  problems: LocatedProblem[];
  /** Every SecurityModuleConfig and TwinConfig of the files, whatever hub it names (empty when anything is invalid). */
  resources: PlannedResource[];
  /** The same, as written (their hubRef says which hub each is for). */
  configs: (SecurityModuleConfig | TwinConfig)[];
  /** The IoTHub documents of the files. */
  hubs: IoTHub[];
  files: string[];
}

/**
 * A resource defined twice, and a TwinConfig whose ConfigMap is not among the files, are problems `validateFiles`
 * finds, as `validate` reports them.
 */
export function loadSyncResources(paths: readonly string[]): LoadedConfigs {
  const result = validateFiles(paths);
  const configs: (SecurityModuleConfig | TwinConfig)[] = [];
  const hubs: IoTHub[] = [];
  if (result.valid) {
    for (const { validation } of result.documents) {
      const resource = validation.resource;
      if (!resource) continue;
      if (resource.kind === 'IoTHub') hubs.push(resource);
      else configs.push(resource);
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
