// How to re-read the module twins of some devices: `deviceId IN [...]` queries or one GET each, whichever
// uses less of the hub's quotas. On S1 a query costs 3 s of the query quota (20/min) and a GET 10 ms of the
// read quota (100/s), so GETs win below about 300 devices per query; GETs are also never stale.
import { SECURITY_MODULE_ID } from '../profiles/security-agent/settings.js';
import {
  conditionFromDeviceIds,
  type Expression,
  formatCondition,
  MAX_QUERY_LENGTH,
} from '../condition/index.js';
import { type HubRateLimits, quotaCostMs } from './rate-limits.js';

/** The hub returns at most 1,000 items per query page, whatever the client asks for. */
export const MAX_QUERY_PAGE_SIZE = 1000;

export const DEVICES_QUERY = 'SELECT * FROM devices';

const MODULE_CONDITION: Expression = {
  kind: 'compare',
  operator: '=',
  left: { kind: 'path', segments: ['moduleId'] },
  right: { kind: 'literal', value: SECURITY_MODULE_ID },
};

/** Every security module twin of the hub. */
export const SECURITY_MODULES_QUERY = `SELECT * FROM devices.modules WHERE ${formatCondition(MODULE_CONDITION)}`;

/** The security module twins of some devices; ids are escaped by the condition formatter. */
export function securityModulesOfDevicesQuery(deviceIds: readonly string[]): string {
  const condition: Expression = {
    kind: 'and',
    operands: [MODULE_CONDITION, conditionFromDeviceIds(deviceIds)],
  };
  return `SELECT * FROM devices.modules WHERE ${formatCondition(condition)}`;
}

/**
 * Device ids in batches whose query stays within the hub's query length and one page of results. Throws a
 * RangeError for an id that alone makes the query too long (the hub caps ids at 128 characters, so it cannot).
 */
export function moduleQueryBatches(
  deviceIds: readonly string[],
  maxQueryLength = MAX_QUERY_LENGTH,
): string[][] {
  // Lengths add up: the query around the list, each quoted id, and ", " between ids.
  const frame = securityModulesOfDevicesQuery(['']).length - "''".length;
  const literalLength = (id: string) => securityModulesOfDevicesQuery([id]).length - frame;
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

/** One GET per device, `deviceId IN [...]` queries, or the pages of every security module twin of the hub. */
export type ModuleReadStrategy = 'get' | 'query' | 'all';

/**
 * Whichever uses the least quota time: GETs (ties go to them, they are never stale), `IN` queries, or, when the
 * devices are much of the fleet, the plain pages of every module twin (`allPages` of them).
 */
export function chooseModuleReadStrategy(
  deviceCount: number,
  queryCount: number,
  limits: Pick<HubRateLimits, 'twinRead' | 'query'>,
  allPages = Number.POSITIVE_INFINITY,
): ModuleReadStrategy {
  const getsMs = deviceCount * quotaCostMs(limits.twinRead);
  const queriesMs = Math.min(queryCount, allPages) * quotaCostMs(limits.query);
  if (getsMs <= queriesMs) return 'get';
  return allPages < queryCount ? 'all' : 'query';
}
