// "Did you mean ...?" (src/validation/suggest.ts) over names from a model or schema, which may be many and long:
// only candidates whose length could be close enough are compared, and only so many, so that a hostile model
// cannot make each suggestion cost billions of steps.
import { didYouMean as suggest } from '../validation/suggest.js';

const MAX_NAME_LENGTH = 64;
const MAX_CANDIDATES = 500;

export function didYouMean(input: string, candidates: readonly string[]): string {
  if (input.length > MAX_NAME_LENGTH) return '';
  const near: string[] = [];
  for (const candidate of candidates) {
    // closestName accepts a distance up to max(2, length / 3), and the distance is at least the length difference.
    const allowed = Math.max(2, Math.floor(candidate.length / 3));
    if (candidate.length <= MAX_NAME_LENGTH && Math.abs(candidate.length - input.length) <= allowed) {
      near.push(candidate);
      if (near.length === MAX_CANDIDATES) break;
    }
  }
  return suggest(input, near);
}

/** "a, b and c", or how many there are when they are too many to list. */
export function listNames(names: readonly string[], noun: string): string {
  return names.length <= 12 ? names.join(', ') : `${names.length} ${noun}`;
}
