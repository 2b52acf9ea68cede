// One hub client and one engine session per IoTHub resource, kept between reconciles (the session's memory of
// written twins and its last snapshot are what make an edit reach its first twin write at once), replaced when
// what says how to reach the hub changes, closed when the IoTHub goes.
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
import type { HubObject } from './kube-objects.js';

export interface HubConnection {
  client: HubClient;
  session: HubSession;
}

export interface HubConnectionsOptions {
  manager: string;
  logger?: Logger;
  /** Engine timing (tests shorten it); resyncMs comes from each IoTHub's spec.resyncInterval. */
  session?: Omit<HubSessionOptions, 'unknownOwners' | 'manager' | 'resyncMs' | 'logger'>;
  /** Extra hub client options (tests: retry timing). */
  client?: Partial<HubClientOptions>;
}

export class HubConnections implements HubMetricsSource {
  private readonly connections = new Map<string, { fingerprint: string; connection: HubConnection }>();
  /** Telemetry of closed clients, by IoTHub resource (`namespace/name`): the exported counters never go back. */
  private readonly retired = new Map<string, HubTelemetrySnapshot>();
  /**
   * One rate limiter per IoTHub resource, kept across new credentials (its adaptation to 429s too). Never shared
   * between resources: an IoTHub of another namespace naming the same host must not slow this one down.
   */
  private readonly limiters = new Map<string, HubRateLimiter>();

  constructor(private readonly options: HubConnectionsOptions) {}

  get size(): number {
    return this.connections.size;
  }

  /** The connection of hub `key`, made anew when its credentials, tier, units, limits or resync changed. */
  connect(key: string, hub: HubObject, credentials: HubCredentials, resyncMs: number): HubConnection {
    const clientOptions = hubClientOptionsFrom(hub.spec, credentials);
    // A hash, never logged: it tells that something changed without holding what.
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([clientOptions, resyncMs]))
      .digest('hex');
    const existing = this.connections.get(key);
    if (existing?.fingerprint === fingerprint) return existing.connection;
    if (existing) this.release(key);
    const logger = this.options.logger;
    const hostName = parseHubConnectionString(clientOptions.connectionString).hostName;
    const limits = rateLimitsFor(hostName, clientOptions.tier, clientOptions.units, clientOptions.rateLimits);
    let rateLimiter = this.limiters.get(key);
    if (rateLimiter && rateLimiter.hubName === hostName) rateLimiter.configure(limits);
    else rateLimiter = new HubRateLimiter(hostName, limits);
    this.limiters.set(key, rateLimiter);
    const client = createHubClient({ ...this.options.client, ...clientOptions, rateLimiter, logger });
    const namespace = `${hub.metadata.namespace}/`;
    const session = new HubSession(client, {
      ...this.options.session,
      unknownOwners: 'keep',
      manager: this.options.manager,
      // An IoTHub answers for the resources of its namespace only: another namespace's IoTHub may name the same hub.
      scope: (resource) => resource.startsWith(namespace),
      resyncMs,
      logger,
    });
    const connection = { client, session };
    this.connections.set(key, { fingerprint, connection });
    return connection;
  }

  get(key: string): HubConnection | undefined {
    return this.connections.get(key)?.connection;
  }

  /** The IoTHub is gone: its connection and its limiter. */
  forget(key: string): void {
    this.release(key);
    this.limiters.delete(key);
  }

  release(key: string): void {
    const entry = this.connections.get(key);
    if (!entry) return;
    const { client } = entry.connection;
    const sum = this.retired.get(key) ?? emptyTelemetry();
    addTelemetry(sum, client.telemetry.snapshot());
    this.retired.set(key, sum);
    client.close();
    this.connections.delete(key);
  }

  telemetry(): Map<string, HubTelemetrySnapshot> {
    const out = new Map<string, HubTelemetrySnapshot>();
    const add = (hub: string, snapshot: HubTelemetrySnapshot) => {
      const sum = out.get(hub) ?? emptyTelemetry();
      addTelemetry(sum, snapshot);
      out.set(hub, sum);
    };
    for (const [hub, snapshot] of this.retired) add(hub, snapshot);
    for (const [key, { connection }] of this.connections) add(key, connection.client.telemetry.snapshot());
    return out;
  }

  rateLimits(): Map<string, Record<string, RateClassState>> {
    const out = new Map<string, Record<string, RateClassState>>();
    for (const [key, { connection }] of this.connections)
      out.set(key, connection.client.rateLimiter.snapshot());
    return out;
  }

  closeAll(): void {
    for (const key of [...this.connections.keys()]) this.release(key);
    this.limiters.clear();
  }
}
