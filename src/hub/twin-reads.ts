// How to read the twins of a slot (a module, or the device twins): the queries, and how to re-read the twins of
// some devices: `deviceId IN [...]` queries or one GET each, whichever uses less of the hub's quotas. On S1 a
// query costs 3 s of the query quota (20/min) and a GET 10 ms of the read quota (100/s), so GETs win below about
// 300 devices per query; GETs are also never stale.
import {
  conditionFromDeviceIds,
  type Expression,
  formatCondition,
  MAX_QUERY_LENGTH,
} from '../condition/index.js';
import { DEVICE_TWIN, type TwinSlot } from '../twins/types.js';
import { type HubRateLimits, quotaCostMs } from './rate-limits.js';

/** The hub returns at most 1,000 items per query page, whatever the client asks for. */
export const MAX_QUERY_PAGE_SIZE = 1000;

export const DEVICES_QUERY = 'SELECT * FROM devices';

function moduleCondition(moduleId: string): Expression {
  return {
    kind: 'compare',
    operator: '=',
    left: { kind: 'path', segments: ['moduleId'] },
    right: { kind: 'literal', value: moduleId },
  };
}

/** Every twin of the slot in the hub. */
export function twinsQuery(slot: TwinSlot): string {
  if (slot === DEVICE_TWIN) return DEVICES_QUERY;
  return `SELECT * FROM devices.modules WHERE ${formatCondition(moduleCondition(slot))}`;
}

/** The twins of the slot of some devices; ids are escaped by the condition formatter. */
export function twinsOfDevicesQuery(slot: TwinSlot, deviceIds: readonly string[]): string {
  if (slot === DEVICE_TWIN)
    return `${DEVICES_QUERY} WHERE ${formatCondition(conditionFromDeviceIds(deviceIds))}`;
  const condition: Expression = {
    kind: 'and',
    operands: [moduleCondition(slot), conditionFromDeviceIds(deviceIds)],
  };
  return `SELECT * FROM devices.modules WHERE ${formatCondition(condition)}`;
}

/**
 * Device ids in batches whose query stays within the hub's query length and one page of results. Throws a
 * RangeError for an id that alone makes the query too long (the hub caps ids at 128 characters, so it cannot).
 */
export function queryBatches(
  slot: TwinSlot,
  deviceIds: readonly string[],
  maxQueryLength = MAX_QUERY_LENGTH,
): string[][] {
  // Lengths add up: the query around the list, each quoted id, and ", " between ids.
  const frame = twinsOfDevicesQuery(slot, ['']).length - "''".length;
  const literalLength = (id: string) => twinsOfDevicesQuery(slot, [id]).length - frame;
  const batches: string[][] = [];
  let batch: string[] = [];
  let length = frame;
  for (const id of new Set(deviceIds)) {
    const added = literalLength(id) + (batch.length > 0 ? 2 : 0);
    if (batch.length < MAX_QUERY_PAGE_SIZE && length + added <= maxQueryLength) {
      batch.push(id);
      length += added;
      continue;
    }
    if (batch.length > 0) batches.push(batch);
    batch = [id];
    length = frame + literalLength(id);
    if (length > maxQueryLength)
      throw new RangeError(`device id ${JSON.stringify(id)} makes a query too long`);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** One GET per device, `deviceId IN [...]` queries, or the pages of every twin of the slot. */
export type TwinReadStrategy = 'get' | 'query' | 'all';

/**
 * Whichever uses the least quota time: GETs (ties go to them, they are never stale), `IN` queries, or, when the
 * devices are much of the fleet, the plain pages of every twin of the slot (`allPages` of them).
 */
export function chooseTwinReadStrategy(
  deviceCount: number,
  queryCount: number,
  limits: Pick<HubRateLimits, 'twinRead' | 'query'>,
  allPages = Number.POSITIVE_INFINITY,
): TwinReadStrategy {
  const getsMs = deviceCount * quotaCostMs(limits.twinRead);
  const queriesMs = Math.min(queryCount, allPages) * quotaCostMs(limits.query);
  if (getsMs <= queriesMs) return 'get';
  return allPages < queryCount ? 'all' : 'query';
}
