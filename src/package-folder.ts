// Folders that ship with the package (schemas/, examples/), found from any module both under src/ (tsx) and
// under dist/src/ (the built command line).
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest `name` folder above this module that holds a file `isMarker` accepts. */
export function packageFolder(name: string, isMarker: (file: string) => boolean): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, name);
    try {
      if (readdirSync(candidate).some(isMarker)) return candidate;
    } catch {
      // not here; look one level up
    }
    dir = dirname(dir);
  }
  throw new Error(`cannot find the ${name}/ folder of iot-security-operator`);
}
