// Resource names from what a resource selects (`site-ams-dc1`, `environment-lab-and-site-x`,
// `devices-dev-17-and-4-more`): valid Kubernetes names (DNS-1123), short enough to read and to use as label
// values, unique within the export.
import { createHash } from 'node:crypto';

/** A DNS-1123 label's length: the schema allows 253, but names this long already stop reading as names. */
export const MAX_NAME_LENGTH = 63;
const HASH_LENGTH = 8;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);
}

/**
 * A name from words: lower case, anything but letters and digits becomes '-', runs of '-' collapse. A name
 * cut to the length limit ends with a hash of the whole text, so that two long selections stay apart; words
 * that leave nothing (a value in another script) become `group-<hash>`.
 */
export function nameFromWords(words: readonly string[]): string {
  const text = words.join('-');
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (name === '') return `group-${shortHash(text)}`;
  if (name.length <= MAX_NAME_LENGTH) return name;
  const kept = name.slice(0, MAX_NAME_LENGTH - HASH_LENGTH - 1).replace(/-+$/, '');
  return `${kept}-${shortHash(text)}`;
}

/** The words of a device list's name: `device-<id>` or `devices-<first>-and-<n>-more`. */
export function deviceListWords(ids: readonly string[]): string[] {
  return ids.length === 1 ? ['device', ids[0]] : ['devices', ids[0], 'and', String(ids.length - 1), 'more'];
}

/**
 * The names in the order given, a repeat (or a name in `reserved`) made unique with `-2`, `-3`, ...: callers
 * give them in a stable order, so the same fleet gets the same names.
 */
export function uniqueNames(names: readonly string[], reserved: readonly string[] = []): string[] {
  const taken = new Set(reserved);
  return names.map((name) => {
    let unique = name;
    for (let n = 2; taken.has(unique); n++) {
      const suffix = `-${n}`;
      unique = `${name.slice(0, MAX_NAME_LENGTH - suffix.length).replace(/-+$/, '')}${suffix}`;
    }
    taken.add(unique);
    return unique;
  });
}
