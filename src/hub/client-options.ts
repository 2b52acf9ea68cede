// One mapping from what says how to reach a hub (an IoTHub resource and its Secrets, or sync's flags) to the
// hub client's options, shared by both drivers.
import type { IoTHubSpec } from '../api/generated/types.js';
import type { HubClientOptions } from './hub-client.js';

export interface HubCredentials {
  connectionString: string;
  /** PEM bundle to trust besides the system roots. */
  ca?: string;
}

export function hubClientOptionsFrom(
  spec: Pick<IoTHubSpec, 'tier' | 'units' | 'rateLimits'>,
  credentials: HubCredentials,
): Pick<HubClientOptions, 'connectionString' | 'ca' | 'tier' | 'units' | 'rateLimits'> {
  return {
    connectionString: credentials.connectionString,
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
