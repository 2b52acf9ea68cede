// POST /devices/query: SELECT over devices or devices.modules, paged with x-ms-max-item-count and an opaque
// x-ms-continuation. Queries read the store's lagged view, so with a query lag they trail the writes.
import {
  compileCondition,
  compileProjection,
  type HubQuery,
  parseQuery,
  type TwinPredicate,
} from '../condition/index.js';
import { hubErrors } from './errors.js';
import { hash32 } from './prng.js';
import { compareIds, type IdentityRecord, type RegistryStore } from './registry-store.js';
import type { JsonObject } from './twin-document.js';
import { queryDocument, type TwinState } from './twin-state.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export type QueryItemType = 'twin' | 'raw';

export interface QueryPage {
  items: unknown[];
  itemType: QueryItemType;
  /** Absent on the last page. */
  continuation?: string;
}

export type TwinRenderer = (record: IdentityRecord, state: TwinState) => JsonObject;

interface Position {
  deviceId: string;
  moduleId?: string;
}

interface Token extends Position {
  queryHash: number;
}

function encodeToken(token: Token): string {
  const payload = JSON.stringify({ q: token.queryHash, d: token.deviceId, m: token.moduleId });
  return Buffer.from(payload).toString('base64');
}

function decodeToken(text: string, queryHash: number): Position {
  try {
    const payload = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as {
      q: number;
      d: string;
      m?: string;
    };
    if (payload.q === queryHash && typeof payload.d === 'string')
      return { deviceId: payload.d, moduleId: payload.m };
  } catch {
    // reported below
  }
  throw hubErrors.argumentInvalid('The continuation token is not valid for this query');
}

/** A parsed page size header: the hub's default when absent, capped at its maximum. */
export function pageSizeOf(header: string | undefined): number {
  if (header === undefined || header === '') return DEFAULT_PAGE_SIZE;
  const size = Number(header);
  if (!Number.isInteger(size) || size < 1)
    throw hubErrors.argumentInvalid(`x-ms-max-item-count ${header} is not valid`);
  return Math.min(size, MAX_PAGE_SIZE);
}

/** The first index of a sorted array whose id is after `id`. */
function indexAfter(ids: readonly string[], id: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareIds(ids[mid], id) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

interface Candidate {
  record: IdentityRecord;
  state: TwinState;
}

export class QueryEngine {
  constructor(
    private readonly store: RegistryStore,
    private readonly render: TwinRenderer,
  ) {}

  /** Parses a query and throws the hub's 400 when it is not valid. */
  parse(text: unknown): HubQuery {
    if (typeof text !== 'string' || text.trim() === '') throw hubErrors.argumentNull('query');
    const parsed = parseQuery(text);
    if (!parsed.ok) throw hubErrors.argumentInvalid(`Query is not valid: ${parsed.error.message}`);
    return parsed.query;
  }

  run(text: unknown, options: { pageSize?: number; continuation?: string } = {}): QueryPage {
    const query = this.parse(text);
    const queryHash = hash32(String(text));
    const predicate = query.where ? compileCondition(query.where) : undefined;
    const now = this.store.now();
    const matches = (candidate: Candidate) =>
      !predicate || predicate(queryDocument(candidate.record, candidate.state) as Record<string, unknown>);

    if (query.select !== '*' && !Array.isArray(query.select)) {
      let count = 0;
      for (const candidate of this.candidates(query, undefined, now)) if (matches(candidate)) count++;
      return { items: [{ [(query.select as { count: string }).count]: count }], itemType: 'raw' };
    }

    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    const start = options.continuation ? decodeToken(options.continuation, queryHash) : undefined;
    const project = query.select === '*' ? undefined : compileProjection(query.select as readonly string[]);
    const items: unknown[] = [];
    let last: Candidate | undefined;
    for (const candidate of this.candidates(query, start, now)) {
      if (!matches(candidate)) continue;
      if (items.length === pageSize) {
        // One more match exists: the client gets a token for the next page.
        return { items, itemType: project ? 'raw' : 'twin', continuation: this.tokenAfter(last!, queryHash) };
      }
      const twin = this.render(candidate.record, candidate.state);
      items.push(project ? project(twin as Record<string, unknown>) : twin);
      last = candidate;
    }
    return { items, itemType: project ? 'raw' : 'twin' };
  }

  /** Device ids a condition selects among device twins (for jobs), as queries see them now. */
  selectDeviceIds(predicate: TwinPredicate | undefined): string[] {
    const ids: string[] = [];
    const now = this.store.now();
    for (const { record, state } of this.candidates({ select: '*', from: 'devices' }, undefined, now)) {
      if (!predicate || predicate(queryDocument(record, state) as Record<string, unknown>))
        ids.push(record.deviceId);
    }
    return ids;
  }

  private tokenAfter(candidate: Candidate, queryHash: number): string {
    return encodeToken({
      queryHash,
      deviceId: candidate.record.deviceId,
      moduleId: candidate.record.moduleId,
    });
  }

  /** Identities of the collection in paging order, starting after `start`, with what queries see of them. */
  private *candidates(
    query: HubQuery,
    start: Position | undefined,
    now: number,
  ): IterableIterator<Candidate> {
    const ids = this.store.orderedDeviceIds();
    const modules = query.from === 'devices.modules';
    // Resume inside the device of the last module returned, or after the last device returned.
    let index = start ? (modules ? indexAfter(ids, start.deviceId) - 1 : indexAfter(ids, start.deviceId)) : 0;
    if (index < 0) index = 0;
    for (; index < ids.length; index++) {
      const device = this.store.recordForQuery(ids[index]);
      if (!device) continue;
      if (!modules) {
        const state = this.store.visibleState(device, now);
        if (state) yield { record: device, state };
        continue;
      }
      const resumeAfter = start && device.deviceId === start.deviceId ? start.moduleId : undefined;
      if (start && compareIds(device.deviceId, start.deviceId) < 0) continue;
      for (const module of device.modules) {
        if (resumeAfter !== undefined && compareIds(module.moduleId!, resumeAfter) <= 0) continue;
        const state = this.store.visibleState(module, now);
        if (state) yield { record: module, state };
      }
    }
  }
}
