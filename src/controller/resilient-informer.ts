// client-node's informer (ListWatch: a list, then a watch from its resourceVersion, a relist on 410) made to
// survive: in 1.4 any other error stops it for good. Here an error restarts it after a backoff with full jitter
// (never straight from the error handler: that has caused request storms), the watches run over WatchTransport
// (bookmarks, server-side timeout, a watchdog against silent stalls, one connection pool), and a periodic relist
// repairs whatever a watch may have missed. Restarts and relists are timers of a Clock, so tests can drive them.
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
} from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { type BackoffPolicy, backoffDelayMs } from '../runtime/backoff.js';
import { type Clock, systemClock, type Timer } from '../runtime/clock.js';
import { describeApiError } from './api-errors.js';
import { WatchTransport, type WatchTransportEvent, type WatchTransportOptions } from './watch-transport.js';

export type InformerEvent = 'add' | 'update' | 'delete';

const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

export interface ResilientInformerOptions {
  /** For logs: what is watched, e.g. "SecurityModuleConfigs in all namespaces". */
  name: string;
  kubeConfig: KubeConfig;
  /** The collection's URL path, e.g. /apis/iotsecurity.io/v1alpha1/securitymoduleconfigs. */
  path: string;
  list: () => Promise<KubernetesListObject<KubernetesObject>>;
  logger?: Logger;
  /** Restart backoff, full jitter (500 ms doubling to 30 s). */
  backoff?: BackoffPolicy;
  /** Relist this often (up to 10% sooner, at random) even when the watch seems fine (10 min); 0 turns it off. */
  relistIntervalMs?: number;
  clock?: Clock;
  transport?: WatchTransportOptions;
  /** Called when a list or watch goes through after failures: the API server can be reached again. */
  onRestored?: () => void;
}

export class ResilientInformer<T extends KubernetesObject> {
  readonly transport: WatchTransport;
  private readonly informer: ListWatch<T>;
  private failures = 0;
  /** When the current run of failures began (undefined while the watch is fine). */
  private failingSince?: number;
  private restartTimer?: Timer;
  /** When the pending restart's backoff ends (clock time). */
  private restartDueAt = 0;
  private relistTimer?: Timer;
  private readonly clock: Clock;
  private readonly backoff: BackoffPolicy;
  private stopped = true;
  private hasSynced = false;
  private readonly syncWaiters: (() => void)[] = [];
  /** Counts, for tests and metrics. */
  readonly stats = { lists: 0, listFailures: 0, restarts: 0, watchesStarted: 0, stalls: 0, expired: 0 };

  constructor(private readonly options: ResilientInformerOptions) {
    this.clock = options.clock ?? systemClock;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.transport = new WatchTransport(options.kubeConfig, {
      ...options.transport,
      onEvent: (event) => {
        this.onTransportEvent(event);
        options.transport?.onEvent?.(event);
      },
    });
    const list = async () => {
      this.stats.lists++;
      try {
        const result = (await options.list()) as KubernetesListObject<T>;
        this.markSynced();
        return result;
      } catch (error) {
        this.stats.listFailures++;
        throw error;
      }
    };
    this.informer = new ListWatch<T>(options.path, this.transport, list, false);
    this.informer.on('error', (error) => this.scheduleRestart(error));
  }

  get synced(): boolean {
    return this.hasSynced;
  }

  /** Resolves once the first list has been read into the cache. */
  waitForSync(): Promise<void> {
    if (this.hasSynced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  on(event: InformerEvent, handler: (object: T) => void): void {
    this.informer.on(event, handler);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.scheduleRelist();
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.restartTimer?.cancel();
    this.relistTimer?.cancel();
    await this.informer.stop();
    this.transport.close();
  }

  /**
   * Ends the wait of a restart backoff now (another informer got through: the API server is back). The failures
   * are kept, so a restart that fails again waits longer, as it would have.
   */
  retryNow(): void {
    if (this.stopped || !this.restartTimer) return;
    this.restartTimer.cancel();
    this.restartTimer = undefined;
    this.options.logger?.info('watch retried at once: the API server is back', {
      informer: this.options.name,
      backoffLeftMs: Math.max(0, this.restartDueAt - this.clock.now()),
    });
    this.stats.restarts++;
    void this.informer.start();
  }

  /** Lists again now (the watch may have missed something). */
  relist(reason = 'relist requested'): void {
    this.transport.forceRelist(reason);
  }

  private markSynced(): void {
    this.restored();
    if (this.hasSynced) return;
    this.hasSynced = true;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  private onTransportEvent(event: WatchTransportEvent): void {
    if (event.type === 'connected') {
      this.stats.watchesStarted++;
      this.restored();
    } else if (event.type === 'failed' && event.status === 410 && !event.requested) {
      // The server no longer has the resourceVersion the watch resumed from (it restarted, or compacted):
      // client-node lists again. Worth a line: what happened while the watch was away is read back from the list.
      this.stats.expired++;
      this.options.logger?.info('watch expired (410 Gone): listing again', {
        informer: this.options.name,
        error: event.error,
      });
    } else if (event.type === 'stalled') {
      this.stats.stalls++;
      this.options.logger?.warn('watch went silent; restarting it', {
        informer: this.options.name,
        silentSeconds: Math.round(event.silentMs / 1000),
      });
    } else if (event.type === 'parseError') {
      this.options.logger?.warn('watch sent a line that is not JSON; restarting it', {
        informer: this.options.name,
      });
    }
  }

  /** A list or a watch went through: the backoff starts over, and a recovery after failures is logged. */
  private restored(): void {
    const wasFailing = this.failingSince !== undefined;
    if (wasFailing)
      this.options.logger?.info('watch restored', {
        informer: this.options.name,
        failures: this.failures,
        downForMs: this.clock.now() - this.failingSince!,
      });
    this.failures = 0;
    this.failingSince = undefined;
    if (wasFailing) this.options.onRestored?.();
  }

  private scheduleRestart(error: unknown): void {
    if (this.stopped || this.restartTimer) return;
    this.failingSince ??= this.clock.now();
    this.failures++;
    // Full jitter: informers of many processes that lost the same API server do not come back in step.
    const delay = backoffDelayMs(this.backoff, this.failures);
    this.options.logger?.warn('watch failed; restarting after a backoff', {
      informer: this.options.name,
      error: describeApiError(error),
      retryInMs: delay,
      failures: this.failures,
    });
    this.restartDueAt = this.clock.now() + delay;
    this.restartTimer = this.clock.setTimer(delay, () => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.stats.restarts++;
      void this.informer.start();
    });
  }

  private scheduleRelist(): void {
    const interval = this.options.relistIntervalMs ?? 10 * 60_000;
    if (interval <= 0) return;
    const delay = Math.round(interval * (0.9 + Math.random() * 0.1));
    this.relistTimer = this.clock.setTimer(delay, () => {
      if (this.stopped) return;
      this.relist('periodic relist');
      this.scheduleRelist();
    });
  }
}
