// A target for each set of devices: the first candidate condition that the project's own evaluator, run on every
// device of the hub, finds to select exactly that set; else the set's device ids, in lists the schema allows.
import { compileCondition, parseCondition, type TwinPredicate } from '../condition/index.js';
import type { TagIndex } from './tag-index.js';
import { type TargetCandidate, targetCandidates, type WantedDevices } from './target-candidates.js';

export type ChosenTarget =
  | { kind: 'condition'; condition: string; words: string[] }
  /** One list when it fits the schema's limit, else several (each a resource of its own). */
  | { kind: 'deviceIds'; lists: string[][] };

/** `spec.target.deviceIds` holds at most this many ids (schemas/securitymoduleconfig.schema.json). */
export const MAX_LISTED_DEVICES = 10_000;
/** Candidates tried per set before its devices are listed (each try is one pass over the hub). */
const MAX_ROUNDS = 4;
/** Sets searched for a condition, the largest first: a fleet of thousands of configurations gets lists. */
export const MAX_SEARCHED_SETS = 200;

export interface TargetChoice {
  targets: ChosenTarget[];
  /** Sets not searched for a condition because there were more than MAX_SEARCHED_SETS. */
  unsearched: number;
}

interface Trial {
  set: number;
  predicate: TwinPredicate;
  candidate: TargetCandidate;
  exact: boolean;
}

/** The next candidate the grammar accepts as sync will read it, compiled; undefined when none is left. */
function nextTrial(set: number, candidates: Iterator<TargetCandidate>): Trial | undefined {
  for (let next = candidates.next(); !next.done; next = candidates.next()) {
    const parsed = parseCondition(next.value.text, { dialect: 'deviceTarget' });
    if (parsed.ok)
      return { set, predicate: compileCondition(parsed.expression), candidate: next.value, exact: true };
  }
  return undefined;
}

function deviceLists(tags: TagIndex, wanted: WantedDevices): ChosenTarget {
  const ids = wanted.members.map((device) => tags.fleet.deviceIds[device]).sort();
  const lists: string[][] = [];
  for (let start = 0; start < ids.length; start += MAX_LISTED_DEVICES)
    lists.push(ids.slice(start, start + MAX_LISTED_DEVICES));
  return { kind: 'deviceIds', lists };
}

export function chooseTargets(tags: TagIndex, wanted: readonly WantedDevices[]): TargetChoice {
  const bySize = wanted
    .map((w, set) => ({ set, size: w.members.length }))
    .sort((a, b) => b.size - a.size || a.set - b.set);
  const searched = new Set(bySize.slice(0, MAX_SEARCHED_SETS).map((s) => s.set));
  const candidates = new Map<number, Iterator<TargetCandidate>>();
  for (const set of searched) candidates.set(set, targetCandidates(tags, wanted[set]));
  const chosen = new Map<number, ChosenTarget>();
  for (let round = 0; round < MAX_ROUNDS && candidates.size > 0; round++) {
    const trials: Trial[] = [];
    for (const [set, iterator] of candidates) {
      const trial = nextTrial(set, iterator);
      if (trial) trials.push(trial);
      else candidates.delete(set);
    }
    if (trials.length === 0) break;
    // One pass over the hub for every trial of the round; each device is rebuilt once.
    for (const device of tags.devices) {
      const twin = tags.fleet.twinDocument(device);
      for (const trial of trials)
        if (trial.exact && trial.predicate(twin) !== wanted[trial.set].isMember(device)) trial.exact = false;
    }
    for (const trial of trials) {
      if (!trial.exact) continue;
      const { text, words } = trial.candidate;
      chosen.set(trial.set, { kind: 'condition', condition: text, words });
      candidates.delete(trial.set);
    }
  }
  return {
    targets: wanted.map((w, set) => chosen.get(set) ?? deviceLists(tags, w)),
    unsearched: wanted.length - searched.size,
  };
}
