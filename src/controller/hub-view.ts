// What one reconcile of a hub reads, and the questions the decisions ask of it. Read once from the informer caches
// and the hub's state at the start; the decisions (hub-decisions.ts, config-decisions.ts) are pure functions of it.
//
// Which resources a hub answers for: those that point at it, and those that pointed at it before and may still
// have settings on its twins (they list it in status.hubs): these are taken off its twins by their deletionPolicy.
import type { ConfigStatusExtras, StatusContext } from '../planner/kubernetes-status.js';
import { readOwnership } from '../planner/ownership.js';
import type { HubSnapshot } from '../planner/types.js';
import {
  type ApiObject,
  type ConfigObject,
  type HubObject,
  objectKey,
  RECONCILE_REQUESTED_ANNOTATION,
} from './kube-objects.js';

export interface HubView {
  /** `namespace/name` of the IoTHub. */
  key: string;
  namespace: string;
  name: string;
  /** The IoTHub, undefined when it does not exist. */
  hub?: HubObject;
  /** The resources that point at it. */
  current: readonly ConfigObject[];
  /** Resources that no longer point at it but may still hold settings on its twins. */
  away: readonly ConfigObject[];
}

/** What the decisions know besides the objects, fixed for one reconcile. */
export interface DecisionContext {
  now: Date;
  /** The manager id of the twins' ownership records this controller writes. */
  manager: string;
  /** How long a settled hub waits before it is read again (its spec.resyncInterval). */
  resyncMs: number;
  /** The status an object carries as the controller knows it (its own writes trusted over a lagging cache). */
  statusOf<T>(object: ApiObject & { status?: T }): T | undefined;
  /** Whether an IoTHub of that name exists in the namespace. */
  hubExists(namespace: string, name: string): boolean;
  /** Whether the twins of hub `namespace/hubName` were seen to hold nothing more of the resource `uid`. */
  cleanedFrom(namespace: string, hubName: string, uid: string | undefined): boolean;
}

export const isDeleting = (object: { metadata: { deletionTimestamp?: string } }): boolean =>
  Boolean(object.metadata.deletionTimestamp);

/** The reconcile-now annotation, when it asks for a reconcile the status has not acknowledged yet. */
export function reconcileRequested(object: ApiObject, context: DecisionContext): boolean {
  const value = object.metadata.annotations?.[RECONCILE_REQUESTED_ANNOTATION];
  const handled = context.statusOf(
    object as ApiObject & { status?: { lastHandledReconcileAt?: string } },
  )?.lastHandledReconcileAt;
  return value !== undefined && value !== handled;
}

/** The hubs a resource's status lists as possibly holding its settings. */
function listedHubs(config: ConfigObject, context: DecisionContext): string[] {
  return context.statusOf(config)?.hubs ?? [];
}

/** Whether a resource that no longer points at `hubName` may still hold settings on its twins. */
export function mayHoldSettings(config: ConfigObject, hubName: string, context: DecisionContext): boolean {
  return (
    listedHubs(config, context).includes(hubName) &&
    !context.cleanedFrom(config.metadata.namespace, hubName, config.metadata.uid)
  );
}

/** The other hubs whose twins may hold the resource's settings: listed, existing, not seen cleaned. */
export function otherHubs(config: ConfigObject, hubName: string, context: DecisionContext): string[] {
  const { namespace, uid } = config.metadata;
  return listedHubs(config, context)
    .filter(
      (h) => h !== hubName && context.hubExists(namespace, h) && !context.cleanedFrom(namespace, h, uid),
    )
    .sort();
}

/** Device twins whose ownership record (this manager's) still names the resource. */
export function ownedTwins(config: ConfigObject, snapshot: HubSnapshot, manager: string): number {
  const key = objectKey(config.metadata);
  let count = 0;
  for (const twin of snapshot.modules.values()) {
    const ownership = readOwnership(twin.tags, manager);
    if (ownership.revisions.has(key) || [...ownership.owners.values()].includes(key)) count++;
  }
  return count;
}

/** What a status is computed from: the status as it stands, the generation, now, the handled annotation. */
export function statusContext<T>(
  object: ApiObject & { status?: T },
  context: DecisionContext,
  extras: ConfigStatusExtras = {},
): StatusContext & ConfigStatusExtras {
  const previous = context.statusOf(object) as ({ lastHandledReconcileAt?: string } & T) | undefined;
  return {
    previous: previous as StatusContext['previous'],
    generation: object.metadata.generation,
    now: context.now,
    lastHandledReconcileAt:
      object.metadata.annotations?.[RECONCILE_REQUESTED_ANNOTATION] ?? previous?.lastHandledReconcileAt,
    ...extras,
  };
}
