// What export keeps of a hub, per device: its id, its tags (and the model it announced, when targets may select
// by it) as interned (path, value) pairs, and the interned configuration its twin carries or why it carries none.
// Never whole twins: 100,000 devices are a few megabytes here.

import type { LiteralValue } from '../condition/index.js';
import { OWNERSHIP_TAG } from '../planner/ownership.js';
import type { DeviceRecord } from '../planner/types.js';
import { type Settings, settingsFingerprint, type TwinSettings } from './settings.js';

/** Why a device of the hub is not exported (a device with a configuration has its fingerprint instead). */
export type LeftOut = 'noModule' | 'noConfiguration' | 'managedElsewhere' | 'rejected' | 'otherModel';
const LEFT_OUT: readonly LeftOut[] = [
  'noModule',
  'noConfiguration',
  'managedElsewhere',
  'rejected',
  'otherModel',
];

/**
 * The path under which a device's modelId is kept beside its tags: no tag is named so (twin keys hold no '$'),
 * and the condition operand it stands for is `modelId` (tag-index.ts).
 */
export const MODEL_ID_PATH = '$modelId';

/**
 * A tag value a condition cannot compare (an object, an array, something nested deeper than we index): kept so
 * that IS_DEFINED and the evaluator see the tag where the twin has it. Rebuilt as an empty array.
 */
export const OPAQUE: readonly never[] = Object.freeze([]);
export type TagValue = LiteralValue | typeof OPAQUE;

/** Tags nested deeper than this many names are kept as OPAQUE. */
const MAX_TAG_DEPTH = 4;

export interface Configuration {
  settings: Settings;
  /** Its fingerprint: equal settings, equal text. */
  text: string;
  devices: number;
}

function valueKey(value: TagValue): string {
  if (value === OPAQUE) return 'o';
  if (value === null) return 'z';
  return `${typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : 'b'}${String(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class FleetIndex {
  /** Device ids by index, in the order the hub listed them. */
  readonly deviceIds: string[] = [];
  /** Per device, [pathId, valueId, ...]; undefined until the devices collection lists it. */
  private readonly tags: (Int32Array | undefined)[] = [];
  /** Per device, the index of its configuration, or -1 - the index of its LeftOut reason. */
  private readonly configurationOf: number[] = [];
  private readonly byId = new Map<string, number>();
  readonly paths: string[] = [];
  private readonly pathIds = new Map<string, number>();
  readonly values: TagValue[] = [];
  private readonly valueIds = new Map<string, number>();
  readonly configurations: Configuration[] = [];
  private readonly configurationIds = new Map<string, number>();
  /** Devices whose settings of other managers were left out, by manager. */
  readonly otherManagers = new Map<string, number>();
  /** Devices whose twin holds IoT Plug and Play components that were not exported, by component. */
  readonly componentsLeftOut = new Map<string, number>();
  /** Devices of another model than the one exported. */
  private readonly otherModel = new Set<number>();
  /** Per device, whether its exported twin announced a model (a modelId). */
  private readonly announcedModel: boolean[] = [];
  /** The first twin the agent would refuse, to show what that means. */
  rejectedExample?: { deviceId: string; reason: string };

  get size(): number {
    return this.deviceIds.length;
  }

  /**
   * A device of the `devices` collection; its modelId, when given, is kept for targets to select by. The
   * operator's ownership record is not: a target that read it would change with the adoption it drives.
   * `otherModel`: the device is listed (conditions must tell it apart) but not exported.
   */
  addDevice(record: Pick<DeviceRecord, 'deviceId' | 'tags' | 'modelId'>, otherModel = false): void {
    const pairs: number[] = [];
    this.flatten(record.tags, '', 1, pairs);
    if (record.modelId !== undefined)
      pairs.push(
        this.intern(this.pathIds, this.paths, MODEL_ID_PATH, MODEL_ID_PATH),
        this.internValue(record.modelId),
      );
    const index = this.indexOf(record.deviceId);
    this.tags[index] = Int32Array.from(pairs);
    if (otherModel) this.otherModel.add(index);
  }

  /**
   * The exported twin of a device, as the export's kind read it; whether it announced a model. The twin of a
   * device already known to be of another model is passed over: nothing of it is counted.
   */
  addTwin(deviceId: string, read: TwinSettings, announcedModel = false): void {
    const index = this.indexOf(deviceId);
    if (this.otherModel.has(index)) return;
    if (announcedModel) this.announcedModel[index] = true;
    if (read.kind === 'settings' || read.kind === 'noConfiguration')
      for (const component of read.componentsLeftOut ?? [])
        this.componentsLeftOut.set(component, (this.componentsLeftOut.get(component) ?? 0) + 1);
    if (read.kind !== 'settings') {
      this.configurationOf[index] = -1 - LEFT_OUT.indexOf(read.kind);
      if (read.kind === 'managedElsewhere') this.countManagers(read.managers);
      if (read.kind === 'rejected') this.rejectedExample ??= { deviceId, reason: read.reason };
      return;
    }
    this.countManagers(read.othersLeftOut);
    const text = settingsFingerprint(read.settings);
    let id = this.configurationIds.get(text);
    if (id === undefined) {
      id = this.configurations.length;
      this.configurations.push({ settings: read.settings, text, devices: 0 });
      this.configurationIds.set(text, id);
    }
    this.configurations[id].devices++;
    this.configurationOf[index] = id;
  }

  /** Whether the devices collection lists the device: only those count as the hub's devices. */
  listed(device: number): boolean {
    return this.tags[device] !== undefined;
  }

  /** The configuration index of a listed device, or why it has none. */
  standing(device: number): number | LeftOut {
    if (this.otherModel.has(device)) return 'otherModel';
    const of = this.configurationOf[device];
    if (of === undefined) return 'noModule';
    return of >= 0 ? of : LEFT_OUT[-1 - of];
  }

  /** Whether the device's exported twin announced a model. */
  announced(device: number): boolean {
    return this.announcedModel[device] === true;
  }

  /** The value id of a tag path on a device, or -1 when the device has no such tag. */
  valueAt(device: number, pathId: number): number {
    const pairs = this.tags[device];
    if (pairs === undefined) return -1;
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === pathId) return pairs[i + 1];
    return -1;
  }

  /** The device's tag pairs, [pathId, valueId, ...]. */
  tagPairs(device: number): Int32Array {
    return this.tags[device] ?? new Int32Array(0);
  }

  /** The device as a condition reads it: its id, its tags and its model when kept, rebuilt from the index. */
  twinDocument(device: number): Record<string, unknown> {
    const tags: Record<string, unknown> = {};
    let modelId: unknown;
    const pairs = this.tagPairs(device);
    for (let i = 0; i < pairs.length; i += 2) {
      if (this.paths[pairs[i]] === MODEL_ID_PATH) {
        modelId = this.values[pairs[i + 1]];
        continue;
      }
      const segments = this.paths[pairs[i]].split('.');
      let node = tags;
      for (const segment of segments.slice(0, -1)) {
        if (!isPlainObject(node[segment])) node[segment] = {};
        node = node[segment] as Record<string, unknown>;
      }
      const value = this.values[pairs[i + 1]];
      node[segments[segments.length - 1]] = value === OPAQUE ? [] : value;
    }
    return modelId === undefined
      ? { deviceId: this.deviceIds[device], tags }
      : { deviceId: this.deviceIds[device], tags, modelId };
  }

  private indexOf(deviceId: string): number {
    let index = this.byId.get(deviceId);
    if (index === undefined) {
      index = this.deviceIds.length;
      this.deviceIds.push(deviceId);
      this.byId.set(deviceId, index);
    }
    return index;
  }

  private countManagers(managers: readonly string[]): void {
    for (const manager of managers)
      this.otherManagers.set(manager, (this.otherManagers.get(manager) ?? 0) + 1);
  }

  /** Twin keys never hold '.', so a dotted path names one tag unambiguously. */
  private flatten(tags: unknown, prefix: string, depth: number, out: number[]): void {
    if (!isPlainObject(tags)) return;
    for (const [key, value] of Object.entries(tags)) {
      if (prefix === '' && key === OWNERSHIP_TAG) continue;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (isPlainObject(value) && depth < MAX_TAG_DEPTH && Object.keys(value).length > 0) {
        this.flatten(value, path, depth + 1, out);
        continue;
      }
      const kept: TagValue =
        value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number'
          ? value
          : OPAQUE;
      out.push(this.intern(this.pathIds, this.paths, path, path), this.internValue(kept));
    }
  }

  private internValue(value: TagValue): number {
    return this.intern(this.valueIds, this.values, valueKey(value), value);
  }

  private intern<T>(ids: Map<string, number>, list: T[], key: string, value: T): number {
    let id = ids.get(key);
    if (id === undefined) {
      id = list.length;
      list.push(value);
      ids.set(key, id);
    }
    return id;
  }
}
