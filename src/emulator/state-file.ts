// `--state FILE`: the hub's devices, twins, keys and certificates on disk, one JSON line per device after a
// header line (with, for an IoT Plug and Play device, the firmware and speed of its simulation). Written atomically (a temporary file renamed over the old one, then the directory synced), so a
// crash mid-save leaves the previous state whole. Readable by its owner only: it holds the policy keys, the
// secret device keys derive from and the server's private key.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { EmulatorCertificates } from './certificates.js';
import type { HubSecrets, RestoredHubDevice } from './hub.js';
import type {
  DeviceRecord,
  IdentityRecord,
  RegistryStore,
  RestoredDevice,
  StoredAuthentication,
} from './registry-store.js';
import {
  internSectionValue,
  type JsonObject,
  type PropertySection,
  replaceTags,
  restoreMeta,
  type StoredMeta,
  storeMeta,
} from './twin-document.js';
import type { ConnectionState, IdentityStatus, TwinState } from './twin-state.js';

const FORMAT = 'iot-hub-emulator-state';
const VERSION = 1;
/** Owner read and write only. */
export const STATE_FILE_MODE = 0o600;

export interface StateHeader {
  format: typeof FORMAT;
  version: number;
  savedAt: string;
  seed: number;
  secrets: HubSecrets;
  certificates: EmulatorCertificates;
}

interface SavedSection {
  v: JsonObject;
  m: StoredMeta;
  n: number;
}

interface SavedState {
  t: JsonObject;
  d: SavedSection;
  r: SavedSection;
  v: number;
  st: IdentityStatus;
  su: number;
  c: ConnectionState;
  cu: number;
  la: number;
  iv: number;
  /** The device's IoT Plug and Play model id, when it has one. */
  mi?: string;
}

interface SavedIdentity {
  id: string;
  g: string;
  a?: StoredAuthentication;
  mb?: string;
  s: SavedState;
}

interface SavedDevice extends SavedIdentity {
  m: SavedIdentity[];
  /** The simulated PnP device: its firmware version and whether it is slow. */
  p?: { fw: string; sl: boolean };
}

/** What the simulation of a device keeps beside its twin (undefined for a device without one). */
export type SavedPnpTraits = (deviceId: string) => RestoredHubDevice['pnp'];

export type { RestoredDevice };

function saveSection(section: PropertySection): SavedSection {
  return { v: section.value, m: storeMeta(section.meta), n: section.version };
}

function restoreSection(saved: SavedSection): PropertySection {
  return { value: internSectionValue(saved.v), meta: restoreMeta(saved.m), version: saved.n };
}

function saveState(state: TwinState): SavedState {
  const saved: SavedState = {
    t: state.tags,
    d: saveSection(state.desired),
    r: saveSection(state.reported),
    v: state.version,
    st: state.status,
    su: state.statusUpdatedAt,
    c: state.connectionState,
    cu: state.connectionStateUpdatedAt,
    la: state.lastActivityAt,
    iv: state.identityVersion,
  };
  if (state.modelId) saved.mi = state.modelId;
  return saved;
}

function restoreState(saved: SavedState): TwinState {
  return {
    tags: replaceTags(saved.t),
    desired: restoreSection(saved.d),
    reported: restoreSection(saved.r),
    version: saved.v,
    status: saved.st,
    statusUpdatedAt: saved.su,
    connectionState: saved.c,
    connectionStateUpdatedAt: saved.cu,
    lastActivityAt: saved.la,
    identityVersion: saved.iv,
    modelId: saved.mi ?? '',
  };
}

function saveIdentity(record: IdentityRecord): SavedIdentity {
  const saved: SavedIdentity = {
    id: record.moduleId ?? record.deviceId,
    g: record.generationId,
    s: saveState(record.state),
  };
  if (record.authentication) saved.a = record.authentication;
  if (record.managedBy) saved.mb = record.managedBy;
  return saved;
}

function deviceLine(device: DeviceRecord, store: RegistryStore, pnpOf: SavedPnpTraits): string {
  const saved: SavedDevice = { ...saveIdentity(device), m: store.liveModules(device).map(saveIdentity) };
  const pnp = pnpOf(device.deviceId);
  if (pnp) saved.p = { fw: pnp.firmware, sl: pnp.slow };
  return JSON.stringify(saved);
}

/** Writes the whole hub to `path` atomically. */
export async function writeState(
  path: string,
  header: Omit<StateHeader, 'format' | 'version' | 'savedAt'>,
  store: RegistryStore,
  pnpOf: SavedPnpTraits = () => undefined,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${Date.now()}.${randomBytes(4).toString('hex')}.tmp`,
  );
  // Created with the mode (no moment with wider access); chmod too, in case the umask took away owner bits.
  const file = await open(temporary, 'wx', STATE_FILE_MODE);
  try {
    await file.chmod(STATE_FILE_MODE);
    const first: StateHeader = {
      format: FORMAT,
      version: VERSION,
      savedAt: new Date().toISOString(),
      ...header,
    };
    let chunk = `${JSON.stringify(first)}\n`;
    for (const device of store.allDevices()) {
      chunk += `${deviceLine(device, store, pnpOf)}\n`;
      if (chunk.length > 1 << 20) {
        await file.write(chunk);
        chunk = '';
      }
    }
    await file.write(chunk);
    await file.sync();
    await file.close();
    await rename(temporary, path);
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Makes a rename in `dir` durable; skipped where directories cannot be opened or synced (Windows). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR, EPERM or EINVAL: the platform does not support it; the rename itself is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Reads a state file: its header, then its devices one by one. Undefined when there is no file. */
export async function readState(
  path: string,
): Promise<{ header: StateHeader; devices: AsyncIterable<RestoredHubDevice> } | undefined> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = await new Promise<boolean>((resolve, reject) => {
    stream.once('open', () => resolve(true));
    stream.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' ? resolve(false) : reject(error),
    );
  });
  if (!opened) return undefined;
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })[
    Symbol.asyncIterator
  ]();
  const first = await lines.next();
  const header = first.done ? undefined : (JSON.parse(first.value) as StateHeader);
  if (!header || header.format !== FORMAT || header.version !== VERSION) {
    stream.destroy();
    throw new Error(`${path} is not an emulator state file of version ${VERSION}`);
  }
  async function* devices(): AsyncIterable<RestoredHubDevice> {
    for (;;) {
      const line = await lines.next();
      if (line.done) return;
      if (line.value.trim() === '') continue;
      const saved = JSON.parse(line.value) as SavedDevice;
      yield {
        deviceId: saved.id,
        generationId: saved.g,
        authentication: saved.a,
        state: restoreState(saved.s),
        modules: saved.m.map((m) => ({
          moduleId: m.id,
          generationId: m.g,
          authentication: m.a,
          managedBy: m.mb,
          state: restoreState(m.s),
        })),
        ...(saved.p && { pnp: { firmware: saved.p.fw, slow: saved.p.sl } }),
      };
    }
  }
  return { header, devices: devices() };
}

/** Saves the hub when it changed, every `intervalMs`, and once more on close. */
export class StateSaver {
  private timer: NodeJS.Timeout | undefined;
  private savedChangeCount = -1;
  private saving: Promise<void> | undefined;

  constructor(
    private readonly save: () => Promise<void>,
    private readonly changeCount: () => number,
    intervalMs: number,
    onError: (error: unknown) => void,
  ) {
    if (intervalMs > 0) {
      this.timer = setInterval(() => void this.flush().catch(onError), intervalMs);
      this.timer.unref();
    }
  }

  /** Saves now if anything changed since the last save (waits for a save in progress first). */
  async flush(): Promise<void> {
    while (this.saving) await this.saving;
    const count = this.changeCount();
    if (count === this.savedChangeCount) return;
    this.saving = this.save().then(() => {
      this.savedChangeCount = count;
    });
    try {
      await this.saving;
    } finally {
      this.saving = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  /** Stops saving without a last save, as a killed process would; a save under way is let finish. */
  async abandon(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.saving) await this.saving.catch(() => undefined);
  }
}
