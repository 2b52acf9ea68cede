// From a validated SecurityModuleConfig or TwinConfig (defaults applied) to what the planner reads, and the keys
// that name them in plans, statuses and the twins' ownership records.

import type { SecurityModuleConfig, TwinConfig } from '../api/generated/types.js';
import { requireKubeDuration } from '../api/kube-duration.js';
import { agentSettingsOf } from '../profiles/security-agent/index.js';
import { securityAgentProfile } from '../profiles/security-agent/profile.js';
import { propertySettingId } from '../profiles/twin-properties/profile.js';
import { DEVICE_TWIN, type TwinSlot } from '../twins/types.js';
import type { PlannedResource } from './types.js';

/** The marker of a TwinConfig's key, between its namespace and name. */
const TWIN_CONFIG_MARK = 'TwinConfig';

/** `namespace/name`: a SecurityModuleConfig's key, or an IoTHub's. */
export function resourceKey(metadata: { name: string; namespace?: string }): string {
  return `${metadata.namespace ?? 'default'}/${metadata.name}`;
}

/**
 * `namespace/TwinConfig/name`: apart from a SecurityModuleConfig of the same name, and still starting with the
 * namespace, which the controller's per-namespace scopes read.
 */
export function twinConfigKey(metadata: { name: string; namespace?: string }): string {
  return `${metadata.namespace ?? 'default'}/${TWIN_CONFIG_MARK}/${metadata.name}`;
}

/** The key of a resource of either kind. */
export function plannedKey(config: SecurityModuleConfig | TwinConfig): string {
  return config.kind === 'TwinConfig' ? twinConfigKey(config.metadata) : resourceKey(config.metadata);
}

/** The kind and `namespace/name` a key names (a key recorded in twins may be all that is left of a resource). */
export function describeResourceKey(key: string): {
  kind: PlannedResource['kind'];
  name: string;
} {
  const parts = key.split('/');
  if (parts.length === 3 && parts[1] === TWIN_CONFIG_MARK)
    return { kind: 'TwinConfig', name: `${parts[0]}/${parts[2]}` };
  return { kind: 'SecurityModuleConfig', name: key };
}

function shared(
  spec: SecurityModuleConfig['spec'] | TwinConfig['spec'],
): Pick<PlannedResource, 'priority' | 'target' | 'suspend' | 'convergenceTimeoutMs' | 'rollout'> {
  return {
    priority: spec.priority ?? 0,
    target: { condition: spec.target.condition, deviceIds: spec.target.deviceIds },
    suspend: spec.suspend ?? false,
    convergenceTimeoutMs: requireKubeDuration(spec.convergenceTimeout ?? '15m', 'spec.convergenceTimeout'),
    rollout: {
      batchSize: spec.rollout?.batchSize ?? '100%',
      failureThreshold: spec.rollout?.failureThreshold ?? '10%',
    },
  };
}

/** The twin slot a resource's settings live in: the agent's module, or the twin a TwinConfig names. */
export function resourceSlot(kind: PlannedResource['kind'], twin?: TwinConfig['spec']['twin']): TwinSlot {
  return kind === 'SecurityModuleConfig'
    ? securityAgentProfile.typedProperty!.slot
    : (twin?.moduleId ?? DEVICE_TWIN);
}

function fromSecurityModuleConfig(config: SecurityModuleConfig): PlannedResource {
  const spec = config.spec;
  return {
    key: resourceKey(config.metadata),
    kind: 'SecurityModuleConfig',
    slot: resourceSlot('SecurityModuleConfig'),
    settings: agentSettingsOf(spec.agentConfiguration),
    convergence: 'Agent',
    createModule: spec.createMissingModules ?? false,
    ...shared(spec),
  };
}

/** Each property (in a component, each of the component's) is one setting, its value written whole. */
export function twinConfigSettings(
  spec: Pick<TwinConfig['spec'], 'properties' | 'twin'>,
): Record<string, unknown> {
  const component = spec.twin?.component;
  return Object.fromEntries(
    Object.entries(spec.properties).map(([name, value]) => [propertySettingId(name, component), value]),
  );
}

function fromTwinConfig(config: TwinConfig): PlannedResource {
  const spec = config.spec;
  return {
    key: twinConfigKey(config.metadata),
    kind: 'TwinConfig',
    slot: resourceSlot('TwinConfig', spec.twin),
    settings: twinConfigSettings(spec),
    convergence: spec.convergence ?? 'PlugAndPlay',
    createModule: spec.twin?.createModule ?? false,
    ...shared(spec),
  };
}

export function toPlannedResource(config: SecurityModuleConfig | TwinConfig): PlannedResource {
  return config.kind === 'TwinConfig' ? fromTwinConfig(config) : fromSecurityModuleConfig(config);
}
