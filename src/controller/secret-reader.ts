// The Secrets IoTHubs name, read by GET from the API server: only those named, never a list or a watch of Secrets
// (the operator's rights on Secrets are `get` alone; Kubernetes RBAC cannot narrow list or watch by label, so a
// label-narrowed watch would still need the right to list and watch every Secret). Each is read at every reconcile
// of a hub that names it, and in between every `recheckMs` (1 minute: what kubelet takes to refresh a mounted
// Secret) to notice a rotation, a deletion or a removed key without a watch: a Secret whose resourceVersion (or
// existence) changed queues the hubs that read it, an unchanged one costs one GET and nothing else.
//
// What is kept between reads holds no value of any key: per Secret, its resourceVersion, the names of the keys
// used, and the hubs that read it. The values of the keys asked for go to the caller (the hub's connection keeps
// them); the other keys of a Secret are dropped as soon as it is read.
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { httpStatusOf } from '../runtime/http-status.js';
import { getFailureMessage } from './api-errors.js';
import { KubeCallError } from './kube-writer.js';

/**
 * One Secret as a caller asked for it: the values (decoded) of the keys asked for that it has, the names of all its
 * keys (for a message saying which it has), or why there is none: it does not exist (404), or it could not be read
 * (`unreadable`: a refusal, a failure of the API server, no answer).
 */
export type SecretRead =
  | { found: true; values: Record<string, string>; keyNames: readonly string[] }
  | { found: false; unreadable?: KubeCallError };

/** Reads Secret `namespace/name` for the values of `keys` (and only those are returned). */
export type SecretLookup = (namespace: string, name: string, keys: readonly string[]) => Promise<SecretRead>;

/** What is remembered of one Secret between reads: never a value. */
export interface RememberedSecret {
  /** The resourceVersion last read; undefined while the Secret did not exist. */
  resourceVersion?: string;
  /** The keys a hub used from it. */
  usedKeys: ReadonlySet<string>;
  /** The hubs (`namespace/name`) whose last reconcile read it. */
  hubs: ReadonlySet<string>;
}

interface Entry {
  resourceVersion?: string;
  usedKeys: Set<string>;
  hubs: Set<string>;
}

export interface SecretReaderOptions {
  logger?: Logger;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

export class SecretReader {
  private readonly remembered = new Map<string, Entry>();
  /** The Secrets each hub's last reconcile read. */
  private readonly readBy = new Map<string, Set<string>>();

  constructor(
    private readonly api: Pick<CoreV1Api, 'readNamespacedSecret'>,
    private readonly options: SecretReaderOptions = {},
  ) {}

  /**
   * Runs `use` (a hub's reconcile resolving its credentials) with a lookup that reads each Secret once however many
   * keys are asked of it, and remembers for the recheck the Secrets read this time, and only those, as hub `hubKey`'s.
   */
  async forHub<T>(hubKey: string, use: (lookup: SecretLookup) => Promise<T>): Promise<T> {
    const reads = new Map<string, Promise<V1Secret | KubeCallError | undefined>>();
    const used = new Map<string, Set<string>>();
    const lookup: SecretLookup = async (namespace, name, keys) => {
      const key = keyOf(namespace, name);
      let read = reads.get(key);
      if (!read) {
        read = this.get(namespace, name);
        reads.set(key, read);
      }
      const secret = await read;
      const usedHere = used.get(key) ?? new Set<string>();
      for (const k of keys) usedHere.add(k);
      used.set(key, usedHere);
      if (secret instanceof KubeCallError) return { found: false, unreadable: secret };
      this.remember(hubKey, key, secret?.metadata?.resourceVersion, usedHere);
      if (!secret) return { found: false };
      const data = secret.data ?? {};
      const values: Record<string, string> = {};
      for (const k of keys) {
        const encoded = data[k];
        if (encoded !== undefined) values[k] = Buffer.from(encoded, 'base64').toString('utf8');
      }
      return { found: true, values, keyNames: Object.keys(data).sort() };
    };
    try {
      return await use(lookup);
    } finally {
      this.settle(hubKey, new Set(used.keys()));
    }
  }

  /** Hub `hubKey` is gone (or no longer this replica's): its Secrets are no longer rechecked for it. */
  forget(hubKey: string): void {
    this.settle(hubKey, new Set());
  }

  /**
   * Reads again every Secret a hub wanted (`wanted`: this replica answers for it) read, one after the other, and
   * calls `changed` with each hub whose Secret's resourceVersion or existence differs from what its reconcile saw.
   * What is remembered is left as it was: the reconcile that follows reads the Secret and remembers it anew. A Secret
   * that cannot be read now is passed over (the hub's next reconcile reports it).
   */
  async recheck(changed: (hubKey: string) => void, wanted: (hubKey: string) => boolean = () => true) {
    for (const [key, entry] of [...this.remembered]) {
      const hubs = [...entry.hubs].filter(wanted);
      if (hubs.length === 0) continue;
      const slash = key.indexOf('/');
      const secret = await this.get(key.slice(0, slash), key.slice(slash + 1), { quiet: true });
      if (secret instanceof KubeCallError) continue;
      if (secret?.metadata?.resourceVersion === entry.resourceVersion) continue;
      for (const hub of hubs) changed(hub);
    }
  }

  /** What is remembered, by `namespace/name` (for tests and the memory benchmark). */
  snapshot(): Map<string, RememberedSecret> {
    return new Map([...this.remembered].map(([key, e]) => [key, { ...e }]));
  }

  /** The Secret, undefined when it does not exist, or why it could not be read. */
  private async get(
    namespace: string,
    name: string,
    { quiet = false } = {},
  ): Promise<V1Secret | KubeCallError | undefined> {
    try {
      return await this.api.readNamespacedSecret({ name, namespace });
    } catch (error) {
      const status = httpStatusOf(error) ?? 0;
      if (status === 404) return undefined;
      const message = getFailureMessage(error, 'Secret', 'secrets', namespace, name);
      if (quiet) this.options.logger?.debug(message, { kind: 'Secret', name, namespace, status });
      else this.options.logger?.warn(message, { kind: 'Secret', name, namespace, status });
      return new KubeCallError(status, message);
    }
  }

  private remember(hubKey: string, key: string, resourceVersion: string | undefined, used: Set<string>) {
    const entry = this.remembered.get(key) ?? { usedKeys: new Set<string>(), hubs: new Set<string>() };
    entry.resourceVersion = resourceVersion;
    for (const k of used) entry.usedKeys.add(k);
    entry.hubs.add(hubKey);
    this.remembered.set(key, entry);
  }

  /** Hub `hubKey` now reads exactly `secrets`: the others it read before let it go, and go when no hub reads them. */
  private settle(hubKey: string, secrets: Set<string>): void {
    for (const key of this.readBy.get(hubKey) ?? []) {
      if (secrets.has(key)) continue;
      const entry = this.remembered.get(key);
      entry?.hubs.delete(hubKey);
      if (entry && entry.hubs.size === 0) this.remembered.delete(key);
    }
    // A Secret that could not be read is not remembered: nothing is known of its version to compare.
    const kept = new Set([...secrets].filter((key) => this.remembered.get(key)?.hubs.has(hubKey)));
    if (kept.size) this.readBy.set(hubKey, kept);
    else this.readBy.delete(hubKey);
  }
}
