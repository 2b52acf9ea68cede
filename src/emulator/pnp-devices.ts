// Simulated IoT Plug and Play devices: every device twin whose modelId is one of the emulator's models (a
// thermostat, a temperature controller). Like the security agents: while its device is online, a while after each
// change of its desired properties (and when it comes online) the device reads its twin and reports what the
// convention asks (src/emulator/pnp-acknowledgements.ts); offline devices report nothing until they reconnect.
// Each device runs a firmware (current or legacy, which accepts fewer target temperatures) and is quick or slow.
import { type Clock, systemClock } from '../runtime/clock.js';
import { DueQueue } from './due-queue.js';
import { type Acknowledgement, planReport, valueAt } from './pnp-acknowledgements.js';
import {
  CURRENT_FIRMWARE,
  type DeviceFacts,
  LEGACY_FIRMWARE,
  type PnpFirmware,
  type PnpModel,
  pnpModelOf,
  propertyPath,
} from './pnp-models.js';
import { type Random, randomInt, unitFor } from './prng.js';
import type { RegistryStore, TwinChange } from './registry-store.js';
import type { AgentDelay } from './security-agents.js';
import type { JsonValue } from './twin-document.js';
import { reportProperties } from './twin-state.js';

/** What is simulated on the device's side and not in its twin: kept in the state file with the device. */
export interface PnpTraits {
  firmware: PnpFirmware;
  /** Takes the slow delay instead of the usual one to act on a change. */
  slow: boolean;
}

export interface PnpDevicesOptions {
  store: RegistryStore;
  seed: number;
  random: Random;
  /** How long a device takes to act on a change. */
  delay: AgentDelay;
  /** How long a slow device takes. */
  slowDelay: AgentDelay;
  /** Share of devices on the legacy firmware. */
  legacyRatio: number;
  /** Share of slow devices. */
  slowRatio: number;
  clock?: Pick<Clock, 'now'>;
  /** Each acknowledgement a device reports (for the hub's statistics). */
  onAcknowledgement?: (acknowledgement: Acknowledgement) => void;
  onError?: (deviceId: string, error: unknown) => void;
}

interface PnpDevice {
  model: PnpModel;
  traits: PnpTraits;
  facts: DeviceFacts;
  /** Reads of its twin so far. */
  reads: number;
  /** The last desired value it read of each writable property, by path. */
  received: Map<string, { value: JsonValue; version: number }>;
}

export interface PnpDeviceStatus {
  deviceId: string;
  modelId: string;
  deviceType: string;
  firmware: string;
  /** The target temperatures its firmware accepts. */
  accepts: { targetTemperature: { min: number; max: number } };
  slow: boolean;
  online: boolean;
  /** A read of its twin is scheduled. */
  pending: boolean;
  reads: number;
  /** The last desired value it read of each writable property, and the desired `$version` it read it at. */
  received: Record<string, { value: JsonValue; version: number }>;
  /** What its twin's reported properties hold for each writable property (its last acknowledgement). */
  acknowledgements: Record<string, JsonValue | undefined>;
}

/** The traits a device gets from the seed and the ratios (stable per device id). */
export function seededTraits(
  seed: number,
  deviceId: string,
  ratios: { legacyRatio: number; slowRatio: number },
): PnpTraits {
  return {
    firmware:
      unitFor(seed, `pnp-firmware:${deviceId}`) < ratios.legacyRatio ? LEGACY_FIRMWARE : CURRENT_FIRMWARE,
    slow: unitFor(seed, `pnp-slow:${deviceId}`) < ratios.slowRatio,
  };
}

export class PnpDevices {
  private readonly devices = new Map<string, PnpDevice>();
  /** Traits chosen for devices about to be created or restored, instead of the seeded ones. */
  private readonly expected = new Map<string, Partial<PnpTraits>>();
  private readonly queue: DueQueue;
  private readonly store: RegistryStore;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(private readonly options: PnpDevicesOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    // Device delays are real time, whatever clock stamps the twins (tests may freeze that one).
    this.queue = new DueQueue((deviceId) => this.readTwin(deviceId));
    this.store.onChange((change) => this.onStoreChange(change));
  }

  get count(): number {
    return this.devices.size;
  }

  /** Resolves when no device has a read of its twin scheduled. */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  close(): void {
    this.queue.close();
  }

  /** Runs `create`, which creates (or restores) the device `deviceId`, giving its PnP device these traits. */
  withTraits<T>(deviceId: string, traits: Partial<PnpTraits>, create: () => T): T {
    this.expected.set(deviceId, traits);
    try {
      return create();
    } finally {
      this.expected.delete(deviceId);
    }
  }

  traitsOf(deviceId: string): PnpTraits | undefined {
    return this.devices.get(deviceId)?.traits;
  }

  status(deviceId: string): PnpDeviceStatus | undefined {
    const device = this.devices.get(deviceId);
    const record = this.store.getDevice(deviceId);
    if (!device || !record) return undefined;
    const acknowledgements: Record<string, JsonValue | undefined> = {};
    for (const property of device.model.writable) {
      const path = propertyPath(property);
      acknowledgements[path.join('.')] = valueAt(record.state.reported.value, path);
    }
    return {
      deviceId,
      modelId: device.model.modelId,
      deviceType: device.model.deviceType,
      firmware: device.traits.firmware.version,
      accepts: { targetTemperature: { ...device.traits.firmware.targetTemperature } },
      slow: device.traits.slow,
      online: record.state.connectionState === 'Connected',
      pending: this.queue.has(deviceId),
      reads: device.reads,
      received: Object.fromEntries(device.received),
      acknowledgements,
    };
  }

  private onStoreChange({ record, previous, next }: TwinChange): void {
    if (record.moduleId !== undefined) return;
    const deviceId = record.deviceId;
    if (!next) {
      this.devices.delete(deviceId);
      this.queue.cancel(deviceId);
      return;
    }
    if (!previous) {
      const device = this.newDevice(deviceId, next.modelId);
      if (!device) return;
      this.devices.set(deviceId, device);
      const { patch } = planReport(device.model, device.facts, next.desired, next.reported.value);
      if (next.connectionState === 'Connected' && Object.keys(patch).length > 0) this.schedule(deviceId);
      return;
    }
    if (!this.devices.has(deviceId)) return;
    if (previous.connectionState !== next.connectionState) {
      // A device that connects reads its twin, as one that starts does; one that leaves reads nothing.
      if (next.connectionState === 'Connected') this.schedule(deviceId);
      else this.queue.cancel(deviceId);
      return;
    }
    if (previous.desired !== next.desired && next.connectionState === 'Connected') this.schedule(deviceId);
  }

  private newDevice(deviceId: string, modelId: string): PnpDevice | undefined {
    const expected = this.expected.get(deviceId);
    const model = pnpModelOf(modelId);
    if (!model) return undefined;
    const traits = { ...seededTraits(this.options.seed, deviceId, this.options), ...expected };
    const seed = this.options.seed;
    const facts: DeviceFacts = {
      firmware: traits.firmware,
      unit: (key) => unitFor(seed, `pnp-${key}:${deviceId}`),
    };
    return { model, traits, facts, reads: 0, received: new Map() };
  }

  private schedule(deviceId: string): void {
    const device = this.devices.get(deviceId);
    if (!device) return;
    const { min, max } = device.traits.slow ? this.options.slowDelay : this.options.delay;
    this.queue.schedule(deviceId, Date.now() + randomInt(this.options.random, min, max));
  }

  private readTwin(deviceId: string): void {
    const device = this.devices.get(deviceId);
    const record = this.store.getDevice(deviceId);
    if (!device || !record || record.state.connectionState !== 'Connected') return;
    device.reads++;
    const state = record.state;
    const planned = planReport(device.model, device.facts, state.desired, state.reported.value);
    for (const { path, value, version } of planned.received) device.received.set(path, { value, version });
    if (Object.keys(planned.patch).length === 0) return;
    const next = reportProperties(state, planned.patch, this.clock.now());
    if (next instanceof Error) {
      this.options.onError?.(deviceId, next);
      return;
    }
    this.store.setState(record, next);
    for (const acknowledgement of planned.acknowledgements) this.options.onAcknowledgement?.(acknowledgement);
  }
}
