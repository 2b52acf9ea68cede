// From a validated SecurityModuleConfig (defaults applied) to what the planner reads.

import type { SecurityModuleConfig } from '../api/generated/types.js';
import { requireKubeDuration } from '../api/kube-duration.js';
import { agentSettingsOf } from '../profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../profiles/security-agent/profile.js';
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
    kind: 'SecurityModuleConfig',
    slot: SECURITY_MODULE_ID,
    settings: agentSettingsOf(spec.agentConfiguration),
    convergence: 'Agent',
    suspend: spec.suspend ?? false,
    createModule: spec.createMissingModules ?? false,
    convergenceTimeoutMs: requireKubeDuration(spec.convergenceTimeout ?? '15m', 'spec.convergenceTimeout'),
    rollout: {
      batchSize: spec.rollout?.batchSize ?? '100%',
      failureThreshold: spec.rollout?.failureThreshold ?? '10%',
    },
  };
}
