// The controller's writes to the Kubernetes API: status through the status subresource, only when it changed
// (judged against the hub's WrittenStatuses, which trusts our own writes while the cache lags), every string of it
// redacted first; the finalizer added and removed with JSON patches guarded by a test of what is there.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { redactValue } from '../observability/redact.js';
import { httpStatusOf } from '../runtime/http-status.js';
import { sameJson } from '../runtime/same-json.js';
import { apiMessage } from './api-errors.js';
import { API_GROUP, API_VERSION, type ApiKind, type ApiObject, FINALIZER, PLURALS } from './kube-objects.js';
import type { WrittenStatuses } from './written-statuses.js';

/** A failed call to the Kubernetes API, with what a person needs: the verb, the resource, the API server's own message. */
export class KubeCallError extends Error {
  override name = 'KubeCallError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A write the API server did not answer, or that a proxy in front of it could not pass on (502, 503, 504): worth
 * trying again as soon as a watch gets through. Not a 429 or a 500: the server answered, and a watch coming back
 * says nothing about its load or its webhooks; those keep their backoff.
 */
export function isApiServerUnreachable(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isApiServerUnreachable);
  return error instanceof KubeCallError && [0, 502, 503, 504].includes(error.status);
}

export class KubeWriter {
  /** Writes made, for tests and metrics. */
  readonly stats = { statusWrites: 0, statusSkipped: 0, finalizerWrites: 0 };

  constructor(
    private readonly api: CustomObjectsApi,
    private readonly logger?: Logger,
  ) {}

  /**
   * Replaces the object's status when it differs from the status `written` says it has; true when it wrote. A
   * gone object is fine. Every kind's status passes here, so this is where its messages (a condition's, a device
   * failure's: often an error's text) lose any secret they quote; the redacted status is the one compared and
   * remembered, as it is the one the cache will show.
   */
  async writeStatus(
    kind: ApiKind,
    object: ApiObject,
    unredacted: object,
    written: WrittenStatuses,
  ): Promise<boolean> {
    const status = redactValue(unredacted);
    if (sameJson(written.currentStatus(object), status)) {
      this.stats.statusSkipped++;
      return false;
    }
    await this.patch(kind, object, 'patch', `${PLURALS[kind]}/status`, () =>
      this.api.patchNamespacedCustomObjectStatus({
        ...this.target(kind, object),
        body: [{ op: 'add', path: '/status', value: status }],
      }),
    );
    written.remember(object, status);
    this.stats.statusWrites++;
    return true;
  }

  async addFinalizer(kind: ApiKind, object: ApiObject): Promise<void> {
    const finalizers = object.metadata.finalizers;
    if (finalizers?.includes(FINALIZER)) return;
    // Guarded by the resourceVersion read: another controller's finalizer added since is never overwritten (the
    // patch fails, and the next reconcile reads again).
    const guard = { op: 'test', path: '/metadata/resourceVersion', value: object.metadata.resourceVersion };
    const body = finalizers
      ? [guard, { op: 'add', path: '/metadata/finalizers/-', value: FINALIZER }]
      : [guard, { op: 'add', path: '/metadata/finalizers', value: [FINALIZER] }];
    await this.patch(kind, object, 'patch', PLURALS[kind], () =>
      this.api.patchNamespacedCustomObject({ ...this.target(kind, object), body }),
    );
    this.stats.finalizerWrites++;
  }

  async removeFinalizer(kind: ApiKind, object: ApiObject): Promise<void> {
    const index = object.metadata.finalizers?.indexOf(FINALIZER) ?? -1;
    if (index < 0) return;
    const body = [
      { op: 'test', path: `/metadata/finalizers/${index}`, value: FINALIZER },
      { op: 'remove', path: `/metadata/finalizers/${index}` },
    ];
    await this.patch(kind, object, 'patch', PLURALS[kind], () =>
      this.api.patchNamespacedCustomObject({ ...this.target(kind, object), body }),
    );
    this.stats.finalizerWrites++;
  }

  private target(kind: ApiKind, object: ApiObject) {
    return {
      group: API_GROUP,
      version: API_VERSION,
      namespace: object.metadata.namespace,
      plural: PLURALS[kind],
      name: object.metadata.name,
    };
  }

  private async patch(
    kind: ApiKind,
    object: ApiObject,
    verb: string,
    resource: string,
    call: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await call();
    } catch (error) {
      const status = httpStatusOf(error) ?? 0;
      if (status === 404) return; // gone: nothing left to write
      const where = `${kind} ${object.metadata.namespace}/${object.metadata.name}`;
      const message =
        status === 403
          ? `not allowed to ${verb} ${resource}.${API_GROUP} (${where}): ${apiMessage(error)}; grant it to the operator's ServiceAccount (see manifests/)`
          : `${verb} ${resource} of ${where} failed${status ? ` (${status})` : ''}: ${apiMessage(error)}`;
      this.logger?.warn(message, {
        kind,
        name: object.metadata.name,
        namespace: object.metadata.namespace,
        status,
      });
      throw new KubeCallError(status, message);
    }
  }
}
