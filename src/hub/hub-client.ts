// HubAccess over azure-iothub's Registry: paged snapshots, batched re-reads, etag-guarded patches and
// non-destructive module creation, each call paced by the hub's shared limiter and retried when it may succeed.
import iothub, { type Module, type Registry } from 'azure-iothub';
import type { Logger } from '../observability/logger.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { httpStatusOf } from '../runtime/http-status.js';
import { neverSent } from '../runtime/socket-errors.js';
import { forEachBounded } from '../runtime/worker-pool.js';
import { SharedValues } from '../twins/shared-values.js';
import {
  DEVICE_TWIN,
  type DeviceRecord,
  describeSlot,
  type HubSnapshot,
  type ManagedTwin,
  type TwinPatch,
  type TwinRef,
  type TwinSlot,
} from '../twins/types.js';
import { connectionSecret, type HubConnectionString, parseHubConnectionString } from './connection-string.js';
import { HubError, isHubError } from './errors.js';
import type {
  CallOptions,
  HubAccess,
  HubPageReader,
  ReadOptions,
  SnapshotReadOptions,
} from './hub-client-api.js';
import { type HubCall, HubPipeline } from './pipeline.js';
import {
  type AdaptationOptions,
  type HubRateLimiter,
  releaseSharedHubRateLimiter,
  sharedHubRateLimiter,
} from './rate-limiter.js';
import { type HubRateLimits, type RateLimitOverrides, rateLimitsFor } from './rate-limits.js';
import { DEFAULT_RETRY, type RetryOptions } from './retry.js';
import {
  appendUserAgent,
  HubHttpsAgent,
  type RawTwinCalls,
  rawTwinCalls,
  useHubAgent,
} from './sdk-transport.js';
import { HubTelemetry } from './telemetry.js';
import { createTokenCredential, describeTokenAuth, type HubTokenAuth } from './token-credential.js';
import { deviceRecordFromJson, patchIsApplied, twinFromJson } from './twin-mapping.js';
import {
  chooseTwinReadStrategy,
  DEVICES_QUERY,
  MAX_QUERY_PAGE_SIZE,
  queryBatches,
  twinsOfDevicesQuery,
  twinsQuery,
} from './twin-reads.js';

/** The Registry calls the client makes; a test may hand in its own. */
export type HubRegistry = Pick<
  Registry,
  'createQuery' | 'getTwin' | 'getModuleTwin' | 'updateTwin' | 'updateModuleTwin' | 'addModule'
>;

export interface HubClientOptions {
  /** The hub's connection string; or, instead, tokenAuth. */
  connectionString?: string;
  /** A hub reached with a Microsoft Entra ID token credential instead of a connection string. */
  tokenAuth?: { hostName: string; auth: HubTokenAuth };
  /** PEM bundle to trust besides the system roots (a private gateway, the emulator). */
  ca?: string | string[];
  tier: string;
  units: number;
  rateLimits?: RateLimitOverrides;
  logger?: Logger;
  /** Time for backoff and attempt timeouts, and for the limiter when this client creates the hub's limiter. */
  clock?: Clock;
  retry?: Partial<RetryOptions>;
  /** The limiter to share; by default the process-wide one of this hub. */
  rateLimiter?: HubRateLimiter;
  /** Limiter tuning, used when this client creates the hub's limiter. */
  adaptation?: Partial<AdaptationOptions>;
  /** Most GETs in flight at once when re-reading twins by GET (32); the limiter sets the pace. */
  maxConcurrentReads?: number;
  /** An attempt with no answer after this long is retried as a network timeout (60 s). */
  attemptTimeoutMs?: number;
  registry?: HubRegistry;
  /** A product token appended to the User-Agent of every request, naming this client to the hub's logs. */
  userAgent?: string;
}

export interface HubClientSnapshot extends HubSnapshot {
  /** Query pages read: of the devices, and of each module slot's twins. */
  queryCalls: { devices: number; modules: number };
}

/**
 * Whether a query's row shows `known` as it was: the same etag (tags, desired) and the same version (which every
 * change raises, reports too), and `known` was itself a query's (not a write's answer or what stands in for one).
 */
function unchanged(known: ManagedTwin, row: unknown): boolean {
  const { etag, version } = row as { etag?: unknown; version?: unknown };
  return (
    known.version !== undefined &&
    known.version === version &&
    known.etag === etag &&
    known.current === undefined &&
    known.reportedMayBeStale === undefined
  );
}

/** How a twin of a slot is named in calls and messages. */
function twinOperation(slot: TwinSlot, verb: 'get' | 'patch'): string {
  return `${verb}${slot === DEVICE_TWIN ? 'DeviceTwin' : 'ModuleTwin'}`;
}

const ACCESS_PROBE_DEVICE = 'iot-security-operator-access-check';

/**
 * Whether a failed request may have been applied although no answer came back: the connection dropped (reset,
 * timeout, hang-up) after the request was sent. An HTTP status is an answer, and says what the hub did.
 */
function mayHaveReachedHub(error: unknown): boolean {
  if (httpStatusOf(error) !== undefined || isHubError(error, 'Cancelled')) return false;
  return !neverSent((error as { code?: unknown } | null)?.code);
}

/** A Registry that signs with the connection string's key, or sends its ready shared access signature. */
function sharedAccessRegistry(connection: HubConnectionString, connectionString: string): Registry {
  // A ready token is sent as it is; fromSharedAccessSignature would take the URL-encoded sr as the host, which
  // breaks host:port.
  return connection.credential === 'key'
    ? iothub.Registry.fromConnectionString(connectionString)
    : new iothub.Registry({
        host: connection.hostName,
        sharedAccessSignature: connectionSecret(connection),
      });
}

export class HubClient implements HubAccess, HubPageReader {
  readonly hubName: string;
  readonly telemetry = new HubTelemetry();
  readonly limits: HubRateLimits;
  readonly rateLimiter: HubRateLimiter;
  private readonly registry: HubRegistry;
  private readonly pipeline: HubPipeline;
  private readonly maxConcurrentReads: number;
  /** Twin GETs and PATCHes without the SDK's Twin copy, when the registry is the SDK's own (not a test's). */
  private readonly rawTwins?: RawTwinCalls;
  /** The values many twins hold alike, kept once (see shared-values.ts). */
  private readonly shared = new SharedValues();
  private agent?: HubHttpsAgent;
  /** Whether this client counts as a user of the hub's shared limiter (released on close). */
  private sharesLimiter = false;
  private closed = false;

  constructor(options: HubClientOptions) {
    const clock = options.clock ?? systemClock;
    const { tokenAuth } = options;
    if (!tokenAuth && options.connectionString === undefined)
      throw new RangeError('a hub client needs a connection string or a token credential');
    // A signature in the connection string that has expired is refused here, by the client's clock.
    const connection = tokenAuth
      ? undefined
      : parseHubConnectionString(options.connectionString!, clock.now());
    this.hubName = tokenAuth ? tokenAuth.hostName : connection!.hostName;
    this.limits = rateLimitsFor(this.hubName, options.tier, options.units, options.rateLimits);
    this.sharesLimiter = options.rateLimiter === undefined;
    this.rateLimiter =
      options.rateLimiter ??
      sharedHubRateLimiter(this.hubName, this.limits, { clock, adaptation: options.adaptation });
    try {
      if (options.registry) {
        this.registry = options.registry;
      } else {
        this.agent = new HubHttpsAgent({ ca: options.ca });
        // With a token credential, the Registry sends a Microsoft Entra access token (scope
        // https://iothubs.azure.net/.default); the hub's CA (the agent) is for the hub only, the authority's CA is
        // the operator's (HubTokenAuth.authorityCa).
        const registry = tokenAuth
          ? iothub.Registry.fromTokenCredential(tokenAuth.hostName, createTokenCredential(tokenAuth.auth))
          : sharedAccessRegistry(connection!, options.connectionString!);
        useHubAgent(registry, this.agent);
        if (options.userAgent) appendUserAgent(registry, options.userAgent);
        this.registry = registry;
        this.rawTwins = rawTwinCalls(registry);
      }
    } catch (error) {
      if (this.sharesLimiter) releaseSharedHubRateLimiter(this.hubName);
      throw new HubError({
        kind: 'Configuration',
        hubName: this.hubName,
        message: `cannot create a registry client for hub ${this.hubName}: ${(error as Error).message}`,
      });
    }
    this.maxConcurrentReads = options.maxConcurrentReads ?? 32;
    this.pipeline = new HubPipeline({
      hubName: this.hubName,
      limiter: this.rateLimiter,
      clock,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      telemetry: this.telemetry,
      logger: options.logger,
      errorContext: tokenAuth
        ? { credential: describeTokenAuth(tokenAuth.auth) }
        : { policyName: connection!.policyName, credentialExpiresAt: connection!.expiresAt },
      attemptTimeoutMs: options.attemptTimeoutMs,
    });
  }

  get outages(): number {
    return this.telemetry.outages;
  }

  /** Closes the connections to the hub (calls after this open new ones) and lets go of the shared limiter. */
  close(): void {
    this.agent?.destroy();
    if (this.sharesLimiter && !this.closed) releaseSharedHubRateLimiter(this.hubName);
    this.closed = true;
  }

  /**
   * Proves the connection string works with one twin read of a device that need not exist: a 404 means the
   * hub accepted the credentials. Rejects with the typed error of a wrong key, host or CA.
   */
  async verifyAccess(options: CallOptions = {}): Promise<void> {
    const call: HubCall = { operation: 'verifyAccess', limiterClass: 'twinRead', action: 'checking access' };
    await this.pipeline.send(
      call,
      async () => {
        try {
          await this.registry.getTwin(ACCESS_PROBE_DEVICE);
        } catch (error) {
          if (httpStatusOf(error) !== 404) throw error;
        }
      },
      options.abort,
    );
  }

  async readSnapshot(
    slots: readonly TwinSlot[],
    options: SnapshotReadOptions = {},
  ): Promise<HubClientSnapshot> {
    // Every collection at once; the first failure stops the others, and is what the caller gets.
    const all = new AbortController();
    const abort = options.abort ? AbortSignal.any([options.abort, all.signal]) : all.signal;
    const stopOnFailure = <T>(promise: Promise<T>) =>
      promise.catch((error: unknown) => {
        all.abort();
        throw error;
      });
    const modules = [...new Set(slots)].filter((slot) => slot !== DEVICE_TWIN);
    // Each page is made into records as it comes, and dropped: the whole twins are never held at once.
    const devices: DeviceRecord[] = [];
    const twins = new Map<TwinSlot, Map<string, ManagedTwin>>();
    const slotTwins = (slot: TwinSlot) => {
      const bySlot = new Map<string, ManagedTwin>();
      twins.set(slot, bySlot);
      return bySlot;
    };
    /** The twin of a row: the previous snapshot's when unchanged (no JSON made into a twin again), else a new one. */
    const twinOf = (row: unknown, slot: TwinSlot, previous: ReadonlyMap<string, ManagedTwin> | undefined) => {
      const known = previous?.get((row as { deviceId?: unknown }).deviceId as string);
      return known && unchanged(known, row) ? known : twinFromJson(row, slot, this.shared);
    };
    // The device twins come with the devices' own query.
    const deviceTwins = slots.includes(DEVICE_TWIN) ? slotTwins(DEVICE_TWIN) : undefined;
    const previousDeviceTwins = options.previous?.twins.get(DEVICE_TWIN);
    const readDevices = async () => {
      let pages = 0;
      for await (const rows of this.queryPages(DEVICES_QUERY, 'reading the devices', abort)) {
        pages++;
        const page = { devices: [] as DeviceRecord[], slot: DEVICE_TWIN, twins: [] as ManagedTwin[] };
        for (const row of rows) {
          const device = deviceRecordFromJson(row, this.shared);
          devices.push(device);
          page.devices.push(device);
          if (deviceTwins) {
            const twin = twinOf(row, DEVICE_TWIN, previousDeviceTwins);
            deviceTwins.set(twin.deviceId, twin);
            page.twins.push(twin);
          }
        }
        options.onPage?.(page);
      }
      return pages;
    };
    const readModules = async (slot: TwinSlot) => {
      const bySlot = slotTwins(slot);
      const previous = options.previous?.twins.get(slot);
      let pages = 0;
      const action = `reading ${describeSlot(slot)} of every device`;
      for await (const rows of this.queryPages(twinsQuery(slot), action, abort)) {
        pages++;
        const twins: ManagedTwin[] = [];
        for (const row of rows) {
          const twin = twinOf(row, slot, previous);
          bySlot.set(twin.deviceId, twin);
          twins.push(twin);
        }
        options.onPage?.({ devices: [], slot, twins });
      }
      return pages;
    };
    const [devicePages, ...modulePages] = await Promise.all([
      stopOnFailure(readDevices()),
      ...modules.map((slot) => stopOnFailure(readModules(slot))),
    ]);
    return {
      devices,
      twins,
      queryCalls: { devices: devicePages, modules: modulePages.reduce((sum, n) => sum + n, 0) },
    };
  }

  async readTwins(
    slot: TwinSlot,
    deviceIds: readonly string[],
    options: ReadOptions = {},
  ): Promise<Map<string, ManagedTwin>> {
    const ids = [...new Set(deviceIds)];
    const twins = new Map<string, ManagedTwin>();
    if (ids.length === 0) return twins;
    const batches = queryBatches(slot, ids);
    const allPages =
      options.fleetSize === undefined ? undefined : Math.ceil(options.fleetSize / MAX_QUERY_PAGE_SIZE);
    const strategy = options.consistent
      ? 'get'
      : chooseTwinReadStrategy(ids.length, batches.length, this.limits, allPages);
    if (strategy === 'all') {
      const wanted = new Set(ids);
      const action = `reading ${describeSlot(slot)} of every device`;
      for await (const rows of this.queryPages(twinsQuery(slot), action, options.abort))
        for (const row of rows) {
          // Only the wanted rows are made into twins (a row's id is checked again by twinFromJson).
          if (!wanted.has((row as { deviceId?: unknown } | null)?.deviceId as string)) continue;
          const twin = twinFromJson(row, slot, this.shared);
          twins.set(twin.deviceId, twin);
        }
      return twins;
    }
    if (strategy === 'query') {
      for (const batch of batches) {
        const { rows } = await this.queryAll(
          twinsOfDevicesQuery(slot, batch),
          `reading ${describeSlot(slot)} of ${batch.length} devices`,
          options.abort,
        );
        for (const row of rows) {
          const twin = twinFromJson(row, slot, this.shared);
          twins.set(twin.deviceId, twin);
        }
      }
      return twins;
    }
    // A few GETs in flight at a time; the limiter, not this bound, sets the pace. The first failure is the
    // answer: no GET starts after it, and those in flight are cancelled (a read changes nothing).
    const failed = new AbortController();
    const abort = options.abort ? AbortSignal.any([options.abort, failed.signal]) : failed.signal;
    await forEachBounded(
      ids,
      this.maxConcurrentReads,
      async (deviceId) => {
        try {
          const twin = await this.getTwin({ slot, deviceId }, abort);
          if (twin) twins.set(twin.deviceId, twin);
        } catch (error) {
          failed.abort();
          throw error;
        }
      },
      failed.signal,
    );
    return twins;
  }

  async patchTwin(
    ref: TwinRef,
    patch: TwinPatch,
    etag: string,
    options: CallOptions = {},
  ): Promise<ManagedTwin> {
    const { slot, deviceId } = ref;
    const call: HubCall = {
      operation: twinOperation(slot, 'patch'),
      limiterClass: 'twinUpdate',
      action: `patching ${describeSlot(slot)} of device ${deviceId}`,
      deviceId,
      beforeSend: options.beforeSend,
    };
    if (!etag || etag.trim() === '*' || etag.trim() === '"*"') {
      // The SDK would send If-Match "*" and overwrite whatever another writer put there since our read.
      throw new HubError({
        kind: 'InvalidArgument',
        hubName: this.hubName,
        message: `${call.action} on hub ${this.hubName} needs the etag the plan was made from, not '${etag}'`,
      });
    }
    return this.pipeline.send(
      call,
      async (attemptNumber) => {
        try {
          const moduleId = slot === DEVICE_TWIN ? undefined : slot;
          const { responseBody } = this.rawTwins
            ? await this.rawTwins.patch(deviceId, moduleId, patch, etag)
            : moduleId === undefined
              ? await this.registry.updateTwin(deviceId, patch, etag)
              : await this.registry.updateModuleTwin(deviceId, moduleId, patch, etag);
          return twinFromJson(responseBody, slot, this.shared);
        } catch (error) {
          // A retry after a dropped connection meets 412 when the first attempt was applied: that is success.
          if (attemptNumber > 1 && httpStatusOf(error) === 412) {
            const applied = await this.currentTwinIfApplied(ref, patch, options.abort);
            if (applied) return applied;
          }
          throw error;
        }
      },
      options.abort,
    );
  }

  async ensureModule(ref: TwinRef, options: CallOptions = {}): Promise<'created' | 'existed'> {
    const { slot: moduleId, deviceId } = ref;
    if (moduleId === DEVICE_TWIN)
      throw new HubError({
        kind: 'InvalidArgument',
        hubName: this.hubName,
        message: 'a device twin is no module',
      });
    const call: HubCall = {
      operation: 'ensureModule',
      limiterClass: 'identity',
      action: `creating the ${moduleId} module of device ${deviceId}`,
      deviceId,
      beforeSend: options.beforeSend,
    };
    // Whether an earlier attempt may have created the module: it was sent, but its answer never came back.
    let mayHaveCreated = false;
    return this.pipeline.send(
      call,
      async () => {
        try {
          // A create without If-Match: the hub answers 409 rather than replace a module that exists.
          await this.registry.addModule({ deviceId, moduleId } as Module);
          return 'created' as const;
        } catch (error) {
          // A retry after a dropped connection meets 409 when the first attempt was applied: that module is
          // ours. (Another writer would have had to create it in the same moment, between our attempts.)
          if (httpStatusOf(error) === 409)
            return mayHaveCreated ? ('created' as const) : ('existed' as const);
          if (mayHaveReachedHub(error)) mayHaveCreated = true;
          throw error;
        }
      },
      options.abort,
    );
  }

  /**
   * Every device, one page (up to 1,000) at a time, for callers that keep only what they need of each: the
   * memory held is one page, whatever the size of the hub. Paced, retried and typed as every other call.
   */
  async *devicePages(options: CallOptions = {}): AsyncGenerator<DeviceRecord[]> {
    for await (const rows of this.queryPages(DEVICES_QUERY, 'reading the devices', options.abort))
      yield rows.map((row) => deviceRecordFromJson(row));
  }

  /** Every twin of a slot, one page at a time (see devicePages). */
  async *twinPages(slot: TwinSlot, options: CallOptions = {}): AsyncGenerator<ManagedTwin[]> {
    const action = `reading ${describeSlot(slot)} of every device`;
    for await (const rows of this.queryPages(twinsQuery(slot), action, options.abort))
      yield rows.map((row) => twinFromJson(row, slot));
  }

  /** Every row of a query in memory, with the number of pages it took. */
  private async queryAll(
    sql: string,
    action: string,
    abort?: AbortSignal,
  ): Promise<{ rows: unknown[]; pages: number }> {
    const rows: unknown[] = [];
    let pages = 0;
    for await (const page of this.queryPages(sql, action, abort)) {
      for (const row of page) rows.push(row);
      pages++;
    }
    return { rows, pages };
  }

  /** The rows of a query, page by page (1,000 a page); a failed page is retried with the same token. */
  private async *queryPages(sql: string, action: string, abort?: AbortSignal): AsyncGenerator<unknown[]> {
    const query = this.registry.createQuery(sql, MAX_QUERY_PAGE_SIZE);
    let pages = 0;
    let continuation: string | undefined;
    do {
      const token = continuation;
      const page = await this.pipeline.send(
        { operation: 'query', limiterClass: 'query', action: `${action} (page ${pages + 1})` },
        () => (token === undefined ? query.next() : query.next(token)),
        abort,
      );
      pages++;
      const header = page.message?.headers?.['x-ms-continuation'];
      continuation = typeof header === 'string' && header !== '' ? header : undefined;
      yield Array.isArray(page.result) ? page.result : [];
    } while (continuation !== undefined);
  }

  private getTwin(ref: TwinRef, abort?: AbortSignal): Promise<ManagedTwin | undefined> {
    const { slot, deviceId } = ref;
    const call: HubCall = {
      operation: twinOperation(slot, 'get'),
      limiterClass: 'twinRead',
      action: `reading ${describeSlot(slot)} of device ${deviceId}`,
      deviceId,
    };
    return this.pipeline.send(
      call,
      async () => {
        try {
          return { ...twinFromJson(await this.rawTwin(ref), slot, this.shared), current: true };
        } catch (error) {
          // No device, or no module: the device lacks that twin.
          if (httpStatusOf(error) === 404) return undefined;
          throw error;
        }
      },
      abort,
    );
  }

  private async rawTwin({ slot, deviceId }: TwinRef): Promise<unknown> {
    const moduleId = slot === DEVICE_TWIN ? undefined : slot;
    const { responseBody } = this.rawTwins
      ? await this.rawTwins.get(deviceId, moduleId)
      : moduleId === undefined
        ? await this.registry.getTwin(deviceId)
        : await this.registry.getModuleTwin(deviceId, moduleId);
    return responseBody;
  }

  private async currentTwinIfApplied(
    ref: TwinRef,
    patch: TwinPatch,
    abort?: AbortSignal,
  ): Promise<ManagedTwin | undefined> {
    const call: HubCall = {
      operation: twinOperation(ref.slot, 'get'),
      limiterClass: 'twinRead',
      action: `re-reading ${describeSlot(ref.slot)} of device ${ref.deviceId} after a conflict`,
      deviceId: ref.deviceId,
    };
    try {
      const raw = await this.pipeline.send(call, () => this.rawTwin(ref), abort);
      return patchIsApplied(patch, raw) ? twinFromJson(raw, ref.slot, this.shared) : undefined;
    } catch (error) {
      if (isHubError(error, 'Cancelled')) throw error;
      return undefined;
    }
  }
}

export function createHubClient(options: HubClientOptions): HubClient {
  return new HubClient(options);
}
