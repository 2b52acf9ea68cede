// The one place that reaches into azure-iothub's internals. The SDK sends every request with `https.request`
// to port 443 of the connection string's HostName, so `HostName=localhost:8443` fails with ENOTFOUND, and it
// offers no public way to trust a private CA. Both are solved by the https.Agent it hands to https.request:
// ours splits a `host:port` HostName and carries the extra CA. TLS verification stays on.
import https from 'node:https';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { JobClient, Registry } from 'azure-iothub';
import iothub from 'azure-iothub';
import { endRequestsOnCancel } from './request-abort.js';

export interface HubTransportOptions {
  /** PEM certificate(s) to trust in addition to the system's roots, e.g. the emulator's CA. */
  ca?: string | string[];
  /** Most sockets open at once to the hub; unlimited by default, as in Node. */
  maxSockets?: number;
  /** Reuse connections between requests (the SDK's own default). */
  keepAlive?: boolean;
}

/** Splits `host:port` (or `[v6]:port`); a HostName without a port keeps the request's port. */
export function splitHostPort(host: string): { host: string; port?: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(host);
  if (!match) return { host };
  const name = match[1].startsWith('[') ? match[1].slice(1, -1) : match[1];
  return { host: name, port: Number(match[2]) };
}

/**
 * An https.Agent that understands a `host:port` host name and trusts the given CA. A request it carries ends
 * (and its socket is closed, not reused) when the hub call that sent it is cancelled (request-abort.ts).
 */
export class HubHttpsAgent extends https.Agent {
  constructor(options: HubTransportOptions = {}) {
    const extraCa = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
    // One secure context for every connection; giving `ca` alone would replace the system roots.
    const secureContext = extraCa.length
      ? tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCa] })
      : undefined;
    super({ keepAlive: options.keepAlive ?? true, maxSockets: options.maxSockets, secureContext });
    endRequestsOnCancel(this);
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const split = splitHostPort(String(options.host ?? ''));
    if (split.port === undefined) return super.createConnection(options, callback);
    return super.createConnection({ ...options, host: split.host, port: split.port }, callback);
  }
}

/** The SDK-private HTTP layer of a Registry or JobClient (azure-iothub 1.16: `_restApiClient.setOptions`). */
interface RestApiClientInternals {
  setOptions(options: { http: { agent: https.Agent } }): void;
}

function restApiClientOf(client: Registry | JobClient): RestApiClientInternals {
  const restApiClient = (client as unknown as { _restApiClient?: Partial<RestApiClientInternals> })
    ._restApiClient;
  if (!restApiClient || typeof restApiClient.setOptions !== 'function') {
    throw new Error(
      'azure-iothub no longer exposes _restApiClient.setOptions; src/hub/sdk-transport.ts must be adapted to this SDK version',
    );
  }
  return restApiClient as RestApiClientInternals;
}

/**
 * Routes a client's requests through `agent` (replaces the keep-alive agent the SDK sets in its constructor), and
 * has it sign its token once for many requests (reuseSignature).
 */
export function useHubAgent(client: Registry | JobClient, agent: https.Agent): void {
  const restApiClient = restApiClientOf(client);
  restApiClient.setOptions({ http: { agent } });
  reuseSignature(restApiClient);
}

/** A token signed this much before the newest one would expire is still sent (it has at least 55 min left). */
const SIGNATURE_REUSE_SECONDS = 5 * 60;

/**
 * With a key, the SDK signs a new token valid for an hour (an HMAC and its encoding) for every request:
 * `_restApiClient._config.sharedAccessSignature.extend(anHourFromNow())` (azure-iothub 1.16). This keeps the
 * token it signed until one signed now would outlive it by SIGNATURE_REUSE_SECONDS, so a token is signed once
 * every five minutes rather than 2,500 times a second. A ready token (a string) is sent as it is and left alone.
 */
function reuseSignature(restApiClient: RestApiClientInternals): void {
  const signature = (restApiClient as unknown as { _config?: { sharedAccessSignature?: unknown } })._config
    ?.sharedAccessSignature as { extend?: unknown } | string | undefined;
  if (typeof signature !== 'object' || signature === null || typeof signature.extend !== 'function') return;
  const sign = signature.extend.bind(signature) as (expiry: number) => string;
  let token: string | undefined;
  let expiry = 0;
  signature.extend = (wanted: number): string => {
    if (token === undefined || wanted - expiry >= SIGNATURE_REUSE_SECONDS) {
      token = sign(wanted);
      expiry = wanted;
    }
    return token;
  };
}

/**
 * Appends `product` (e.g. `iot-security-operator/replica-1`) to the User-Agent the SDK sends on every request
 * (azure-iothub 1.16 keeps it in `_restApiClient._userAgent`), so that a hub's logs tell its clients apart.
 */
export function appendUserAgent(client: Registry | JobClient, product: string): void {
  const restApiClient = restApiClientOf(client) as unknown as { _userAgent?: unknown };
  if (typeof restApiClient._userAgent !== 'string')
    throw new Error(
      'azure-iothub no longer keeps _restApiClient._userAgent; src/hub/sdk-transport.ts must be adapted',
    );
  restApiClient._userAgent = `${restApiClient._userAgent} ${product}`;
}

/** A Registry that reaches a HostName with a port and trusts `options.ca`. */
export function registryFromConnectionString(
  connectionString: string,
  options: HubTransportOptions = {},
): Registry {
  const registry = iothub.Registry.fromConnectionString(connectionString);
  useHubAgent(registry, new HubHttpsAgent(options));
  return registry;
}

/** A JobClient that reaches a HostName with a port and trusts `options.ca`. */
export function jobClientFromConnectionString(
  connectionString: string,
  options: HubTransportOptions = {},
): JobClient {
  const client = iothub.JobClient.fromConnectionString(connectionString);
  useHubAgent(client, new HubHttpsAgent(options));
  return client;
}

/** The SDK-private call every Registry method makes (azure-iothub 1.16: `_restApiClient.executeApiCall`). */
type ExecuteApiCall = (
  method: string,
  path: string,
  headers: Record<string, string> | null,
  body: unknown,
  done: (error: Error | null, result?: unknown, response?: unknown) => void,
) => void;

/** The twin calls of a Registry, answering the hub's JSON as it came (see rawTwinCalls). */
export interface RawTwinCalls {
  get(deviceId: string, moduleId: string | undefined): Promise<{ responseBody: unknown }>;
  patch(
    deviceId: string,
    moduleId: string | undefined,
    patch: unknown,
    etag: string,
  ): Promise<{ responseBody: unknown }>;
}

/** The REST API version the SDK's Registry sends. */
const API_VERSION = `?api-version=${(createRequire(import.meta.url)('azure-iothub/dist/version.js') as { apiVersion: string }).apiVersion}`;

/**
 * The Registry's twin GET and PATCH without the SDK's `Twin` wrapper, whose constructor deep-copies the whole twin
 * with lodash's merge: at a rollout's pace that copy took more CPU than anything else the client does. The same
 * requests (path, headers, error translation) as `getTwin`/`getModuleTwin`/`updateTwin`/`updateModuleTwin`.
 * Undefined for a registry that is not the SDK's (a test's own), which is then called as it is.
 */
export function rawTwinCalls(registry: object): RawTwinCalls | undefined {
  const restApiClient = (registry as { _restApiClient?: { executeApiCall?: ExecuteApiCall } })._restApiClient;
  const execute = restApiClient?.executeApiCall?.bind(restApiClient);
  const ensureQuoted = (registry as { _ensureQuoted?: (etag: string) => string })._ensureQuoted?.bind(
    registry,
  );
  if (!execute || !ensureQuoted) return undefined;
  const path = (deviceId: string, moduleId: string | undefined) =>
    `/twins/${encodeURIComponent(deviceId)}${moduleId === undefined ? '' : `/modules/${encodeURIComponent(moduleId)}`}${API_VERSION}`;
  const call = (method: string, url: string, headers: Record<string, string> | null, body: unknown) =>
    new Promise<{ responseBody: unknown }>((resolve, reject) =>
      execute(method, url, headers, body, (error, result) =>
        error ? reject(error) : resolve({ responseBody: result }),
      ),
    );
  return {
    get: (deviceId, moduleId) => call('GET', path(deviceId, moduleId), null, null),
    patch: (deviceId, moduleId, patch, etag) =>
      call(
        'PATCH',
        path(deviceId, moduleId),
        { 'Content-Type': 'application/json; charset=utf-8', 'If-Match': ensureQuoted(etag) },
        patch,
      ),
  };
}
