// The one place the controller writes status: through the status subresource and only when it changed, with the
// Events its transitions are worth and the metrics that mirror it.
import type { IoTHubStatus, SecurityModuleConfigStatus } from '../api/generated/types.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import type { ConfigStatusExtras, StatusContext } from '../planner/kubernetes-status.js';
import type { EventRecorder, RecordedEvent } from './event-recorder.js';
import {
  type ApiKind,
  type ApiObject,
  type ConfigObject,
  type HubObject,
  RECONCILE_REQUESTED_ANNOTATION,
} from './kube-objects.js';
import type { KubeWriter } from './kube-writer.js';
import { configEvents, hubEvents } from './status-events.js';

export interface StatusReporterDeps {
  writer: KubeWriter;
  events: EventRecorder;
  metrics?: OperatorMetrics;
  clock?: () => number;
}

/** The reconcile-now annotation, when it asks for a reconcile the status has not acknowledged yet. */
export function reconcileRequested(object: ApiObject): boolean {
  const value = object.metadata.annotations?.[RECONCILE_REQUESTED_ANNOTATION];
  const handled = (object.status as { lastHandledReconcileAt?: string } | undefined)?.lastHandledReconcileAt;
  return value !== undefined && value !== handled;
}

export class StatusReporter {
  constructor(private readonly deps: StatusReporterDeps) {}

  /** What a status is computed from: the status as it stands (see KubeWriter.currentStatus), the generation, now. */
  context<T>(
    object: ApiObject & { status?: T },
    extras: ConfigStatusExtras = {},
  ): StatusContext & ConfigStatusExtras {
    const previous = this.deps.writer.currentStatus(object) as
      | ({ lastHandledReconcileAt?: string } & T)
      | undefined;
    return {
      previous: previous as StatusContext['previous'],
      generation: object.metadata.generation,
      now: new Date((this.deps.clock ?? Date.now)()),
      lastHandledReconcileAt:
        object.metadata.annotations?.[RECONCILE_REQUESTED_ANNOTATION] ?? previous?.lastHandledReconcileAt,
      ...extras,
    };
  }

  /** The hubs the status lists now (for a config the reconcile does not plan). */
  listedHubs(config: ConfigObject): string[] {
    return this.deps.writer.currentStatus(config)?.hubs ?? [];
  }

  hub(hub: HubObject, status: IoTHubStatus, failures: unknown[]): Promise<void> {
    return this.write('IoTHub', hub, status, hubEvents, failures);
  }

  config(config: ConfigObject, status: SecurityModuleConfigStatus, failures: unknown[]): Promise<void> {
    return this.write('SecurityModuleConfig', config, status, configEvents, failures);
  }

  /** Records the metrics, writes the status if it changed, then the Events its transition is worth. */
  private async write<T extends IoTHubStatus | SecurityModuleConfigStatus>(
    kind: ApiKind,
    object: ApiObject & { status?: T },
    status: T,
    events: (before: T | undefined, after: T) => RecordedEvent[],
    failures: unknown[],
  ): Promise<void> {
    this.deps.metrics?.recordStatus(kind, object.metadata.namespace, object.metadata.name, status);
    const before = this.deps.writer.currentStatus(object);
    try {
      if (await this.deps.writer.writeStatus(kind, object, status))
        for (const event of events(before, status))
          await this.deps.events.record({ kind, metadata: object.metadata }, event);
    } catch (error) {
      failures.push(error);
    }
  }
}
