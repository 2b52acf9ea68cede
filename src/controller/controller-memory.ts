// Everything the controller keeps between reconciles, in one place; everything else a reconcile needs is read from
// the informer caches.
// - Per IoTHub resource (`namespace/name`), a HubState, dropped when a reconcile finds the IoTHub gone:
//   - its hub client and engine session (the session's memory of written twins and its last snapshot are what make
//     an edit reach its first twin write at once), made anew when what says how to reach the hub changes;
//   - its rate limiter, kept across new credentials (its adaptation to 429s too);
//   - the resources seen gone from its twins after they moved to another hub.
// - Per object, the statuses the controller wrote (written-statuses.ts) and the validator's verdict on its spec
//   (validation-memo.ts), forgotten when the object is deleted.
// - The telemetry of closed hub clients, so that the exported counters never go back.
import { createHash } from 'node:crypto';
import { HubSession, type HubSessionOptions } from '../engine/hub-session.js';
import { type HubCredentials, hubClientOptionsFrom } from '../hub/client-options.js';
import { parseHubConnectionString } from '../hub/connection-string.js';
import { createHubClient, type HubClient, type HubClientOptions } from '../hub/hub-client.js';
import { HubRateLimiter, type RateClassState } from '../hub/rate-limiter.js';
import { rateLimitsFor } from '../hub/rate-limits.js';
import { addTelemetry, emptyTelemetry, type HubTelemetrySnapshot } from '../hub/telemetry.js';
import type { Logger } from '../observability/logger.js';
import type { HubMetricsSource } from '../observability/metrics.js';
import { GoneUids } from './gone-uids.js';
import type { HubOwnership } from './hub-ownership.js';
import type { HubObject } from './kube-objects.js';
import { ownedHubAccess } from './owned-hub-access.js';
import { ValidationMemo } from './validation-memo.js';
import { WrittenStatuses } from './written-statuses.js';

export interface HubConnection {
  client: HubClient;
  session: HubSession;
}

/** What is kept about one hub. */
export class HubState {
  connection?: HubConnection & { fingerprint: string };
  /**
   * Never shared between IoTHub resources: an IoTHub of another namespace naming the same host must not slow this
   * one down.
   */
  limiter?: HubRateLimiter;
  /** uids of resources that no longer point at this hub and whose settings its twins were seen to hold no more. */
  readonly cleaned = new Set<string>();
}

export interface ControllerMemoryOptions {
  manager: string;
  logger?: Logger;
  /** Engine timing (tests shorten it); resyncMs comes from each IoTHub's spec.resyncInterval. */
  session?: Omit<HubSessionOptions, 'unknownOwners' | 'manager' | 'resyncMs' | 'logger'>;
  /** Extra hub client options (tests: retry timing). */
  client?: Partial<HubClientOptions>;
  /** With hubs sharded across replicas: each hub write is refused unless this replica holds the hub then. */
  ownership?: HubOwnership;
}

export class ControllerMemory implements HubMetricsSource {
  private readonly states = new Map<string, HubState>();
  /** Objects deleted lately: a reconcile that read them before keeps nothing of them after (gone-uids.ts). */
  private readonly gone = new GoneUids();
  /** The statuses written, by object uid (an object's status is written by whichever hub it points at). */
  readonly statuses = new WrittenStatuses(this.gone);
  /** The validator's verdicts, by object uid: judged again only when the spec or its ConfigMap changes. */
  readonly validations = new ValidationMemo(this.gone);
  /**
   * Telemetry of closed clients, by IoTHub resource: the exported counters never go back, so this outlives the
   * hubs (a few numbers per hub ever connected).
   */
  private readonly retired = new Map<string, HubTelemetrySnapshot>();

  constructor(private readonly options: ControllerMemoryOptions) {}

  /** The state of hub `key`, made empty on first use (a hub that exists and is being reconciled). */
  ensure(key: string): HubState {
    let state = this.states.get(key);
    if (!state) {
      state = new HubState();
      this.states.set(key, state);
    }
    return state;
  }

  /** The state of hub `key` if there is one (none is made). */
  peek(key: string): HubState | undefined {
    return this.states.get(key);
  }

  /** Hubs with state kept, for tests and logs. */
  get hubKeys(): string[] {
    return [...this.states.keys()];
  }

  /** A resource is gone: no hub's twins need be watched for its settings. */
  forgetObject(uid: string | undefined): void {
    if (uid === undefined) return;
    this.gone.add(uid);
    this.statuses.forget(uid);
    this.validations.forget(uid);
    for (const state of this.states.values()) state.cleaned.delete(uid);
  }

  /** The connection of hub `key`, made anew when its credentials, tier, units, limits or resync changed. */
  connect(key: string, hub: HubObject, credentials: HubCredentials, resyncMs: number): HubConnection {
    const clientOptions = hubClientOptionsFrom(hub.spec, credentials);
    // A hash, never logged: it tells that something changed without holding what.
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([clientOptions, resyncMs]))
      .digest('hex');
    const state = this.ensure(key);
    if (state.connection?.fingerprint === fingerprint) return state.connection;
    this.disconnect(key);
    const logger = this.options.logger;
    const hostName =
      clientOptions.tokenAuth?.hostName ?? parseHubConnectionString(clientOptions.connectionString!).hostName;
    const limits = rateLimitsFor(hostName, clientOptions.tier, clientOptions.units, clientOptions.rateLimits);
    let rateLimiter = state.limiter;
    if (rateLimiter && rateLimiter.hubName === hostName) rateLimiter.configure(limits);
    else rateLimiter = new HubRateLimiter(hostName, limits);
    state.limiter = rateLimiter;
    const client = createHubClient({ ...this.options.client, ...clientOptions, rateLimiter, logger });
    const namespace = `${hub.metadata.namespace}/`;
    const ownership = this.options.ownership;
    const access = ownership ? ownedHubAccess(key, client, ownership) : client;
    const session = new HubSession(access, {
      ...this.options.session,
      unknownOwners: 'keep',
      manager: this.options.manager,
      // An IoTHub answers for the resources of its namespace only: another namespace's IoTHub may name the same hub.
      scope: (resource) => resource.startsWith(namespace),
      resyncMs,
      logger,
    });
    state.connection = { client, session, fingerprint };
    return state.connection;
  }

  /** The open connection of hub `key`, if any. */
  connection(key: string): HubConnection | undefined {
    return this.states.get(key)?.connection;
  }

  /** The IoTHub is gone: everything kept for it (the statuses of its objects go with their delete events). */
  drop(key: string): void {
    this.disconnect(key);
    this.states.delete(key);
  }

  /** Closes the hub's connection (its limiter and the rest of its state stay). */
  private disconnect(key: string): void {
    const state = this.states.get(key);
    const client = state?.connection?.client;
    if (!state || !client) return;
    const sum = this.retired.get(key) ?? emptyTelemetry();
    addTelemetry(sum, client.telemetry.snapshot());
    this.retired.set(key, sum);
    client.close();
    state.connection = undefined;
  }

  telemetry(): Map<string, HubTelemetrySnapshot> {
    const out = new Map<string, HubTelemetrySnapshot>();
    const add = (hub: string, snapshot: HubTelemetrySnapshot) => {
      const sum = out.get(hub) ?? emptyTelemetry();
      addTelemetry(sum, snapshot);
      out.set(hub, sum);
    };
    for (const [hub, snapshot] of this.retired) add(hub, snapshot);
    for (const [key, { connection }] of this.states)
      if (connection) add(key, connection.client.telemetry.snapshot());
    return out;
  }

  rateLimits(): Map<string, Record<string, RateClassState>> {
    const out = new Map<string, Record<string, RateClassState>>();
    for (const [key, { connection }] of this.states)
      if (connection) out.set(key, connection.client.rateLimiter.snapshot());
    return out;
  }

  /** Closes every connection and forgets every hub (the controller stops). */
  closeAll(): void {
    for (const key of [...this.states.keys()]) this.drop(key);
  }
}
