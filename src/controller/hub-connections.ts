// One hub client and one engine session per IoTHub resource, kept between reconciles (the session's memory of
// written twins and its last snapshot are what make an edit reach its first twin write at once), replaced when
// what says how to reach the hub changes, closed when the IoTHub goes.
import { createHash } from 'node:crypto';
import { HubSession, type HubSessionOptions } from '../engine/hub-session.js';
import { type HubCredentials, hubClientOptionsFrom } from '../hub/client-options.js';
import { createHubClient, type HubClient, type HubClientOptions } from '../hub/hub-client.js';
import type { Logger } from '../observability/logger.js';
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

export class HubConnections {
  private readonly connections = new Map<string, { fingerprint: string; connection: HubConnection }>();

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
    const client = createHubClient({ ...this.options.client, ...clientOptions, logger });
    const session = new HubSession(client, {
      ...this.options.session,
      unknownOwners: 'keep',
      manager: this.options.manager,
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

  release(key: string): void {
    this.connections.get(key)?.connection.client.close();
    this.connections.delete(key);
  }

  closeAll(): void {
    for (const key of [...this.connections.keys()]) this.release(key);
  }
}
