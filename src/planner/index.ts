export type { DeviceEvaluation, OwnerPolicy } from './device-evaluation.js';
export { OWNERSHIP_TAG, readOwnership } from './ownership.js';
export { type HubPlan, type HubReconcileInput, planHubReconcile } from './plan-hub-reconcile.js';
export { toPlannedResource } from './resource-input.js';
export type { DeviceCounts, PlannedCondition, ResourceReport } from './resource-report.js';
export { resourceRevision } from './revision.js';
export * from './types.js';
