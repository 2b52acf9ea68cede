// One mapping from what says how to reach a hub (an IoTHub resource and its Secrets, or sync's flags) to the
// hub client's options, shared by both drivers.
import type { IoTHubSpec } from '../api/generated/types.js';
import type { HubClientOptions } from './hub-client.js';
import type { HubTokenAuth } from './token-credential.js';

/** A connection string, or a hub host name and the Microsoft Entra credential to reach it with. */
export type HubCredentials = (
  | { connectionString: string; tokenAuth?: undefined }
  | { connectionString?: undefined; tokenAuth: { hostName: string; auth: HubTokenAuth } }
) & {
  /** PEM bundle to trust besides the system roots (the hub's, and the authority's). */
  ca?: string;
};

export function hubClientOptionsFrom(
  spec: Pick<IoTHubSpec, 'tier' | 'units' | 'rateLimits'>,
  credentials: HubCredentials,
): Pick<HubClientOptions, 'connectionString' | 'tokenAuth' | 'ca' | 'tier' | 'units' | 'rateLimits'> {
  return {
    connectionString: credentials.connectionString,
    tokenAuth: credentials.tokenAuth,
    ca: credentials.ca,
    tier: spec.tier ?? 'S1',
    units: spec.units ?? 1,
    rateLimits: spec.rateLimits,
  };
}

/**
 * What sizes the rate limits of `sync`'s client: each of --tier and --units given wins over the hub's IoTHub
 * document, whose rateLimits apply only when neither flag is given (they override the document's own tier).
 */
export function syncSizing(
  flags: { tier?: IoTHubSpec['tier']; units?: number },
  document: Pick<IoTHubSpec, 'tier' | 'units' | 'rateLimits'> | undefined,
): Pick<IoTHubSpec, 'tier' | 'units' | 'rateLimits'> {
  const byFlags = flags.tier !== undefined || flags.units !== undefined;
  return {
    tier: flags.tier ?? document?.tier,
    units: flags.units ?? document?.units,
    rateLimits: byFlags ? undefined : document?.rateLimits,
  };
}
