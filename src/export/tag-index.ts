// Which devices of the hub carry which tag value (or announced which model): the counts that tell whether a tag
// selection gives exactly a group, before the condition evaluator confirms it device by device.
import { formatCondition, type LiteralValue, type PathOperand, parseCondition } from '../condition/index.js';
import { type FleetIndex, MODEL_ID_PATH, OPAQUE } from './fleet-index.js';

const MODEL_ID: PathOperand = { kind: 'path', segments: ['modelId'] };

export class TagIndex {
  /** The devices of the hub (those the devices collection lists), ascending. */
  readonly devices: number[] = [];
  /** pathId -> valueId -> devices carrying it, ascending. */
  private readonly postings = new Map<number, Map<number, number[]>>();
  private readonly operands = new Map<number, PathOperand | undefined>();

  constructor(readonly fleet: FleetIndex) {
    for (let device = 0; device < fleet.size; device++) {
      if (!fleet.listed(device)) continue;
      this.devices.push(device);
      const pairs = fleet.tagPairs(device);
      for (let i = 0; i < pairs.length; i += 2) {
        let byValue = this.postings.get(pairs[i]);
        if (!byValue) {
          byValue = new Map();
          this.postings.set(pairs[i], byValue);
        }
        const list = byValue.get(pairs[i + 1]);
        if (list) list.push(device);
        else byValue.set(pairs[i + 1], [device]);
      }
    }
  }

  get hubSize(): number {
    return this.devices.length;
  }

  /** Devices whose tag `pathId` holds `valueId`. */
  carrying(pathId: number, valueId: number): readonly number[] {
    return this.postings.get(pathId)?.get(valueId) ?? [];
  }

  /** Devices on which tag `pathId` is defined, whatever its value. */
  definedCount(pathId: number): number {
    let count = 0;
    for (const list of this.postings.get(pathId)?.values() ?? []) count += list.length;
    return count;
  }

  /** Devices on which tag `pathId` is defined. */
  *definedOn(pathId: number): Generator<number> {
    for (const list of this.postings.get(pathId)?.values() ?? []) yield* list;
  }

  /** A value a condition can compare with `=` (objects, arrays and null are left to IS_DEFINED). */
  comparable(valueId: number): LiteralValue | undefined {
    const value = this.fleet.values[valueId];
    return value === OPAQUE || value === null ? undefined : (value as LiteralValue);
  }

  /** What a path selects by, for a resource's name: ['site'], ['location', 'building'], ['model']. */
  pathWords(pathId: number): string[] {
    const path = this.fleet.paths[pathId];
    return path === MODEL_ID_PATH ? ['model'] : path.split('.');
  }

  /**
   * `tags.<path>` (or `modelId`) as a condition operand, or undefined when the grammar cannot name it (a tag key
   * with '-', a reserved word such as `group`): such tags cannot select anything.
   */
  operand(pathId: number): PathOperand | undefined {
    if (this.operands.has(pathId)) return this.operands.get(pathId);
    const path: PathOperand =
      this.fleet.paths[pathId] === MODEL_ID_PATH
        ? MODEL_ID
        : { kind: 'path', segments: ['tags', ...this.fleet.paths[pathId].split('.')] };
    let usable: PathOperand | undefined;
    try {
      const parsed = parseCondition(formatCondition({ kind: 'isDefined', path }), {
        dialect: 'deviceTarget',
      });
      usable = parsed.ok ? path : undefined;
    } catch {
      usable = undefined;
    }
    this.operands.set(pathId, usable);
    return usable;
  }
}
