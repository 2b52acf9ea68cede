export { type ReconcileOptions, type ReconcileOutcome, reconcileHub } from './reconcile-hub.js';
export { TwinMemory } from './twin-memory.js';
