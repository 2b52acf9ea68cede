// Devices, their modules and twins, in memory. Direct reads see the current twin; queries see a lagged view
// when the hub runs with a query lag (writes and deletes become visible `queryLagMs` later).
import { type Clock, systemClock } from '../runtime/clock.js';
import { hubErrors } from './errors.js';
import type { JsonObject } from './twin-document.js';
import { type ConnectionState, type IdentityStatus, newTwinState, type TwinState } from './twin-state.js';

export const MAX_MODULES_PER_DEVICE = 50;
// Device and module ids: up to 128 ASCII letters, digits and `- . % _ * ? ! ( ) , : = @ $ '`. The current
// identity registry guide (iot-hub-devguide-identity-registry.md) says `+` and `#` are not supported and does
// not list `;`; older pages and the Event Grid schema list all three. The emulator follows the current guide.
const IDENTITY_PATTERN = /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/;

export interface SymmetricKeyAuthentication {
  type: 'sas';
  symmetricKey: { primaryKey: string; secondaryKey: string };
}
export interface OtherAuthentication {
  type: 'selfSigned' | 'certificateAuthority' | 'none';
  x509Thumbprint?: { primaryThumbprint: string | null; secondaryThumbprint: string | null };
}
/** Authentication as a client set it; absent means SAS with keys the hub derives. */
export type StoredAuthentication = SymmetricKeyAuthentication | OtherAuthentication;

/** Query visibility of a lagged identity: what queries see now, and changes still in flight. */
interface QueryView {
  visible: TwinState | undefined;
  pending: { at: number; state: TwinState | undefined }[];
}

export interface IdentityRecord {
  readonly deviceId: string;
  readonly moduleId: string | undefined;
  generationId: string;
  authentication: StoredAuthentication | undefined;
  managedBy: string | undefined;
  state: TwinState;
  /** Set only when the hub has a query lag. */
  view: QueryView | undefined;
  /** Deleted but still visible to queries for the lag. */
  deleted: boolean;
}

export interface DeviceRecord extends IdentityRecord {
  readonly moduleId: undefined;
  modules: IdentityRecord[];
}

export interface TwinChange {
  record: IdentityRecord;
  previous: TwinState | undefined;
  next: TwinState | undefined;
}

export interface RegistryStoreOptions {
  queryLagMs?: number;
  clock?: Pick<Clock, 'now'>;
  /** Makes the generationId of a new identity (seeded by the hub for reproducible fleets). */
  generationId?: () => string;
}

export function checkIdentityId(kind: 'device' | 'module', id: unknown): string {
  if (typeof id !== 'string' || !IDENTITY_PATTERN.test(id)) {
    throw hubErrors.argumentInvalid(`The ${kind} identifier ${JSON.stringify(id)} is invalid`);
  }
  return id;
}

/** A device as a state file keeps it, with its modules: what restoreDevice puts back. */
export interface RestoredDevice {
  deviceId: string;
  generationId: string;
  authentication?: StoredAuthentication;
  state: TwinState;
  modules: {
    moduleId: string;
    generationId: string;
    authentication?: StoredAuthentication;
    managedBy?: string;
    state: TwinState;
  }[];
}

export class RegistryStore {
  readonly queryLagMs: number;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly makeGenerationId: () => string;
  private readonly devices = new Map<string, DeviceRecord>();
  private sortedIds: string[] | undefined;
  private liveDevices = 0;
  private ghosts = 0;
  private readonly listeners: ((change: TwinChange) => void)[] = [];
  /** Goes up with every change, so a writer of snapshots knows whether there is anything new. */
  changeCount = 0;

  constructor(options: RegistryStoreOptions = {}) {
    this.queryLagMs = Math.max(0, options.queryLagMs ?? 0);
    this.clock = options.clock ?? systemClock;
    let counter = 0;
    this.makeGenerationId = options.generationId ?? (() => String(638_000_000_000_000_000 + ++counter));
  }

  /** Called after every change of a twin or identity (creation and deletion included). */
  onChange(listener: (change: TwinChange) => void): void {
    this.listeners.push(listener);
  }

  get deviceCount(): number {
    return this.liveDevices;
  }

  now(): number {
    return this.clock.now();
  }

  // ---- devices ----------------------------------------------------------------------------------------

  getDevice(deviceId: string): DeviceRecord | undefined {
    const record = this.devices.get(deviceId);
    return record && !record.deleted ? record : undefined;
  }

  requireDevice(deviceId: string): DeviceRecord {
    const record = this.getDevice(deviceId);
    if (!record) throw hubErrors.deviceNotFound(deviceId);
    return record;
  }

  *allDevices(): IterableIterator<DeviceRecord> {
    for (const record of this.devices.values()) if (!record.deleted) yield record;
  }

  createDevice(
    deviceId: string,
    init: {
      status?: IdentityStatus;
      authentication?: StoredAuthentication;
      tags?: JsonObject;
      connectionState?: ConnectionState;
      generationId?: string;
      /** The IoT Plug and Play model the device announces. */
      modelId?: string;
    } = {},
  ): DeviceRecord {
    checkIdentityId('device', deviceId);
    if (this.getDevice(deviceId)) throw hubErrors.deviceAlreadyExists(deviceId);
    const ghost = this.devices.get(deviceId);
    const record: DeviceRecord = {
      deviceId,
      moduleId: undefined,
      generationId: init.generationId ?? this.makeGenerationId(),
      authentication: init.authentication,
      managedBy: undefined,
      state: newTwinState({ at: this.clock.now(), ...init }),
      view: ghost?.view,
      deleted: false,
      modules: [],
    };
    if (ghost) this.ghosts--;
    else this.sortedIds = undefined;
    this.devices.set(deviceId, record);
    this.liveDevices++;
    this.changed(record, undefined, record.state);
    return record;
  }

  deleteDevice(record: DeviceRecord): void {
    for (const module of [...record.modules]) this.deleteModule(record, module);
    record.deleted = true;
    this.liveDevices--;
    if (this.queryLagMs > 0) this.ghosts++;
    else {
      this.devices.delete(record.deviceId);
      this.sortedIds = undefined;
    }
    this.changed(record, record.state, undefined);
  }

  // ---- modules ----------------------------------------------------------------------------------------

  getModule(device: DeviceRecord, moduleId: string): IdentityRecord | undefined {
    return device.modules.find((m) => m.moduleId === moduleId && !m.deleted);
  }

  requireModule(deviceId: string, moduleId: string): IdentityRecord {
    const device = this.getDevice(deviceId);
    const module = device && this.getModule(device, moduleId);
    if (!module) throw hubErrors.moduleNotFound(deviceId, moduleId);
    return module;
  }

  liveModules(device: DeviceRecord): IdentityRecord[] {
    return device.modules.filter((m) => !m.deleted);
  }

  createModule(
    device: DeviceRecord,
    moduleId: string,
    init: {
      authentication?: StoredAuthentication;
      managedBy?: string;
      connectionState?: ConnectionState;
      generationId?: string;
    } = {},
  ): IdentityRecord {
    checkIdentityId('module', moduleId);
    if (this.getModule(device, moduleId)) throw hubErrors.moduleAlreadyExists(device.deviceId, moduleId);
    if (this.liveModules(device).length >= MAX_MODULES_PER_DEVICE) {
      throw hubErrors.tooManyModules(device.deviceId, MAX_MODULES_PER_DEVICE);
    }
    const ghostIndex = device.modules.findIndex((m) => m.moduleId === moduleId);
    const ghost = ghostIndex >= 0 ? device.modules[ghostIndex] : undefined;
    const record: IdentityRecord = {
      deviceId: device.deviceId,
      moduleId,
      generationId: init.generationId ?? this.makeGenerationId(),
      authentication: init.authentication,
      managedBy: init.managedBy,
      state: newTwinState({ at: this.clock.now(), connectionState: init.connectionState }),
      view: ghost?.view,
      deleted: false,
    };
    if (ghost) device.modules[ghostIndex] = record;
    else {
      device.modules.push(record);
      device.modules.sort((a, b) => compareIds(a.moduleId!, b.moduleId!));
    }
    this.changed(record, undefined, record.state);
    return record;
  }

  deleteModule(device: DeviceRecord, module: IdentityRecord): void {
    module.deleted = true;
    if (this.queryLagMs === 0) device.modules = device.modules.filter((m) => m !== module);
    this.changed(module, module.state, undefined);
  }

  /**
   * Puts back a device saved earlier (with its modules), visible to queries at once as after a restart.
   * Listeners hear of each identity as created.
   */
  restoreDevice(saved: RestoredDevice): DeviceRecord {
    checkIdentityId('device', saved.deviceId);
    if (this.devices.has(saved.deviceId)) throw hubErrors.deviceAlreadyExists(saved.deviceId);
    const device: DeviceRecord = {
      deviceId: saved.deviceId,
      moduleId: undefined,
      generationId: saved.generationId,
      authentication: saved.authentication,
      managedBy: undefined,
      state: saved.state,
      view: undefined,
      deleted: false,
      modules: saved.modules
        .map((m) => ({
          deviceId: saved.deviceId,
          moduleId: m.moduleId,
          generationId: m.generationId,
          authentication: m.authentication,
          managedBy: m.managedBy,
          state: m.state,
          view: undefined,
          deleted: false,
        }))
        .sort((a, b) => compareIds(a.moduleId, b.moduleId)),
    };
    this.devices.set(device.deviceId, device);
    this.sortedIds = undefined;
    this.liveDevices++;
    for (const record of [device, ...device.modules]) {
      for (const listener of this.listeners) listener({ record, previous: undefined, next: record.state });
    }
    return device;
  }

  // ---- twins ------------------------------------------------------------------------------------------

  /** Replaces an identity's state (twin or identity fields); the one way every change is made. */
  setState(record: IdentityRecord, next: TwinState): void {
    const previous = record.state;
    if (previous === next) return;
    record.state = next;
    this.changed(record, previous, next);
  }

  // ---- queries ----------------------------------------------------------------------------------------

  /** What queries see of an identity now (undefined when it does not exist for them). */
  visibleState(record: IdentityRecord, now = this.clock.now()): TwinState | undefined {
    const view = record.view;
    if (!view) return record.deleted ? undefined : record.state;
    while (view.pending.length > 0 && view.pending[0].at <= now) view.visible = view.pending.shift()!.state;
    return view.visible;
  }

  /** Device ids in a stable order for paging, deleted ones still visible to queries included. */
  orderedDeviceIds(): string[] {
    this.purgeGhosts();
    if (!this.sortedIds) this.sortedIds = [...this.devices.keys()].sort(compareIds);
    return this.sortedIds;
  }

  /** Any record under that id, deleted ones included (for query visibility). */
  recordForQuery(deviceId: string): DeviceRecord | undefined {
    return this.devices.get(deviceId);
  }

  private purgeGhosts(): void {
    if (this.ghosts === 0) return;
    const now = this.clock.now();
    for (const record of this.devices.values()) {
      if (
        record.deleted &&
        this.visibleState(record, now) === undefined &&
        record.view?.pending.length === 0
      ) {
        this.devices.delete(record.deviceId);
        this.ghosts--;
        this.sortedIds = undefined;
      }
    }
  }

  private changed(
    record: IdentityRecord,
    previous: TwinState | undefined,
    next: TwinState | undefined,
  ): void {
    this.changeCount++;
    if (this.queryLagMs > 0) {
      if (!record.view) record.view = { visible: previous, pending: [] };
      else this.visibleState(record);
      record.view.pending.push({ at: this.clock.now() + this.queryLagMs, state: next });
    }
    for (const listener of this.listeners) listener({ record, previous, next });
  }
}

/** Ordinal comparison, so paging order does not depend on the locale. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
