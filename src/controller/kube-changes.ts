// What a reconcile decided to write to the Kubernetes API, as one value, and the one function that writes it.
// The decisions (pure) fill a KubeChanges; `applyChanges` writes every status that changed (through the status
// subresource, recording the Events its transition is worth and the metrics that mirror it), adds and removes
// finalizers, and gathers the errors instead of stopping at the first.
import type { IoTHubStatus, SecurityModuleConfigStatus } from '../api/generated/types.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import type { EventRecorder, RecordedEvent } from './event-recorder.js';
import type { HubState } from './hub-states.js';
import {
  type ApiKind,
  type ApiObject,
  type ConfigObject,
  type HubObject,
  objectKey,
} from './kube-objects.js';
import type { KubeWriter } from './kube-writer.js';
import { configEvents, hubEvents } from './status-events.js';

export type StatusChange =
  | { kind: 'IoTHub'; object: HubObject; status: IoTHubStatus; events: RecordedEvent[] }
  | {
      kind: 'SecurityModuleConfig';
      object: ConfigObject;
      status: SecurityModuleConfigStatus;
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

/** The status to write for a hub, with the Events of its transition from the status it has. */
export function hubStatusChange(hub: HubObject, status: IoTHubStatus, before?: IoTHubStatus): StatusChange {
  return { kind: 'IoTHub', object: hub, status, events: hubEvents(before, status) };
}

export function configStatusChange(
  config: ConfigObject,
  status: SecurityModuleConfigStatus,
  before?: SecurityModuleConfigStatus,
): StatusChange {
  return { kind: 'SecurityModuleConfig', object: config, status, events: configEvents(before, status) };
}

export interface ApplyDeps {
  writer: KubeWriter;
  events: EventRecorder;
  metrics?: OperatorMetrics;
  /** The hub's state: the statuses written, the resources seen cleaned. */
  state: HubState;
  enqueue?: (hubKey: string) => void;
}

export interface Applied {
  errors: Error[];
  /** `namespace/name` of the objects whose finalizer could not be added. */
  finalizerMissing: Set<string>;
}

export async function applyChanges(changes: KubeChanges, deps: ApplyDeps): Promise<Applied> {
  const applied: Applied = { errors: [], finalizerMissing: new Set() };
  const attempt = async (write: () => Promise<unknown>): Promise<boolean> => {
    try {
      await write();
      return true;
    } catch (error) {
      applied.errors.push(error as Error);
      return false;
    }
  };
  for (const { kind, object } of changes.addFinalizers)
    if (!(await attempt(() => deps.writer.addFinalizer(kind, object))))
      applied.finalizerMissing.add(objectKey(object.metadata));
  for (const change of changes.statuses) {
    const { kind, object, status } = change;
    deps.metrics?.recordStatus(kind, object.metadata.namespace, object.metadata.name, status);
    await attempt(async () => {
      if (await deps.writer.writeStatus(kind, object, status, deps.state.statuses))
        for (const event of change.events)
          await deps.events.record({ kind, metadata: object.metadata }, event);
    });
  }
  for (const { kind, object } of changes.removeFinalizers)
    await attempt(() => deps.writer.removeFinalizer(kind, object));
  for (const uid of changes.cleaned) deps.state.cleaned.add(uid);
  for (const key of changes.enqueue) deps.enqueue?.(key);
  return applied;
}
