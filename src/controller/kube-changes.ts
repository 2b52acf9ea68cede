// What a reconcile decided to write to the Kubernetes API, as one value, and the one function that writes it.
// The decisions (pure) fill a KubeChanges; `applyChanges` writes every status that changed (through the status
// subresource, recording the Events its transition is worth and the metrics that mirror it), adds and removes
// finalizers, and gathers the errors instead of stopping at the first.
import type { IoTHubStatus, SecurityModuleConfigStatus, TwinConfigStatus } from '../api/generated/types.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import type { EventRecorder, RecordedEvent } from './event-recorder.js';
import {
  type ApiKind,
  type ApiObject,
  type ConfigObject,
  configKindOf,
  type HubObject,
  objectKey,
} from './kube-objects.js';
import type { KubeWriter } from './kube-writer.js';
import { configEvents, hubEvents } from './status-events.js';
import type { WrittenStatuses } from './written-statuses.js';

export type StatusChange =
  | { kind: 'IoTHub'; object: HubObject; status: IoTHubStatus; events: RecordedEvent[] }
  | {
      kind: 'SecurityModuleConfig' | 'TwinConfig';
      object: ConfigObject;
      status: SecurityModuleConfigStatus | TwinConfigStatus;
      events: RecordedEvent[];
    };

export interface FinalizerChange {
  kind: ApiKind;
  object: ApiObject;
}

export interface KubeChanges {
  addFinalizers: FinalizerChange[];
  /** Statuses to write where they changed, with the Events of their transitions, in order. */
  statuses: StatusChange[];
  removeFinalizers: FinalizerChange[];
  /** uids of resources the hub's twins were seen to hold nothing more of (they point at another hub now). */
  cleaned: string[];
  /** Other hubs to reconcile (a resource that moved away was cleaned here: its own hub may let it go now). */
  enqueue: string[];
}

export function noChanges(): KubeChanges {
  return { addFinalizers: [], statuses: [], removeFinalizers: [], cleaned: [], enqueue: [] };
}

/** The changes of several decisions, in order. */
export function mergeChanges(...parts: KubeChanges[]): KubeChanges {
  const merged = noChanges();
  for (const part of parts) {
    merged.addFinalizers.push(...part.addFinalizers);
    merged.statuses.push(...part.statuses);
    merged.removeFinalizers.push(...part.removeFinalizers);
    merged.cleaned.push(...part.cleaned);
    merged.enqueue.push(...part.enqueue);
  }
  return merged;
}

/** Which object a finalizer change is about, kinds apart. */
export function finalizerTarget(
  kind: ApiKind,
  object: { metadata: { name: string; namespace?: string } },
): string {
  return `${kind}/${objectKey(object.metadata)}`;
}

/** The status to write for a hub, with the Events of its transition from the status it has. */
export function hubStatusChange(hub: HubObject, status: IoTHubStatus, before?: IoTHubStatus): StatusChange {
  return { kind: 'IoTHub', object: hub, status, events: hubEvents(before, status) };
}

export function configStatusChange(
  config: ConfigObject,
  status: SecurityModuleConfigStatus | TwinConfigStatus,
  before?: SecurityModuleConfigStatus | TwinConfigStatus,
): StatusChange {
  return { kind: configKindOf(config), object: config, status, events: configEvents(before, status) };
}

export interface ApplyDeps {
  writer: KubeWriter;
  events: EventRecorder;
  metrics?: OperatorMetrics;
  /** The statuses written, by object: written through, and trusted while the cache lags. */
  statuses: WrittenStatuses;
  /** The hub's set of resources seen gone from its twins (only a step of an existing hub adds to it). */
  cleaned?: Set<string>;
  enqueue?: (hubKey: string) => void;
}

export interface Applied {
  errors: Error[];
  /** The objects whose finalizer could not be added (finalizerTarget). */
  finalizerMissing: Set<string>;
}

const toError = (thrown: unknown): Error => (thrown instanceof Error ? thrown : new Error(String(thrown)));

export async function applyChanges(changes: KubeChanges, deps: ApplyDeps): Promise<Applied> {
  const applied: Applied = { errors: [], finalizerMissing: new Set() };
  const attempt = async (write: () => Promise<unknown>): Promise<boolean> => {
    try {
      await write();
      return true;
    } catch (error) {
      applied.errors.push(toError(error));
      return false;
    }
  };
  for (const { kind, object } of changes.addFinalizers)
    if (!(await attempt(() => deps.writer.addFinalizer(kind, object))))
      applied.finalizerMissing.add(finalizerTarget(kind, object));
  for (const change of changes.statuses) {
    const { kind, object, status } = change;
    deps.metrics?.recordStatus(kind, object.metadata.namespace, object.metadata.name, status);
    await attempt(async () => {
      if (await deps.writer.writeStatus(kind, object, status, deps.statuses))
        for (const event of change.events)
          await deps.events.record({ kind, metadata: object.metadata }, event);
    });
  }
  for (const { kind, object } of changes.removeFinalizers)
    await attempt(() => deps.writer.removeFinalizer(kind, object));
  for (const uid of changes.cleaned) deps.cleaned?.add(uid);
  for (const key of changes.enqueue) deps.enqueue?.(key);
  return applied;
}
