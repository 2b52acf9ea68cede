// The statuses the controller wrote to the objects of one hub (the IoTHub and its resources), kept in the hub's
// state so that it trusts its own writes while the informer cache lags behind them (a watch outage): otherwise
// every reconcile would write the same status again and repeat its Events.
import { GoneUids } from './gone-uids.js';
import type { ApiObject } from './kube-objects.js';

interface Written {
  /** The object's resourceVersion when its status was written: while the cache still shows it, it is behind. */
  from?: string;
  status: object;
}

export class WrittenStatuses {
  private readonly written = new Map<string, Written>();

  /** `gone`: objects deleted lately, whose status a reconcile still running must not keep. */
  constructor(private readonly gone = new GoneUids()) {}

  /**
   * The object's status as it stands: while the cache still shows the object as it was before our last write,
   * the status we wrote; once it shows our write, or anyone's since, the cache's.
   */
  currentStatus<T>(object: ApiObject & { status?: T }): T | undefined {
    const uid = object.metadata.uid;
    const mine = uid === undefined ? undefined : this.written.get(uid);
    if (mine && mine.from !== undefined && mine.from === object.metadata.resourceVersion)
      return mine.status as T;
    return object.status;
  }

  remember(object: ApiObject, status: object): void {
    const uid = object.metadata.uid;
    if (uid !== undefined && !this.gone.has(uid))
      this.written.set(uid, { from: object.metadata.resourceVersion, status });
  }

  /** The object is gone: nothing of it to remember. */
  forget(uid: string | undefined): void {
    if (uid !== undefined) this.written.delete(uid);
  }
}
