export {
  HubSession,
  type HubSessionOptions,
  isWaiting,
  type StepOptions,
  type StepOutcome,
} from './hub-session.js';
export { type ReconcileOptions, type ReconcileOutcome, reconcileHub } from './reconcile-hub.js';
export { TwinMemory } from './twin-memory.js';
