// The informers of one kind over the namespaces the controller watches: one over all namespaces, or one per
// namespace given (with RBAC granted per namespace, a cluster-wide watch would be refused). Changes are delivered
// as client-go's informers deliver them: an update with the object as it was before (client-node's informer gives
// only the new one), so that handlers can tell what changed.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import {
  type InformerEvent,
  ResilientInformer,
  type ResilientInformerOptions,
} from './resilient-informer.js';

export interface CollectionSource {
  /** For logs, e.g. "SecurityModuleConfigs". */
  name: string;
  /** URL path of the collection in `namespace`, or in all namespaces when undefined. */
  path(namespace?: string): string;
  list(namespace?: string): Promise<KubernetesListObject<KubernetesObject>>;
}

export interface NamespacedInformersOptions {
  kubeConfig: KubeConfig;
  /** Namespaces to watch; empty: all. */
  namespaces: readonly string[];
  logger?: Logger;
  tuning?: Pick<ResilientInformerOptions, 'relistIntervalMs' | 'backoff' | 'transport'>;
  /** One of the informers got through after failures (see ResilientInformerOptions.onRestored). */
  onRestored?: () => void;
}

export interface ObjectChange<T> {
  event: InformerEvent;
  object: T;
  /** The object as the last event showed it (updates only). */
  previous?: T;
}

export class NamespacedInformers<T extends KubernetesObject> {
  private readonly informers: Map<string | undefined, ResilientInformer<T>>;
  /** The object each key had at its last event: what an update changed from (the cache already holds the new). */
  private readonly last = new Map<string, T>();
  private readonly handlers: ((change: ObjectChange<T>) => void)[] = [];

  constructor(source: CollectionSource, options: NamespacedInformersOptions) {
    const scopes: (string | undefined)[] = options.namespaces.length ? [...options.namespaces] : [undefined];
    this.informers = new Map(
      scopes.map((namespace) => [
        namespace,
        new ResilientInformer<T>({
          ...options.tuning,
          name: `${source.name} in ${namespace ? `namespace ${namespace}` : 'all namespaces'}`,
          kubeConfig: options.kubeConfig,
          path: source.path(namespace),
          list: () => source.list(namespace),
          logger: options.logger,
          onRestored: options.onRestored,
        }),
      ]),
    );
    for (const informer of this.informers.values())
      for (const event of ['add', 'update', 'delete'] as const)
        informer.on(event, (object) => this.dispatch(event, object));
  }

  get synced(): boolean {
    return [...this.informers.values()].every((i) => i.synced);
  }

  /** Calls `handler` at every add, update and delete, in the order the watches deliver them. */
  onChange(handler: (change: ObjectChange<T>) => void): void {
    this.handlers.push(handler);
  }

  get(namespace: string, name: string): T | undefined {
    return this.informerFor(namespace)?.get(name, namespace);
  }

  list(namespace: string): readonly T[] {
    return this.informerFor(namespace)?.list(namespace) ?? [];
  }

  /** Every object in every watched namespace. */
  all(): readonly T[] {
    return [...this.informers.values()].flatMap((i) => i.list());
  }

  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  waitForSync(): Promise<void> {
    return Promise.all([...this.informers.values()].map((i) => i.waitForSync())).then(() => undefined);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  /** Informers waiting out a restart backoff try again now. */
  retryNow(): void {
    for (const informer of this.informers.values()) informer.retryNow();
  }

  /** Drops every open watch (tests of reconnection). */
  dropWatches(): void {
    for (const informer of this.informers.values()) informer.transport.dropAll('dropped on purpose');
  }

  private dispatch(event: InformerEvent, object: T): void {
    const key = `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
    const previous = event === 'update' ? this.last.get(key) : undefined;
    if (event === 'delete') this.last.delete(key);
    else this.last.set(key, object);
    for (const handler of this.handlers) handler({ event, object, previous });
  }

  private informerFor(namespace: string): ResilientInformer<T> | undefined {
    return this.informers.get(undefined) ?? this.informers.get(namespace);
  }
}
