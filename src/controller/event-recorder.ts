// Kubernetes Events (core/v1, what `kubectl describe` and `kubectl get events` show), aggregated: the same
// reason and message on the same object within ten minutes bumps the count of the first event instead of
// creating another. The controller records transitions only, never one event per resync.
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { formatKubeTime } from '../api/kube-time.js';
import type { Logger } from '../observability/logger.js';
import { redactSecrets } from '../observability/redact.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { describeApiError } from './api-errors.js';
import { API_GROUP, API_VERSION, CONTROLLER_NAME, type KubeMeta } from './kube-objects.js';

export interface RecordedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface EventSubject {
  kind: string;
  metadata: KubeMeta;
}

const AGGREGATION_WINDOW_MS = 10 * 60_000;
const MAX_MESSAGE = 1024;

interface Recent {
  name: string;
  namespace: string;
  count: number;
  at: number;
}

export class EventRecorder {
  private readonly recent = new Map<string, Recent>();
  readonly stats = { created: 0, aggregated: 0, failed: 0 };

  constructor(
    private readonly api: CoreV1Api,
    private readonly options: { instance?: string; logger?: Logger; clock?: Clock } = {},
  ) {}

  /** Records `event` on `subject`. Never throws: an event is worth a warning in the log, not a failed reconcile. */
  async record(subject: EventSubject, event: RecordedEvent): Promise<void> {
    const now = (this.options.clock ?? systemClock).now();
    const message = redactSecrets(event.message).slice(0, MAX_MESSAGE);
    const key = `${subject.metadata.uid ?? subject.metadata.name}|${event.reason}|${message}`;
    this.forgetOld(now);
    const time = formatKubeTime(now);
    try {
      const seen = this.recent.get(key);
      if (seen) {
        seen.count++;
        seen.at = now;
        await this.api.patchNamespacedEvent({
          name: seen.name,
          namespace: seen.namespace,
          body: [
            { op: 'replace', path: '/count', value: seen.count },
            { op: 'replace', path: '/lastTimestamp', value: time },
          ],
        });
        this.stats.aggregated++;
        return;
      }
      const name = `${subject.metadata.name}.${randomBytes(8).toString('hex')}`.slice(0, 253);
      const body: CoreV1Event = {
        metadata: { name, namespace: subject.metadata.namespace },
        involvedObject: {
          apiVersion: `${API_GROUP}/${API_VERSION}`,
          kind: subject.kind,
          name: subject.metadata.name,
          namespace: subject.metadata.namespace,
          uid: subject.metadata.uid,
          resourceVersion: subject.metadata.resourceVersion,
        },
        reason: event.reason,
        message,
        type: event.type,
        count: 1,
        firstTimestamp: new Date(now),
        lastTimestamp: new Date(now),
        source: { component: CONTROLLER_NAME },
        reportingComponent: CONTROLLER_NAME,
        reportingInstance: this.options.instance ?? CONTROLLER_NAME,
      };
      await this.api.createNamespacedEvent({ namespace: subject.metadata.namespace, body });
      this.recent.set(key, { name, namespace: subject.metadata.namespace, count: 1, at: now });
      this.stats.created++;
    } catch (error) {
      this.stats.failed++;
      this.recent.delete(key);
      this.options.logger?.warn('could not record an event', {
        reason: event.reason,
        kind: subject.kind,
        name: subject.metadata.name,
        namespace: subject.metadata.namespace,
        error: describeApiError(error),
      });
    }
  }

  private forgetOld(now: number): void {
    for (const [key, seen] of this.recent) if (now - seen.at > AGGREGATION_WINDOW_MS) this.recent.delete(key);
  }
}
