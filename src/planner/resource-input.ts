// From a validated SecurityModuleConfig (defaults applied) to what the planner reads.
import { agentSettingsOf } from '../profiles/security-agent/index.js';
import type { SecurityModuleConfig } from '../api/generated/types.js';
import { requireKubeDuration } from '../api/kube-duration.js';
import type { PlannedResource } from './types.js';

export function resourceKey(metadata: { name: string; namespace?: string }): string {
  return `${metadata.namespace ?? 'default'}/${metadata.name}`;
}

export function toPlannedResource(config: SecurityModuleConfig): PlannedResource {
  const spec = config.spec;
  return {
    key: resourceKey(config.metadata),
    priority: spec.priority ?? 0,
    target: { condition: spec.target.condition, deviceIds: spec.target.deviceIds },
    settings: agentSettingsOf(spec.agentConfiguration),
    suspend: spec.suspend ?? false,
    createMissingModules: spec.createMissingModules ?? false,
    convergenceTimeoutMs: requireKubeDuration(spec.convergenceTimeout ?? '15m', 'spec.convergenceTimeout'),
    rollout: {
      batchSize: spec.rollout?.batchSize ?? '100%',
      failureThreshold: spec.rollout?.failureThreshold ?? '10%',
    },
  };
}
