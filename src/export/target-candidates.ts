// Tag selections that may give exactly a group of devices, simplest first: every device (for a baseline), one tag
// value, IS_DEFINED of a tag, two tag values, one tag IN a list, a tag value AND a tag IN a list; then any of
// these but a few devices (`AND deviceId NIN [...]`), fewest first. The model a device announced counts as a tag
// here (`modelId = '...'`) when the fleet index keeps it. The tag index counts the devices each
// selects, so a candidate is yielded only when the counts say it gives the group; the condition evaluator has
// the last word (targets.ts).
import {
  type Expression,
  formatCondition,
  type LiteralValue,
  MAX_CONDITION_LENGTH,
  type PathOperand,
} from '../condition/index.js';
import type { TagIndex } from './tag-index.js';

export interface TargetCandidate {
  expression: Expression;
  /** The condition's text, as the resource will hold it. */
  text: string;
  /** What it selects, for the resource's name: ['site', 'ams-dc1'], ['environment', 'lab', 'and', 'site', 'x']. */
  words: string[];
}

/** A set of devices to target. */
export interface WantedDevices {
  /** Device indices, ascending. */
  members: readonly number[];
  isMember(device: number): boolean;
}

/** Longest IN list tried: beyond that a list of values reads worse than a list of devices. */
export const MAX_IN_VALUES = 16;
/** Most devices a condition may leave out by `deviceId NIN [...]`. */
export const MAX_EXCEPTIONS = 50;

interface Atom {
  path: number;
  value: number;
}

interface Spread {
  path: number;
  values: number[];
}

interface Shape {
  /** Paths every member defines. */
  defined: number[];
  /** A tag value every member carries. */
  atoms: Atom[];
  /** Paths every member defines with a comparable value, two to MAX_IN_VALUES values in all. */
  spreads: Spread[];
}

const DEVICE_ID: PathOperand = { kind: 'path', segments: ['deviceId'] };
const ALL_DEVICES: Expression = { kind: 'isDefined', path: DEVICE_ID };

function shapeOf(tags: TagIndex, members: readonly number[]): Shape {
  const counts = new Map<number, Map<number, number>>();
  for (const device of members) {
    const pairs = tags.fleet.tagPairs(device);
    for (let i = 0; i < pairs.length; i += 2) {
      let byValue = counts.get(pairs[i]);
      if (!byValue) {
        byValue = new Map();
        counts.set(pairs[i], byValue);
      }
      byValue.set(pairs[i + 1], (byValue.get(pairs[i + 1]) ?? 0) + 1);
    }
  }
  const shape: Shape = { defined: [], atoms: [], spreads: [] };
  for (const [path, byValue] of counts) {
    let total = 0;
    for (const count of byValue.values()) total += count;
    if (total !== members.length || tags.operand(path) === undefined) continue;
    shape.defined.push(path);
    const values = [...byValue.keys()];
    if (!values.every((v) => tags.comparable(v) !== undefined)) continue;
    if (values.length === 1) shape.atoms.push({ path, value: values[0] });
    else if (values.length <= MAX_IN_VALUES) shape.spreads.push({ path, values: sortedValues(tags, values) });
  }
  return shape;
}

function sortedValues(tags: TagIndex, values: number[]): number[] {
  const text = (v: number) => JSON.stringify(tags.comparable(v));
  return values.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

function equals(tags: TagIndex, { path, value }: Atom): Expression {
  return {
    kind: 'compare',
    operator: '=',
    left: tags.operand(path)!,
    right: { kind: 'literal', value: tags.comparable(value)! },
  };
}

function within(tags: TagIndex, { path, values }: Spread): Expression {
  return { kind: 'in', path: tags.operand(path)!, values: values.map((v) => tags.comparable(v)!) };
}

function atomWords(tags: TagIndex, atom: Atom): string[] {
  return [...tags.pathWords(atom.path), String(tags.comparable(atom.value))];
}

function spreadWords(tags: TagIndex, spread: Spread): string[] {
  const values = spread.values.flatMap((v, i) => (i === 0 ? [] : ['or']).concat(String(tags.comparable(v))));
  return [...tags.pathWords(spread.path), ...values];
}

function candidate(expression: Expression, words: string[]): TargetCandidate | undefined {
  const text = formatCondition(expression);
  return text.length <= MAX_CONDITION_LENGTH ? { expression, text, words } : undefined;
}

/** Shortest text first, then by text: the same fleet always gives the same condition. */
function byText(a: TargetCandidate, b: TargetCandidate): number {
  return a.text.length - b.text.length || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
}

function ordered(candidates: (TargetCandidate | undefined)[]): TargetCandidate[] {
  return candidates.filter((c): c is TargetCandidate => c !== undefined).sort(byText);
}

/** One flat AND, as the parser reads `a AND b AND c` (a nested one would be written with parentheses). */
function and(a: Expression, b: Expression): Expression {
  const operands = (e: Expression) => (e.kind === 'and' ? e.operands : [e]);
  return { kind: 'and', operands: [...operands(a), ...operands(b)] };
}

function countWithin(tags: TagIndex, spread: Spread): number {
  let count = 0;
  for (const value of spread.values) count += tags.carrying(spread.path, value).length;
  return count;
}

function* filtered(devices: readonly number[], keep: (device: number) => boolean): Generator<number> {
  for (const device of devices) if (keep(device)) yield device;
}

/** A tag selection every member of the set satisfies: the set exactly when it selects nothing else. */
interface Selection {
  /** Its kind, simplest first: all devices, a tag value, IS_DEFINED, two values, IN, a value AND IN. */
  rank: number;
  expression: Expression;
  words: string[];
  /** Devices of the hub it selects, by the index. */
  size: number;
  devices(): Iterable<number>;
}

/** The selections of each kind, by rank, each computed when first asked for (an exact one usually ends the search). */
function selections(tags: TagIndex, wanted: WantedDevices): (() => Selection[])[] {
  const { defined, atoms, spreads } = shapeOf(tags, wanted.members);
  const byPath = (x: Atom, y: Atom) => (tags.fleet.paths[x.path] < tags.fleet.paths[y.path] ? -1 : 1);
  const kinds: (() => Selection[])[] = [
    () => [
      {
        rank: 0,
        expression: ALL_DEVICES,
        words: ['all', 'devices'],
        size: tags.hubSize,
        devices: () => tags.devices,
      },
    ],
    () =>
      atoms.map((atom) => {
        const devices = tags.carrying(atom.path, atom.value);
        return {
          rank: 1,
          expression: equals(tags, atom),
          words: atomWords(tags, atom),
          size: devices.length,
          devices: () => devices,
        };
      }),
    () =>
      defined.map((path) => ({
        rank: 2,
        expression: { kind: 'isDefined', path: tags.operand(path)! },
        words: ['with', ...tags.pathWords(path)],
        size: tags.definedCount(path),
        devices: () => tags.definedOn(path),
      })),
    () =>
      atoms.flatMap((first, i) =>
        atoms.slice(i + 1).map((second) => {
          const [a, b] = [first, second].sort(byPath);
          const [rarer, other] =
            tags.carrying(a.path, a.value).length <= tags.carrying(b.path, b.value).length ? [a, b] : [b, a];
          const both = (device: number) => tags.fleet.valueAt(device, other.path) === other.value;
          return {
            rank: 3,
            expression: and(equals(tags, a), equals(tags, b)),
            words: [...atomWords(tags, a), 'and', ...atomWords(tags, b)],
            size: countOf(tags.carrying(rarer.path, rarer.value), both),
            devices: () => filtered(tags.carrying(rarer.path, rarer.value), both),
          };
        }),
      ),
    () =>
      spreads.map((spread) => ({
        rank: 4,
        expression: within(tags, spread),
        words: spreadWords(tags, spread),
        size: countWithin(tags, spread),
        devices: () => allOf(tags, spread),
      })),
    () =>
      atoms.flatMap((atom) =>
        spreads.map((spread) => {
          const values = new Set(spread.values);
          const inside = (device: number) => values.has(tags.fleet.valueAt(device, spread.path));
          return {
            rank: 5,
            expression: and(equals(tags, atom), within(tags, spread)),
            words: [...atomWords(tags, atom), 'and', ...spreadWords(tags, spread)],
            size: countOf(tags.carrying(atom.path, atom.value), inside),
            devices: () => filtered(tags.carrying(atom.path, atom.value), inside),
          };
        }),
      ),
  ];
  return kinds.map((kind) => {
    let found: Selection[] | undefined;
    return () => {
      found ??= kind();
      return found;
    };
  });
}

function countOf(devices: readonly number[], keep: (device: number) => boolean): number {
  let count = 0;
  for (const device of devices) if (keep(device)) count++;
  return count;
}

function* allOf(tags: TagIndex, spread: Spread): Generator<number> {
  for (const value of spread.values) yield* tags.carrying(spread.path, value);
}

/**
 * The devices a selection takes beyond the set, sorted, when they are few: at most MAX_EXCEPTIONS, and fewer
 * than the set's own devices (else a list of the set reads better).
 */
function exceptions(selection: Selection, wanted: WantedDevices, tags: TagIndex): string[] | undefined {
  const extra = selection.size - wanted.members.length;
  if (extra < 1 || extra > MAX_EXCEPTIONS || extra >= wanted.members.length) return undefined;
  const ids: string[] = [];
  for (const device of selection.devices())
    if (!wanted.isMember(device)) ids.push(tags.fleet.deviceIds[device]);
  return ids.length === extra ? ids.sort() : undefined;
}

function butThese(selection: Selection, ids: string[]): TargetCandidate | undefined {
  const nin: Expression = { kind: 'nin', path: DEVICE_ID, values: ids as LiteralValue[] };
  const expression = selection.rank === 0 ? nin : and(selection.expression, nin);
  return candidate(expression, [...selection.words, 'except', String(ids.length)]);
}

/**
 * Candidate conditions for a set of devices, best first: the selections that give exactly the set by the
 * index's counts, simplest kind first; then those that give it but for a few devices, fewest first.
 */
export function* targetCandidates(tags: TagIndex, wanted: WantedDevices): Generator<TargetCandidate> {
  const n = wanted.members.length;
  if (n === 0) return;
  const kinds = selections(tags, wanted);
  for (const kind of kinds)
    yield* ordered(
      kind()
        .filter((s) => s.size === n)
        .map((s) => candidate(s.expression, s.words)),
    );
  const excepting: { candidate: TargetCandidate; left: number; rank: number }[] = [];
  for (const selection of kinds.flatMap((kind) => kind())) {
    const ids = exceptions(selection, wanted, tags);
    const excepted = ids && butThese(selection, ids);
    if (excepted) excepting.push({ candidate: excepted, left: ids.length, rank: selection.rank });
  }
  excepting.sort((a, b) => a.left - b.left || a.rank - b.rank || byText(a.candidate, b.candidate));
  for (const { candidate: excepted } of excepting) yield excepted;
}
