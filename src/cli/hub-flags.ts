// The flags that say how to reach a hub, shared by the commands that talk to one (sync, export): their
// definitions for parseArgs, their checks (a mistake is a UsageError, exit 2), and the client they make.
import { readFileSync } from 'node:fs';
import { hubClientOptionsFrom } from '../hub/client-options.js';
import { parseHubConnectionString } from '../hub/connection-string.js';
import { createHubClient, type HubClient } from '../hub/hub-client.js';
import type { Logger } from '../observability/logger.js';
import { HUB_TIERS, type HubTier, isHubTier } from '../quotas/index.js';
import { UsageError } from './command-io.js';

/** For parseArgs; a command may give tier and units defaults of its own. */
export const HUB_FLAG_OPTIONS = {
  'connection-string': { type: 'string' },
  'ca-file': { type: 'string' },
  tier: { type: 'string' },
  units: { type: 'string' },
} as const;

export const HUB_FLAGS_USAGE = `  --connection-string CS   service connection string (default: env IOTHUB_CONNECTION_STRING; prefer the
                           variable, a command line is visible to other users of the machine)
  --ca-file FILE           PEM CA bundle to trust (private endpoints, the emulator)`;

export interface HubFlagValues {
  'connection-string'?: string;
  'ca-file'?: string;
  tier?: string;
  units?: string;
}

export interface HubFlags {
  connectionString: string;
  ca?: string;
  /** Absent when not given: the client assumes S1, and a command may leave it out of what it writes. */
  tier?: HubTier;
  units?: number;
}

export function readHubFlags(values: HubFlagValues): HubFlags {
  const connectionString = values['connection-string'] ?? process.env.IOTHUB_CONNECTION_STRING;
  if (!connectionString)
    throw new UsageError('no hub: give --connection-string or set IOTHUB_CONNECTION_STRING');
  try {
    // A malformed or expired connection string: how the command was called is wrong (its message holds no key).
    parseHubConnectionString(connectionString);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const flags: HubFlags = { connectionString };
  if (values.units !== undefined) {
    const units = Number(values.units);
    if (!Number.isInteger(units) || units < 1)
      throw new UsageError(`--units must be a whole number of at least 1, not '${values.units}'`);
    flags.units = units;
  }
  if (values.tier !== undefined) {
    if (!isHubTier(values.tier))
      throw new UsageError(
        `--tier must be one of ${HUB_TIERS.join(', ')} (basic tiers have no twins), not '${values.tier}'`,
      );
    flags.tier = values.tier;
  }
  if (values['ca-file']) {
    try {
      flags.ca = readFileSync(values['ca-file'], 'utf8');
    } catch (error) {
      throw new UsageError(
        `--ca-file ${values['ca-file']}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
      );
    }
  }
  return flags;
}

/** The client the flags describe; a malformed or expired connection string is how the command was called. */
export function hubClientFromFlags(flags: HubFlags, logger: Logger): HubClient {
  try {
    return createHubClient({
      ...hubClientOptionsFrom(
        { tier: flags.tier, units: flags.units },
        { connectionString: flags.connectionString, ca: flags.ca },
      ),
      logger,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
