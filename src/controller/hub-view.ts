// What one reconcile of a hub reads, and the questions the decisions ask of it. Read once from the informer caches
// and the controller's memory at the start; the decisions (hub-decisions.ts, config-decisions.ts) are pure
// functions of it, of the step's outcome and of the time.
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
  RECONCILE_REQUESTED_ANNOTATION,
  resourceKeyOf,
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

/** The view of a hub whose IoTHub exists. */
export type ExistingHubView = HubView & { hub: HubObject };

/** What the decisions know besides the objects, as read at the start of the reconcile (and the time). */
export interface DecisionContext {
  now: Date;
  /** The manager id of the twins' ownership records this controller writes. */
  manager: string;
  /** How long a settled hub waits before it is read again (its spec.resyncInterval). */
  resyncMs: number;
  /** Statuses by object uid as the controller knows them (its own writes trusted over a lagging cache). */
  statuses: ReadonlyMap<string, unknown>;
  /** The IoTHubs of the namespace. */
  hubNames: ReadonlySet<string>;
  /** By IoTHub name: uids of resources its twins were seen to hold nothing more of. */
  cleaned: ReadonlyMap<string, ReadonlySet<string>>;
}

export const isDeleting = (object: { metadata: { deletionTimestamp?: string } }): boolean =>
  Boolean(object.metadata.deletionTimestamp);

/** The status an object carries as the controller knows it. */
export function statusOf<T>(object: ApiObject & { status?: T }, context: DecisionContext): T | undefined {
  const uid = object.metadata.uid;
  return uid !== undefined && context.statuses.has(uid) ? (context.statuses.get(uid) as T) : object.status;
}

/** The reconcile-now annotation, when it asks for a reconcile the status has not acknowledged yet. */
export function reconcileRequested(object: ApiObject, context: DecisionContext): boolean {
  const value = object.metadata.annotations?.[RECONCILE_REQUESTED_ANNOTATION];
  const status = statusOf(object as ApiObject & { status?: { lastHandledReconcileAt?: string } }, context);
  return value !== undefined && value !== status?.lastHandledReconcileAt;
}

function listedHubs(config: ConfigObject, context: DecisionContext): string[] {
  return statusOf(config, context)?.hubs ?? [];
}

function cleanedFrom(hubName: string, config: ConfigObject, context: DecisionContext): boolean {
  const uid = config.metadata.uid;
  return uid !== undefined && (context.cleaned.get(hubName)?.has(uid) ?? false);
}

/** Whether a resource that no longer points at `hubName` may still hold settings on its twins. */
export function mayHoldSettings(config: ConfigObject, hubName: string, context: DecisionContext): boolean {
  return listedHubs(config, context).includes(hubName) && !cleanedFrom(hubName, config, context);
}

/** The other hubs whose twins may hold the resource's settings: listed, existing, not seen cleaned. */
export function otherHubs(config: ConfigObject, hubName: string, context: DecisionContext): string[] {
  return listedHubs(config, context)
    .filter((h) => h !== hubName && context.hubNames.has(h) && !cleanedFrom(h, config, context))
    .sort();
}

/** Device twins whose ownership record (this manager's) still names the resource. */
export function ownedTwins(config: ConfigObject, snapshot: HubSnapshot, manager: string): number {
  const key = resourceKeyOf(config);
  let count = 0;
  for (const twins of snapshot.twins.values())
    for (const twin of twins.values()) {
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
  const previous = statusOf(object, context) as ({ lastHandledReconcileAt?: string } & T) | undefined;
  return {
    previous: previous as StatusContext['previous'],
    generation: object.metadata.generation,
    now: context.now,
    lastHandledReconcileAt:
      object.metadata.annotations?.[RECONCILE_REQUESTED_ANNOTATION] ?? previous?.lastHandledReconcileAt,
    ...extras,
  };
}
