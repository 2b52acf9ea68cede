// The HTTPS front of the emulated hub: body reading, authorization, api-version, routing, faults, quotas,
// statistics and the hub's error responses.
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { adminRoutes } from './admin-api.js';
import type { EmulatorCertificates } from './certificates.js';
import type { EntraAuthority } from './entra/authority.js';
import { errorBody, HubErrorResponse, hubErrors } from './errors.js';
import type { FaultDecision, FaultStatus } from './faults.js';
import type { EmulatedHub } from './hub.js';
import { API_VERSIONS, hubRoutes } from './hub-api.js';
import { HubAuthorization } from './hub-authorization.js';
import type { ApiResult } from './routes.js';
import { Router } from './routes.js';
import type { FaultKind, StatsClass } from './stats.js';

export type EmulatorLogLevel = 'error' | 'warn' | 'info' | 'debug';
export type EmulatorLog = (
  level: EmulatorLogLevel,
  message: string,
  fields?: Record<string, unknown>,
) => void;

const DEFAULT_MAX_BODY = 256 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';
const NO_FAULT: FaultDecision = { latencyMs: 0, action: { kind: 'none' } };

export interface HubServerOptions {
  hub: EmulatedHub;
  certificates: EmulatorCertificates;
  /** Host names a SAS token may be scoped to (the connection string's HostName), filled in once listening. */
  audiences: () => readonly string[];
  /** False refuses shared access signatures on the hub's API (Microsoft Entra ID only). */
  localAuthentication: () => boolean;
  /** The Entra-like authority served on the same port, whose access tokens the hub accepts. */
  entra?: EntraAuthority;
  log: EmulatorLog;
}

/** The declared body length, or undefined when the request does not say (chunked) or has none. */
function declaredLength(request: IncomingMessage): number | undefined {
  const header = request.headers['content-length'];
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
}

/** Whether part of the request body is still to arrive (a response now must close the connection). */
function bodyPending(request: IncomingMessage): boolean {
  if (request.complete || request.readableEnded) return false;
  const length = declaredLength(request);
  return length === undefined ? request.headers['transfer-encoding'] !== undefined : length > 0;
}

/**
 * Reads the body, up to `limit` bytes. A body declared larger is refused before anything is read, and one
 * that turns out larger (chunked) as soon as it passes the limit; the rest is never read.
 */
function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limit) return Promise.reject(hubErrors.requestTooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      request.off('data', onData);
      request.pause();
      reject(hubErrors.requestTooLarge(limit));
    };
    request.on('data', onData);
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      // Decoding would turn bytes that are not UTF-8 into U+FFFD and store them; the hub refuses the body.
      if (!isUtf8(body)) reject(hubErrors.formatError('The request body is not valid UTF-8'));
      else resolve(body.toString('utf8'));
    });
    request.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw hubErrors.formatError(`The request body is not valid JSON: ${(error as Error).message}`);
  }
}

function send(response: ServerResponse, result: ApiResult): void {
  if (result.body === undefined) {
    response.writeHead(result.status, result.headers);
    response.end();
    return;
  }
  const text = JSON.stringify(result.body);
  response.writeHead(result.status, {
    ...result.headers,
    'Content-Type': JSON_TYPE,
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** The error an injected fault answers with. */
function injectedError(status: FaultStatus, operation: StatsClass): HubErrorResponse {
  if (status === 429) return hubErrors.throttled(operation, 1);
  return status === 500 ? hubErrors.serverError() : hubErrors.serviceUnavailable();
}

/** Sends the headers and half the body, then resets the connection: the client cannot tell if it worked. */
function sendThenReset(response: ServerResponse, result: ApiResult): void {
  const text = result.body === undefined ? '' : JSON.stringify(result.body);
  if (text.length < 2) {
    response.socket?.destroy();
    return;
  }
  response.writeHead(result.status, {
    ...result.headers,
    'Content-Type': JSON_TYPE,
    'Content-Length': Buffer.byteLength(text),
  });
  response.write(text.slice(0, Math.floor(text.length / 2)), () => response.socket?.destroy());
}

/** Sends the hub's error; when the request body was not read to its end, closes the connection after it. */
function sendError(
  request: IncomingMessage,
  response: ServerResponse,
  error: HubErrorResponse,
  now: Date,
): void {
  const text = errorBody(error, now);
  response.writeHead(error.status, {
    ...error.headers,
    'iothub-errorcode': error.code,
    'Content-Type': JSON_TYPE,
    'Content-Length': Buffer.byteLength(text),
    ...(bodyPending(request) && { Connection: 'close' }),
  });
  response.end(text);
}

export function createHubServer(options: HubServerOptions): https.Server {
  const { hub, log } = options;
  const router = new Router([...hubRoutes(hub), ...adminRoutes(hub)]);
  const authorization = new HubAuthorization({
    policies: () => hub.secrets.policies,
    audiences: options.audiences,
    nowMs: () => hub.clock.now(),
    localAuthentication: options.localAuthentication,
    entra: options.entra,
    log,
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let operation: StatsClass = 'unknown';
    let status = 500;
    let match: ReturnType<typeof router.match> | undefined;
    let writeAnswered: (() => void) | undefined;
    try {
      const url = new URL(request.url ?? '/', 'https://hub');
      if (options.entra?.handles(url.pathname)) {
        operation = 'entra';
        const result = await options.entra.handle(
          request.method ?? 'GET',
          url,
          request.headers,
          await readBody(request, DEFAULT_MAX_BODY),
        );
        status = result.status;
        send(response, result);
        return;
      }
      match = router.match(request.method ?? 'GET', url.pathname);
      // The class is known from the route alone, so refusals (401, 413, 400) are counted under it.
      if (match) operation = match.route.operation;
      // Authorized on the headers, before any of the body is read.
      authorization.check(request, operation, url.pathname);
      // Twin updates and registry writes (a module created): what two replicas must never send one hub at once.
      if (operation === 'twinUpdate' || (operation === 'registry' && request.method !== 'GET'))
        writeAnswered = hub.stats.twinWriteStarted(request.headers['user-agent'] ?? '', hub.clock.now());
      if (!match) throw hubErrors.routeNotFound(request.method ?? 'GET', url.pathname);
      if (match.route.apiVersion) {
        const version = url.searchParams.get('api-version');
        if (!version || !API_VERSIONS.has(version)) throw hubErrors.invalidProtocolVersion(version);
      }
      const text = await readBody(request, match.route.maxBodyBytes ?? DEFAULT_MAX_BODY);
      const body = parseJson(text);
      const fault =
        operation === 'admin' || operation === 'unknown' ? NO_FAULT : hub.faults.decide(operation);
      if (fault.latencyMs > 0) await sleep(fault.latencyMs);
      if (fault.action.kind === 'error') {
        hub.stats.recordFault(operation, String(fault.action.status) as FaultKind);
        throw injectedError(fault.action.status, operation);
      }
      if (fault.action.kind === 'drop') {
        hub.stats.recordFault(operation, 'drop');
        status = 0;
        response.socket?.destroy();
        return;
      }
      if (operation !== 'admin' && operation !== 'unknown') hub.throttle.admit(operation);
      const result = await match.route.handle({
        method: request.method ?? 'GET',
        params: match.params,
        query: url.searchParams,
        headers: request.headers,
        body,
      });
      status = result.status;
      if (fault.action.kind === 'reset') {
        hub.stats.recordFault(operation, 'reset');
        sendThenReset(response, result);
      } else {
        send(response, result);
      }
    } catch (caught) {
      const error = caught instanceof HubErrorResponse ? caught : undefined;
      if (!error)
        log('error', 'request failed', {
          url: request.url,
          error: (caught as Error)?.stack ?? String(caught),
        });
      const errorResponse =
        error ?? new HubErrorResponse(500, 'ServerError', 'The emulator failed to handle the request');
      status = errorResponse.status;
      sendError(request, response, errorResponse, new Date(hub.clock.now()));
    } finally {
      writeAnswered?.();
      hub.stats.record(operation, status);
      const deviceId = match?.params.deviceId;
      if (deviceId !== undefined && (operation === 'twinRead' || operation === 'twinUpdate'))
        hub.stats.recordTwinRequest(operation, deviceId, match?.params.moduleId);
    }
  };

  const server = https.createServer(
    { key: options.certificates.serverKey, cert: options.certificates.serverCert },
    (request, response) => {
      void handle(request, response);
    },
  );
  // Longer than any client's idle keep-alive, so the server never closes a socket a client is about to reuse.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  return server;
}
