// The controller's writes to the Kubernetes API: status through the status subresource, only when it changed;
// the finalizer added and removed with JSON patches guarded by a test of what is there.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { httpStatusOf } from '../runtime/http-status.js';
import { apiMessage } from './api-errors.js';
import {
  API_GROUP,
  API_VERSION,
  type ApiKind,
  type ApiObject,
  FINALIZER,
  PLURALS,
  sameJson,
} from './kube-objects.js';

/** A failed write, with what a person needs: the verb, the resource, the API server's own message. */
export class KubeWriteError extends Error {
  override name = 'KubeWriteError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class KubeWriter {
  /** Writes made, for tests and metrics. */
  readonly stats = { statusWrites: 0, statusSkipped: 0, finalizerWrites: 0 };
  /** The last status written per object (uid), and the resourceVersion the object had when it was written. */
  private readonly written = new Map<string, { from?: string; status: object }>();

  constructor(
    private readonly api: CustomObjectsApi,
    private readonly logger?: Logger,
  ) {}

  /**
   * The object's status as it stands. While the informer cache still shows the object as it was before our last
   * write (a watch outage), that is the status we wrote: otherwise every reconcile would write it again and
   * repeat its Events. Once the cache shows our write, or anyone's since, the cache's.
   */
  currentStatus<T>(object: ApiObject & { status?: T }): T | undefined {
    const uid = object.metadata.uid;
    const mine = uid === undefined ? undefined : this.written.get(uid);
    if (mine && mine.from !== undefined && mine.from === object.metadata.resourceVersion)
      return mine.status as T;
    return object.status;
  }

  /** Replaces the object's status when it differs from `status`; true when it wrote. A gone object is fine. */
  async writeStatus(kind: ApiKind, object: ApiObject, status: object): Promise<boolean> {
    if (sameJson(this.currentStatus(object), status)) {
      this.stats.statusSkipped++;
      return false;
    }
    await this.patch(kind, object, 'patch', `${PLURALS[kind]}/status`, () =>
      this.api.patchNamespacedCustomObjectStatus({
        ...this.target(kind, object),
        body: [{ op: 'add', path: '/status', value: status }],
      }),
    );
    const uid = object.metadata.uid;
    if (uid !== undefined) this.written.set(uid, { from: object.metadata.resourceVersion, status });
    this.stats.statusWrites++;
    return true;
  }

  /** The object is gone: nothing of it to remember. */
  forget(uid: string | undefined): void {
    if (uid !== undefined) this.written.delete(uid);
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
      throw new KubeWriteError(status, message);
    }
  }
}
