import type { Membership } from './ast.js';

/**
 * `deviceId IN [...]`: the hub has no join between devices and devices.modules, so module queries are
 * narrowed by device id (query-twins.md, "Module twin queries"). Duplicates are dropped, order is kept.
 * Formatting escapes every id, so ids with quotes or backslashes yield valid query text. Callers keep each
 * batch small enough that the whole query stays within `MAX_QUERY_LENGTH`.
 */
export function conditionFromDeviceIds(ids: readonly string[]): Membership {
  const values = [...new Set(ids)];
  if (values.length === 0) {
    throw new RangeError(
      'conditionFromDeviceIds needs at least one device id: the hub rejects an empty IN list',
    );
  }
  return { kind: 'in', path: { kind: 'path', segments: ['deviceId'] }, values };
}
