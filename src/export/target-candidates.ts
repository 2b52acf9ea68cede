// Tag selections that may give exactly a group of devices, simplest first: one tag value, IS_DEFINED of a tag,
// two tag values, one tag IN a list, a tag value AND a tag IN a list, then any of these but a few devices
// (`AND deviceId NIN [...]`). The tag index counts the devices each selects: a candidate is yielded only when
// the count says it selects the group and nothing else; the condition evaluator has the last word (targets.ts).
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

function pathWords(tags: TagIndex, path: number): string[] {
  return tags.fleet.paths[path].split('.');
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
  return [...pathWords(tags, atom.path), String(tags.comparable(atom.value))];
}

function spreadWords(tags: TagIndex, spread: Spread): string[] {
  const values = spread.values.flatMap((v, i) => (i === 0 ? [] : ['or']).concat(String(tags.comparable(v))));
  return [...pathWords(tags, spread.path), ...values];
}

function candidate(expression: Expression, words: string[]): TargetCandidate | undefined {
  const text = formatCondition(expression);
  return text.length <= MAX_CONDITION_LENGTH ? { expression, text, words } : undefined;
}

/** Shortest text first, then by text: the same fleet always gives the same condition. */
function ordered(candidates: (TargetCandidate | undefined)[]): TargetCandidate[] {
  return candidates
    .filter((c): c is TargetCandidate => c !== undefined)
    .sort((a, b) => a.text.length - b.text.length || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}

function and(a: Expression, b: Expression): Expression {
  return { kind: 'and', operands: [a, b] };
}

/** How many devices carry both tag values (every member does: the group is exactly them when it is n). */
function countBoth(tags: TagIndex, a: Atom, b: Atom): number {
  const [first, second] =
    tags.carrying(a.path, a.value).length <= tags.carrying(b.path, b.value).length ? [a, b] : [b, a];
  let count = 0;
  for (const device of tags.carrying(first.path, first.value))
    if (tags.fleet.valueAt(device, second.path) === second.value) count++;
  return count;
}

function countWithin(tags: TagIndex, spread: Spread): number {
  let count = 0;
  for (const value of spread.values) count += tags.carrying(spread.path, value).length;
  return count;
}

function countAtomWithin(tags: TagIndex, atom: Atom, spread: Spread): number {
  const values = new Set(spread.values);
  let count = 0;
  for (const device of tags.carrying(atom.path, atom.value))
    if (values.has(tags.fleet.valueAt(device, spread.path))) count++;
  return count;
}

/** The devices of `selected` outside the group, or undefined when there are more than MAX_EXCEPTIONS. */
function exceptions(
  selected: Iterable<number>,
  size: number,
  wanted: WantedDevices,
  tags: TagIndex,
): string[] | undefined {
  const extra = size - wanted.members.length;
  if (extra < 1 || extra > MAX_EXCEPTIONS) return undefined;
  const ids: string[] = [];
  for (const device of selected) if (!wanted.isMember(device)) ids.push(tags.fleet.deviceIds[device]);
  return ids.length === extra ? ids.sort() : undefined;
}

function* allOf(tags: TagIndex, spread: Spread): Generator<number> {
  for (const value of spread.values) yield* tags.carrying(spread.path, value);
}

function butThese(base: Expression | undefined, ids: string[], words: string[]): TargetCandidate | undefined {
  const nin: Expression = { kind: 'nin', path: DEVICE_ID, values: ids as LiteralValue[] };
  return candidate(base ? and(base, nin) : nin, [...words, 'except', String(ids.length)]);
}

/** Candidate conditions for a set of devices, best first; each selects exactly it by the tag index's counts. */
export function* targetCandidates(tags: TagIndex, wanted: WantedDevices): Generator<TargetCandidate> {
  const n = wanted.members.length;
  if (n === 0) return;
  if (n === tags.hubSize) yield candidate(ALL_DEVICES, ['all', 'devices'])!;
  const { defined, atoms, spreads } = shapeOf(tags, wanted.members);
  yield* ordered(
    atoms
      .filter((a) => tags.carrying(a.path, a.value).length === n)
      .map((a) => candidate(equals(tags, a), atomWords(tags, a))),
  );
  yield* ordered(
    defined
      .filter((p) => tags.definedCount(p) === n)
      .map((p) => candidate({ kind: 'isDefined', path: tags.operand(p)! }, ['with', ...pathWords(tags, p)])),
  );
  const pairs: (TargetCandidate | undefined)[] = [];
  for (let i = 0; i < atoms.length; i++)
    for (let j = i + 1; j < atoms.length; j++)
      if (countBoth(tags, atoms[i], atoms[j]) === n) {
        const [a, b] = [atoms[i], atoms[j]].sort((x, y) =>
          tags.fleet.paths[x.path] < tags.fleet.paths[y.path] ? -1 : 1,
        );
        pairs.push(
          candidate(and(equals(tags, a), equals(tags, b)), [
            ...atomWords(tags, a),
            'and',
            ...atomWords(tags, b),
          ]),
        );
      }
  yield* ordered(pairs);
  yield* ordered(
    spreads
      .filter((s) => countWithin(tags, s) === n)
      .map((s) => candidate(within(tags, s), spreadWords(tags, s))),
  );
  const mixed: (TargetCandidate | undefined)[] = [];
  for (const atom of atoms)
    for (const spread of spreads)
      if (countAtomWithin(tags, atom, spread) === n)
        mixed.push(
          candidate(and(equals(tags, atom), within(tags, spread)), [
            ...atomWords(tags, atom),
            'and',
            ...spreadWords(tags, spread),
          ]),
        );
  yield* ordered(mixed);
  // Any of the above but a few devices: the fewest left out first.
  const excepting: { candidate: TargetCandidate | undefined; left: number }[] = [];
  const consider = (
    base: Expression | undefined,
    words: string[],
    selected: Iterable<number>,
    size: number,
  ) => {
    const ids = exceptions(selected, size, wanted, tags);
    if (ids) excepting.push({ candidate: butThese(base, ids, words), left: ids.length });
  };
  consider(undefined, ['all', 'devices'], tags.devices, tags.hubSize);
  for (const atom of atoms)
    consider(
      equals(tags, atom),
      atomWords(tags, atom),
      tags.carrying(atom.path, atom.value),
      tags.carrying(atom.path, atom.value).length,
    );
  for (const spread of spreads)
    consider(within(tags, spread), spreadWords(tags, spread), allOf(tags, spread), countWithin(tags, spread));
  const fewest = Math.min(...excepting.map((e) => e.left));
  yield* ordered(excepting.filter((e) => e.left === fewest).map((e) => e.candidate));
}
