import type { TwinDocument } from './evaluate.js';
import { compileEntryLookup } from './twin-path.js';

export type Projection = (twin: TwinDocument) => Record<string, unknown>;

/**
 * What the hub returns for `SELECT a.b, c FROM ...`: each defined field under its last key, spelled as in
 * the twin (query-twins.md: `SELECT DeviceId, LastActivityTime` yields `deviceId` and `lastActivityTime`).
 * Fields the twin does not define are left out.
 */
export function compileProjection(paths: readonly string[]): Projection {
  const lookups = paths.map((path) => compileEntryLookup(path.split('.')));
  return (twin) => {
    const row: Record<string, unknown> = {};
    for (const lookup of lookups) {
      const entry = lookup(twin);
      // defineProperty, so a twin key named __proto__ becomes data rather than the row's prototype.
      if (entry !== undefined) {
        Object.defineProperty(row, entry.key, {
          value: entry.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    return row;
  };
}

export function projectFields(twin: TwinDocument, paths: readonly string[]): Record<string, unknown> {
  return compileProjection(paths)(twin);
}
