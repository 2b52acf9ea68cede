// The version `--version` prints: the one in the package's package.json, read when asked, found by walking up
// from this module (src/cli/ under tsx, dist/src/cli/ when built, the same below node_modules when installed).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'iot-security-operator';

/** The version of the nearest package.json named PACKAGE_NAME above `moduleUrl`. */
export function packageVersion(moduleUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const version = versionIn(join(dir, 'package.json'));
    if (version !== undefined) return version;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package.json of ${PACKAGE_NAME}`);
    dir = parent;
  }
}

/** The version in `file` when it is this package's manifest. */
function versionIn(file: string): string | undefined {
  let manifest: { name?: unknown; version?: unknown };
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // Missing, unreadable or not JSON: not ours; look further up.
    return undefined;
  }
  return manifest?.name === PACKAGE_NAME && typeof manifest.version === 'string'
    ? manifest.version
    : undefined;
}
