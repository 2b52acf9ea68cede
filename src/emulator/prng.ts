// A small seeded PRNG (mulberry32) so `--seed` reproduces fleets, keys and fault sequences.

export type Random = () => number;

/** 32-bit FNV-1a of a string; used to give each purpose its own stream from one seed. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Numbers uniform in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent stream for one purpose (`fleet`, `faults`, ...) of a seed. */
export function streamFor(seed: number, purpose: string): Random {
  return mulberry32(hash32(purpose, hash32(String(seed))));
}

/** A stable number in [0, 1) for a key, e.g. whether a given device's agent writes lower case. */
export function unitFor(seed: number, key: string): number {
  return mulberry32(hash32(key, hash32(String(seed))))();
}

export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function randomBytes(random: Random, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** Picks from `[value, weight]` pairs. */
export function weightedPick<T>(random: Random, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let point = random() * total;
  for (const [value, weight] of choices) {
    point -= weight;
    if (point < 0) return value;
  }
  return choices[choices.length - 1][0];
}
