// Calls to an emulator as its clients make them, for the emulator tests and those that probe it from outside: the
// SDK's Registry pointed at it, raw HTTPS calls, and the hub errors the SDK rejects with.
import https from 'node:https';
import type { Registry } from 'azure-iothub';
import { createSharedAccessSignature, type RunningEmulator } from '../../src/emulator/index.js';
import { HubHttpsAgent, registryFromConnectionString } from '../../src/hub/sdk-transport.js';

export const AGENT_KEY = 'ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration';

/** A quick emulator for tests (fast agents, quotas off unless asked for), its keys kept for the suite's scan. */
export { startHubEmulator } from './emulator-support.js';

export function registryOf(
  emulator: RunningEmulator,
  connectionString = emulator.connectionString,
): Registry {
  return registryFromConnectionString(connectionString, { ca: emulator.caCert });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** Where an emulator listens and how to sign for it: a RunningEmulator, or one running as a process of its own. */
export type EmulatorAddress = Pick<RunningEmulator, 'hostName' | 'connectionString' | 'caCert'>;

/** An HTTPS call as a client without the SDK makes it; signed with the owner policy unless `authorization` is given. */
export function rawRequest(
  emulator: EmulatorAddress,
  request: {
    method: string;
    path: string;
    body?: unknown;
    /** Sent as it is instead of `body` (bytes that are not UTF-8, too). */
    rawBody?: string | Buffer;
    headers?: Record<string, string>;
    authorization?: string | null;
  },
): Promise<RawResponse> {
  const keyName = 'iothubowner';
  const key = /SharedAccessKey=([^;]+)/.exec(emulator.connectionString)![1];
  const authorization =
    request.authorization === undefined
      ? createSharedAccessSignature({
          resource: emulator.hostName,
          keyName,
          key,
          expirySeconds: Math.floor(Date.now() / 1000) + 3600,
        })
      : request.authorization;
  const body = request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
  const headers: Record<string, string> = { ...request.headers };
  if (authorization !== null) headers.Authorization = authorization;
  if (body !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8';
  return new Promise((resolve, reject) => {
    const outgoing = https.request(
      {
        host: emulator.hostName,
        path: request.path,
        method: request.method,
        headers,
        agent: agentFor(emulator),
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    if (body !== undefined) outgoing.write(body);
    outgoing.end();
  });
}

const agents = new WeakMap<EmulatorAddress, HubHttpsAgent>();
function agentFor(emulator: EmulatorAddress): HubHttpsAgent {
  let agent = agents.get(emulator);
  if (!agent) {
    agent = new HubHttpsAgent({ ca: emulator.caCert, keepAlive: false });
    agents.set(emulator, agent);
  }
  return agent;
}

/** The error an SDK promise rejects with (fails the test when it resolves). */
export async function rejectionOf(
  promise: Promise<unknown>,
): Promise<
  Error & { responseBody?: string; response?: { statusCode: number; headers: Record<string, string> } }
> {
  try {
    await promise;
  } catch (error) {
    return error as Error & {
      responseBody?: string;
      response?: { statusCode: number; headers: Record<string, string> };
    };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The code in a hub error body (`ErrorCode:<Code>;...`). */
export function errorCodeOf(body: string | undefined): string | undefined {
  if (!body) return undefined;
  const message = (JSON.parse(body) as { Message?: string }).Message ?? '';
  return /^ErrorCode:([^;]+);/.exec(message)?.[1];
}
