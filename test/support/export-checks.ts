// What a dry run of sync would do with exported resources: the twin writes that change a desired setting (an
// export that reproduces its hub plans none), and the devices on which resources conflict or fail.
import { parseAllDocuments } from 'yaml';
import type { SecurityModuleConfig, TwinConfig } from '../../src/api/generated/types.js';
import {
  type HubSnapshot,
  type PlannedResource,
  planHubReconcile,
  type TwinWrite,
} from '../../src/planner/index.js';
import { toPlannedResource } from '../../src/planner/resource-input.js';
import { validateResource } from '../../src/validation/validate-resource.js';

export interface DryRun {
  /** Writes that set or remove a desired setting (ownership-only writes are adoption, not change). */
  settingWrites: TwinWrite[];
  conflictingDevices: number;
  failedDevices: number;
}

/** Plans as `sync --dry-run --manager MANAGER` would, without --prune. */
export function dryRun(
  snapshot: HubSnapshot,
  resources: readonly PlannedResource[],
  manager = 'sync',
): DryRun {
  const plan = planHubReconcile({ snapshot, resources, now: Date.now(), unknownOwners: 'keep', manager });
  const reports = [...plan.reports.values()];
  return {
    settingWrites: plan.writes.filter((w) => w.patch.properties !== undefined),
    conflictingDevices: reports.reduce((n, r) => n + r.counts.conflictingDevices, 0),
    failedDevices: reports.reduce((n, r) => n + r.counts.failedDevices, 0),
  };
}

/**
 * The SecurityModuleConfigs and TwinConfigs of a YAML stream, each validated as `validate` does (throws on an
 * error; a ConfigMap a TwinConfig names is not at hand, so its properties are judged as the hub takes them).
 */
export function resourcesOfYaml(text: string): PlannedResource[] {
  const resources: PlannedResource[] = [];
  for (const document of parseAllDocuments(text)) {
    const validation = validateResource(document.toJS(), { missing: 'warning' });
    const errors = validation.issues.filter((i) => i.severity === 'error');
    if (errors.length) throw new Error(`${validation.kind}/${validation.name}: ${JSON.stringify(errors)}`);
    if (validation.kind === 'SecurityModuleConfig' || validation.kind === 'TwinConfig')
      resources.push(toPlannedResource(validation.resource as SecurityModuleConfig | TwinConfig));
  }
  return resources;
}
