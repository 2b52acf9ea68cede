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
