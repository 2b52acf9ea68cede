// The emulated hub without its HTTP server: the registry, the simulated agents and IoT Plug and Play devices,
// queries, jobs, quotas, faults and statistics, and the JSON the REST API returns for devices, modules and twins.
import { createHmac } from 'node:crypto';
import { SECURITY_MODULE_ID } from '../profiles/security-agent/index.js';
import type { HubTier } from '../quotas/index.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { hubErrors } from './errors.js';
import { type FaultConfig, FaultInjector } from './faults.js';
import { JobManager } from './jobs.js';
import { PnpDevices, type PnpTraits } from './pnp-devices.js';
import { firmwareOf, PNP_FIRMWARE, PNP_MODELS, pnpModelOf } from './pnp-models.js';
import { streamFor } from './prng.js';
import { QueryEngine } from './query-engine.js';
import {
  type DeviceRecord,
  type IdentityRecord,
  RegistryStore,
  type RestoredDevice,
  type StoredAuthentication,
} from './registry-store.js';
import type { SharedAccessPolicy } from './sas-auth.js';
import { type AgentDelay, SecurityAgents } from './security-agents.js';
import { EmulatorStats } from './stats.js';
import { HubThrottle, type QuotaOverrides } from './throttling.js';
import { hubTime, type JsonObject } from './twin-document.js';
import { identityEtag, NO_THUMBPRINT, renderTwin, type TwinState } from './twin-state.js';

export interface HubSettings {
  tier: HubTier;
  units: number;
  /** The tier's quotas on or off. */
  throttle: boolean;
  /** Quotas replacing the tier's for some classes; they apply even with `throttle` off. */
  quotas?: QuotaOverrides;
  queryLagMs: number;
  agentDelay: AgentDelay;
  lowercaseRatio: number;
  offlineRatio: number;
  /** The IoT Plug and Play devices' mix: legacy firmware and slow devices. */
  pnp: PnpSettings;
  seed: number;
  faults?: FaultConfig;
  clock?: Pick<Clock, 'now'>;
}

export interface PnpSettings {
  /** Share of devices on the legacy firmware (a narrower range of target temperatures). */
  legacyRatio: number;
  /** Share of devices that take `slowDelay` instead of the agent delay to act on a change. */
  slowRatio: number;
  slowDelay: AgentDelay;
}

/** What makes a hub the same hub across restarts. */
export interface HubSecrets {
  policies: SharedAccessPolicy[];
  /** Device and module keys are derived from it, so they need not be stored. */
  keySecret: string;
}

export interface NewDevice {
  deviceId: string;
  tags?: JsonObject;
  /** Create the azureiotsecurity module (and so a simulated agent); true by default. */
  securityModule?: boolean;
  /** Connected at once; by default decided by the offline ratio. */
  online?: boolean;
  /** An IoT Plug and Play device of this model (one of the emulator's); then no security module by default. */
  modelId?: string;
  /** The PnP device's firmware version (current or legacy); by default drawn with the legacy ratio. */
  firmware?: string;
  /** The PnP device is slow; by default drawn with the slow ratio. */
  slow?: boolean;
}

/** A device as the state file gives it back, with what its simulated PnP device runs. */
export interface RestoredHubDevice extends RestoredDevice {
  pnp?: { firmware: string; slow: boolean };
}

export class EmulatedHub {
  readonly store: RegistryStore;
  readonly agents: SecurityAgents;
  readonly pnp: PnpDevices;
  readonly engine: QueryEngine;
  readonly jobs: JobManager;
  readonly throttle: HubThrottle;
  readonly faults: FaultInjector;
  readonly stats = new EmulatorStats();
  readonly clock: Pick<Clock, 'now'>;

  constructor(
    readonly settings: HubSettings,
    readonly secrets: HubSecrets,
  ) {
    this.clock = settings.clock ?? systemClock;
    const generation = streamFor(settings.seed, 'generation');
    this.store = new RegistryStore({
      queryLagMs: settings.queryLagMs,
      clock: this.clock,
      generationId: () => String(637_000_000_000_000_000 + Math.floor(generation() * 1e15)),
    });
    this.agents = new SecurityAgents({
      store: this.store,
      delay: settings.agentDelay,
      lowercaseRatio: settings.lowercaseRatio,
      seed: settings.seed,
      random: streamFor(settings.seed, 'agents'),
      clock: this.clock,
    });
    this.pnp = new PnpDevices({
      store: this.store,
      seed: settings.seed,
      random: streamFor(settings.seed, 'pnp'),
      delay: settings.agentDelay,
      slowDelay: settings.pnp.slowDelay,
      legacyRatio: settings.pnp.legacyRatio,
      slowRatio: settings.pnp.slowRatio,
      clock: this.clock,
      onAcknowledgement: (acknowledgement) => this.stats.recordPnpAcknowledgement(acknowledgement.ac),
    });
    this.engine = new QueryEngine(this.store, (record, state) => this.renderTwin(record, state));
    this.throttle = new HubThrottle(
      settings.tier,
      settings.units,
      settings.throttle,
      this.clock,
      settings.quotas,
    );
    this.jobs = new JobManager({
      store: this.store,
      engine: this.engine,
      throttle: this.throttle,
      tier: settings.tier,
      clock: this.clock,
    });
    this.faults = new FaultInjector(streamFor(settings.seed, 'faults'), settings.faults ?? {});
  }

  close(): void {
    this.agents.close();
    this.pnp.close();
    this.jobs.close();
  }

  /** Whether a device created now starts online (stable per device id for a seed). */
  startsOnline(deviceId: string): boolean {
    return SecurityAgents.startsOnline(this.settings.seed, deviceId, this.settings.offlineRatio);
  }

  /** Adds a device as the admin API and the fleet seeding do: tags, security module, PnP model, connection. */
  addDevice(request: NewDevice): DeviceRecord {
    const pnp = request.modelId === undefined ? undefined : pnpTraitsOf(request);
    const online = request.online ?? this.startsOnline(request.deviceId);
    const connectionState = online ? 'Connected' : 'Disconnected';
    const device = this.pnp.withTraits(request.deviceId, pnp ?? {}, () =>
      this.store.createDevice(request.deviceId, {
        tags: request.tags,
        connectionState,
        modelId: request.modelId,
      }),
    );
    if (request.securityModule ?? request.modelId === undefined)
      this.store.createModule(device, SECURITY_MODULE_ID, { connectionState });
    return device;
  }

  /** Puts back a device from the state file, its PnP device with the firmware it ran. */
  restoreDevice(saved: RestoredHubDevice): DeviceRecord {
    const firmware = saved.pnp && firmwareOf(saved.pnp.firmware);
    const traits = saved.pnp ? { slow: saved.pnp.slow, ...(firmware && { firmware }) } : {};
    return this.pnp.withTraits(saved.deviceId, traits, () => this.store.restoreDevice(saved));
  }

  /** Sets a device online or offline: its agent and its PnP device act once it is online again. */
  setDeviceOnline(deviceId: string, online: boolean): void {
    this.agents.setOnline(deviceId, online);
  }

  /** What the state file keeps of a PnP device beside its twin. */
  savedPnpTraits(deviceId: string): RestoredHubDevice['pnp'] {
    const traits = this.pnp.traitsOf(deviceId);
    return traits && { firmware: traits.firmware.version, slow: traits.slow };
  }

  /** The SAS keys of a device or module: stored when a client set them, derived from the hub's secret otherwise. */
  keysOf(record: IdentityRecord): { primaryKey: string; secondaryKey: string } {
    const auth = record.authentication;
    if (auth?.type === 'sas') return auth.symmetricKey;
    const derive = (which: string) =>
      createHmac('sha256', this.secrets.keySecret)
        .update(`${record.deviceId}/${record.moduleId ?? ''}:${which}`)
        .digest('base64');
    return { primaryKey: derive('primary'), secondaryKey: derive('secondary') };
  }

  authenticationTypeOf(record: IdentityRecord): string {
    return record.authentication?.type ?? 'sas';
  }

  renderTwin(record: IdentityRecord, state: TwinState = record.state): JsonObject {
    return renderTwin(
      {
        deviceId: record.deviceId,
        moduleId: record.moduleId,
        authenticationType: this.authenticationTypeOf(record),
        isDevice: record.moduleId === undefined,
      },
      state,
    );
  }

  private renderAuthentication(record: IdentityRecord): JsonObject {
    const auth: StoredAuthentication | undefined = record.authentication;
    if (auth && auth.type !== 'sas') {
      return {
        symmetricKey: { primaryKey: null, secondaryKey: null },
        x509Thumbprint: auth.x509Thumbprint ?? NO_THUMBPRINT,
        type: auth.type,
      };
    }
    return { symmetricKey: this.keysOf(record), x509Thumbprint: NO_THUMBPRINT, type: 'sas' };
  }

  renderDevice(device: DeviceRecord): JsonObject {
    const state = device.state;
    return {
      deviceId: device.deviceId,
      generationId: device.generationId,
      etag: identityEtag(state),
      connectionState: state.connectionState,
      status: state.status,
      statusReason: null,
      connectionStateUpdatedTime: hubTime(state.connectionStateUpdatedAt),
      statusUpdatedTime: hubTime(state.statusUpdatedAt),
      lastActivityTime: hubTime(state.lastActivityAt),
      cloudToDeviceMessageCount: 0,
      authentication: this.renderAuthentication(device),
      capabilities: { iotEdge: false },
    };
  }

  renderModule(module: IdentityRecord): JsonObject {
    const state = module.state;
    return {
      moduleId: module.moduleId!,
      managedBy: module.managedBy ?? null,
      deviceId: module.deviceId,
      generationId: module.generationId,
      etag: identityEtag(state),
      connectionState: state.connectionState,
      connectionStateUpdatedTime: hubTime(state.connectionStateUpdatedAt),
      lastActivityTime: hubTime(state.lastActivityAt),
      cloudToDeviceMessageCount: 0,
      authentication: this.renderAuthentication(module),
    };
  }
}

/** The traits a new PnP device was asked for; refuses a model or firmware the emulator does not simulate. */
function pnpTraitsOf(request: NewDevice): Partial<PnpTraits> {
  if (!pnpModelOf(request.modelId!)) {
    // Model ids hold ';', which error texts cannot (the SDK splits on it): the models are named instead.
    throw hubErrors.argumentInvalid(
      `modelId is not a model the emulator simulates: use the id of ${PNP_MODELS.map((m) => m.deviceType).join(' or ')} (docs/emulator.md)`,
    );
  }
  const traits: Partial<PnpTraits> = {};
  if (request.firmware !== undefined) {
    const firmware = firmwareOf(request.firmware);
    if (!firmware) {
      throw hubErrors.argumentInvalid(
        `firmware ${JSON.stringify(request.firmware)} is not one the emulator simulates; use one of ${PNP_FIRMWARE.map((f) => f.version).join(', ')}`,
      );
    }
    traits.firmware = firmware;
  }
  if (request.slow !== undefined) traits.slow = request.slow;
  return traits;
}
