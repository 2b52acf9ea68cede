// An IoT Hub emulator with simulated security agents and IoT Plug and Play devices, over HTTPS, for tests, demos
// and benchmarks.
import { randomBytes as cryptoRandomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTierUnits, type HubTier, type OperationClass, type Quota } from '../quotas/index.js';
import type { Clock } from '../runtime/clock.js';
import { certificatesUsable, createCertificates, type EmulatorCertificates } from './certificates.js';
import { EntraAuthority } from './entra/authority.js';
import type { EntraOptions } from './entra/directory.js';
import { type FaultConfig, isRatio } from './faults.js';
import { seedFleet } from './fleet.js';
import { EmulatedHub, type HubSecrets, type NewDevice } from './hub.js';
import { seedPnpFleet } from './pnp-fleet.js';
import { randomBytes, streamFor } from './prng.js';
import type { AgentDelay } from './security-agents.js';
import { createHubServer, type EmulatorLog } from './server.js';
import { readState, StateSaver, writeState } from './state-file.js';
import { checkQuotaOverrides } from './throttling.js';

export { EntraAuthority, MANAGED_IDENTITY_PATH } from './entra/authority.js';
export type {
  EntraApplication,
  EntraManagedIdentity,
  EntraOptions,
  FederatedCredential,
  TrustedIssuer,
} from './entra/directory.js';
export { checkEntraOptions, FEDERATION_AUDIENCE } from './entra/directory.js';
export type { FaultConfig, FaultRule } from './faults.js';
export type { EmulatedHub, NewDevice } from './hub.js';
export type { PnpDeviceStatus } from './pnp-devices.js';
export {
  CURRENT_FIRMWARE,
  LEGACY_FIRMWARE,
  TEMPERATURE_CONTROLLER_MODEL_ID,
  THERMOSTAT_MODEL_ID,
} from './pnp-models.js';
export { createSharedAccessSignature } from './sas-auth.js';
export type { AgentStatus } from './security-agents.js';
export type { EmulatorLog, EmulatorLogLevel } from './server.js';
export type { EmulatorStatsSnapshot } from './stats.js';
export { checkQuotaOverrides, describeQuota, type QuotaOverrides } from './throttling.js';

export const OWNER_POLICY = 'iothubowner';

export interface EmulatorOptions {
  /** Address to listen on; 127.0.0.1 by default. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Seed this many devices (device-000001...), each with an azureiotsecurity module and tags. */
  devices?: number;
  tier?: HubTier;
  units?: number;
  /**
   * Makes the fleet, fault sequences and the keys of a new hub (policy and device keys) reproducible. When
   * absent a random seed is drawn and reported for the fleet and faults, and the keys come from the operating
   * system's random source instead, so that the seed, which is logged, does not give them away. A state file
   * keeps its own seed and keys.
   */
  seed?: number;
  /** Keep devices, twins, keys and certificates in this file across restarts. */
  statePath?: string;
  /** How long an agent takes to read a new desired configuration, in ms; 50..500 by default. */
  agentDelay?: AgentDelay;
  /** Share of devices that start offline. */
  offlineRatio?: number;
  /** Share of agents that write event priorities in lower case (C agent). */
  lowercaseRatio?: number;
  /**
   * Seed this many IoT Plug and Play devices (pnp-000001...), thermostats and temperature controllers, without a
   * security module. They act on a change after `agentDelay`, slow ones after `pnpSlowDelay`.
   */
  pnpDevices?: number;
  /** Share of the seeded PnP devices that are temperature controllers (the rest are thermostats); 0.5. */
  pnpControllerRatio?: number;
  /** Share of PnP devices on the legacy firmware, which accepts fewer target temperatures; 0.25. */
  pnpLegacyRatio?: number;
  /** Share of PnP devices that are slow; 0.1. */
  pnpSlowRatio?: number;
  /** How long a slow PnP device takes to act on a change, in ms; 2000..5000 by default. */
  pnpSlowDelay?: AgentDelay;
  /** Writes become visible to queries only after this many ms. */
  queryLagMs?: number;
  /** The tier's quotas on (default) or off. */
  throttle?: boolean;
  /**
   * Quotas replacing the tier's for some operation classes, e.g. `{ twinUpdate: { limit: 20, windowMs: 1000 } }`.
   * They apply even with `throttle: false` (then only these classes are throttled), and are not saved.
   */
  quotas?: Partial<Record<OperationClass, Quota>>;
  /** The fault configuration at start (as `PUT /_emulator/faults` sets it). */
  faults?: FaultConfig;
  /** Time source for quotas, twins and agents; tests may freeze it for exact quota checks. */
  clock?: Pick<Clock, 'now'>;
  /** How often a changed hub is saved to `statePath`; 2000 ms by default, 0 saves only on close. */
  stateSaveIntervalMs?: number;
  log?: EmulatorLog;
  /**
   * Play Microsoft Entra ID too: an authority for this tenant on the same port (authority host = `endpoint`),
   * whose access tokens the hub accepts per the role assignments given here.
   */
  entra?: EntraOptions;
  /** False disables local authentication: the hub's API refuses shared access signatures (401). */
  localAuthentication?: boolean;
}

export interface RunningEmulator {
  /** `https://localhost:PORT` */
  endpoint: string;
  /** `localhost:PORT`, the HostName of the connection string. */
  hostName: string;
  port: number;
  /** `HostName=localhost:PORT;SharedAccessKeyName=iothubowner;SharedAccessKey=...` */
  connectionString: string;
  /** Path of the CA certificate (PEM) clients must trust. */
  caFile: string;
  caCert: string;
  seed: number;
  /** The hub itself: store, agents, stats, faults, jobs. */
  hub: EmulatedHub;
  /** The Entra authority (when `entra` was given): its directory's role assignments may change at any time. */
  entra?: EntraAuthority;
  /** Turns local (SAS) authentication on the hub's API on or off. */
  setLocalAuthentication(enabled: boolean): void;
  addDevices(devices: NewDevice[]): void;
  setDeviceOnline(deviceId: string, online: boolean): void;
  /** Resolves when no simulated agent has a configuration read pending. */
  agentsIdle(): Promise<void>;
  /** Resolves when no simulated IoT Plug and Play device has a read of its twin pending. */
  pnpIdle(): Promise<void>;
  /** Saves the state file now (when there is one). */
  saveState(): Promise<void>;
  close(): Promise<void>;
  /**
   * Stops as a killed process does: no last save, so with a state file whatever changed since the last save
   * (every `stateSaveIntervalMs`, or `saveState()`) is lost when it starts again, acknowledged writes included
   * (as a real hub's failover can lose its most recent updates).
   */
  kill(): Promise<void>;
}

const LOOPBACK_OR_ANY = new Set(['127.0.0.1', '::1', 'localhost', '0.0.0.0', '::']);

/**
 * The policy keys and the secret device keys are derived from. Derived from the seed only when the caller
 * chose it: a seed drawn at random is logged, and only 31 bits, so keys made from it could be recomputed.
 */
function newSecrets(explicitSeed: number | undefined): HubSecrets {
  let key: () => string;
  if (explicitSeed === undefined) {
    key = () => cryptoRandomBytes(32).toString('base64');
  } else {
    const random = streamFor(explicitSeed, 'secrets');
    key = () => randomBytes(random, 32).toString('base64');
  }
  return { policies: [{ keyName: OWNER_POLICY, primaryKey: key(), secondaryKey: key() }], keySecret: key() };
}

function checkDelay(name: string, delay: AgentDelay): AgentDelay {
  if (!(delay.min >= 0 && delay.max >= delay.min)) {
    throw new RangeError(`${name} ${delay.min}..${delay.max} must satisfy 0 <= min <= max`);
  }
  return delay;
}

/** The names a SAS token of this emulator may be scoped to (`sr`): its own host names with the port. */
export function ownAudiences(host: string, port: number, hostName: string): string[] {
  const names = new Set([hostName, `localhost:${port}`, `127.0.0.1:${port}`]);
  if (host !== '0.0.0.0' && host !== '::') names.add(`${host.includes(':') ? `[${host}]` : host}:${port}`);
  return [...names];
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const log: EmulatorLog = options.log ?? (() => undefined);
  const host = options.host ?? '127.0.0.1';
  const tier = options.tier ?? 'S1';
  const units = options.units ?? 1;
  const tierProblem = checkTierUnits(tier, units);
  if (tierProblem) throw new RangeError(tierProblem);
  const agentDelay = checkDelay('agent delay', options.agentDelay ?? { min: 50, max: 500 });
  const pnpSlowDelay = checkDelay('PnP slow delay', options.pnpSlowDelay ?? { min: 2000, max: 5000 });
  for (const [name, value] of [
    ['offlineRatio', options.offlineRatio ?? 0],
    ['lowercaseRatio', options.lowercaseRatio ?? 0],
    ['pnpControllerRatio', options.pnpControllerRatio ?? 0],
    ['pnpLegacyRatio', options.pnpLegacyRatio ?? 0],
    ['pnpSlowRatio', options.pnpSlowRatio ?? 0],
  ] as const) {
    if (!isRatio(value)) throw new RangeError(`${name} must be between 0 and 1, not ${value}`);
  }
  const pnp = {
    legacyRatio: options.pnpLegacyRatio ?? 0.25,
    slowRatio: options.pnpSlowRatio ?? 0.1,
    slowDelay: pnpSlowDelay,
  };
  const quotas =
    options.quotas === undefined ? undefined : structuredClone(checkQuotaOverrides(options.quotas));

  const saved = options.statePath ? await readState(options.statePath) : undefined;
  const seed = saved?.header.seed ?? options.seed ?? randomInt(0, 2 ** 31);
  if (saved && options.seed !== undefined && options.seed !== saved.header.seed) {
    log('warn', 'the state file keeps its own seed', {
      stateSeed: saved.header.seed,
      requestedSeed: options.seed,
    });
  }
  const secrets = saved?.header.secrets ?? newSecrets(options.seed);
  const certificateHosts = ['localhost', '127.0.0.1', '::1', ...(LOOPBACK_OR_ANY.has(host) ? [] : [host])];
  const certificates: EmulatorCertificates =
    saved && certificatesUsable(saved.header.certificates, certificateHosts)
      ? saved.header.certificates
      : await createCertificates(certificateHosts);

  const hub = new EmulatedHub(
    {
      tier,
      units,
      throttle: options.throttle ?? true,
      quotas,
      queryLagMs: options.queryLagMs ?? 0,
      agentDelay,
      lowercaseRatio: options.lowercaseRatio ?? 0,
      offlineRatio: options.offlineRatio ?? 0,
      pnp,
      seed,
      faults: options.faults,
      clock: options.clock,
    },
    secrets,
  );
  if (saved) {
    let restored = 0;
    for await (const device of saved.devices) {
      hub.restoreDevice(device);
      restored++;
    }
    log('info', 'state restored', { path: options.statePath, devices: restored });
  }
  const seeded = seedFleet(hub.store, {
    seed,
    count: options.devices ?? 0,
    online: (deviceId) => hub.startsOnline(deviceId),
  });
  if (seeded > 0) log('info', 'fleet seeded', { devices: seeded });
  const seededPnp = seedPnpFleet(hub, {
    seed,
    count: options.pnpDevices ?? 0,
    controllerRatio: options.pnpControllerRatio ?? 0.5,
    pnp,
  });
  if (seededPnp > 0) log('info', 'IoT Plug and Play devices seeded', { devices: seededPnp });

  let audiences: string[] = [];
  let origin = '';
  let localAuthentication = options.localAuthentication ?? true;
  const entra = options.entra
    ? new EntraAuthority(
        options.entra,
        () => origin,
        () => hub.clock.now(),
      )
    : undefined;
  const server = createHubServer({
    hub,
    certificates,
    audiences: () => audiences,
    localAuthentication: () => localAuthentication,
    entra,
    log,
  });
  // Every TCP connection, so that stopping ends them all: closeAllConnections() knows only those past their TLS
  // handshake, and a client's connection still in its handshake would then be served, kept alive, and hold the
  // stop for as long as the client kept using it.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostName = LOOPBACK_OR_ANY.has(host)
    ? `localhost:${port}`
    : `${host.includes(':') ? `[${host}]` : host}:${port}`;
  audiences = ownAudiences(host, port, hostName);
  origin = `https://${hostName}`;

  const temporaryDir = options.statePath ? undefined : await mkdtemp(join(tmpdir(), 'iot-hub-emulator-'));
  const caFile = options.statePath ? `${options.statePath}.ca.pem` : join(temporaryDir!, 'ca.pem');
  await writeFile(caFile, certificates.caCert);

  const statePath = options.statePath;
  const saver = statePath
    ? new StateSaver(
        () =>
          writeState(statePath, { seed, secrets, certificates }, hub.store, (deviceId) =>
            hub.savedPnpTraits(deviceId),
          ),
        () => hub.store.changeCount,
        options.stateSaveIntervalMs ?? 2000,
        (error) => log('error', 'saving the state failed', { error: String(error) }),
      )
    : undefined;
  if (saver && (seeded > 0 || seededPnp > 0 || !saved)) await saver.flush();

  const primaryKey = secrets.policies[0].primaryKey;
  let closed: Promise<void> | undefined;
  const stop = (save: boolean) => {
    closed ??= (async () => {
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      await (save ? saver?.close() : saver?.abandon());
      if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
      log('info', save ? 'emulator stopped' : 'emulator killed: changes since the last save are lost');
    })();
    return closed;
  };
  return {
    endpoint: `https://${hostName}`,
    hostName,
    port,
    connectionString: `HostName=${hostName};SharedAccessKeyName=${OWNER_POLICY};SharedAccessKey=${primaryKey}`,
    caFile,
    caCert: certificates.caCert,
    seed,
    hub,
    entra,
    setLocalAuthentication: (enabled) => {
      localAuthentication = enabled;
    },
    addDevices: (devices) => {
      for (const device of devices) hub.addDevice(device);
    },
    setDeviceOnline: (deviceId, online) => hub.setDeviceOnline(deviceId, online),
    agentsIdle: () => hub.agents.whenIdle(),
    pnpIdle: () => hub.pnp.whenIdle(),
    saveState: async () => saver?.flush(),
    close: () => stop(true),
    kill: () => stop(false),
  };
}
