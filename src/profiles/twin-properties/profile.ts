// Desired properties of any twin, as a TwinConfig manages them: each top-level property (or, in an IoT Plug and
// Play component, each property of the component) is one setting, named by its path from the desired root
// (`/targetTemperature`, `/thermostat1/targetTemperature`) and written whole. A component's object carries the
// `"__t": "c"` marker, as the convention says. How a device's answer reads depends on the resource's convergence:
// IoT Plug and Play acknowledgements, a mirror of the value, or nothing to wait for.

import { COMPONENT_MARKER } from '../../protocol/plug-and-play.js';
import { sameJson } from '../../runtime/same-json.js';
import { lastWritten, type ManagedTwin } from '../../twins/types.js';
import { cutText } from '../../validation/value-words.js';
import type { Convergence, ReportedState, TwinProfile } from '../twin-profile.js';

/** The marker of a component's object in desired and reported properties. */

const escapeSegment = (name: string) => name.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapeSegment = (segment: string) => segment.replace(/~1/g, '/').replace(/~0/g, '~');

/** The setting id of a property, in a component or at the top level. */
export function propertySettingId(property: string, component?: string): string {
  return component === undefined
    ? `/${escapeSegment(property)}`
    : `/${escapeSegment(component)}/${escapeSegment(property)}`;
}

/** The path of a setting id from the desired (or reported) root: [property] or [component, property]. */
export function settingPath(settingId: string): string[] {
  return settingId.slice(1).split('/').map(unescapeSegment);
}

function at(properties: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): unknown {
  let node: unknown = properties;
  for (const key of path) {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * What to write so that desired holds `value` whole where it holds `current`: IoT Hub merges objects key by key,
 * so keys `current` has and `value` lacks are written as null (deleted); anything else replaces.
 */
function replacement(current: unknown, value: unknown): unknown {
  if (!isObject(current) || !isObject(value)) return value;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(current)) if (!Object.hasOwn(value, key)) patch[key] = null;
  for (const [key, item] of Object.entries(value)) patch[key] = replacement(current[key], item);
  return patch;
}

/** An IoT Plug and Play acknowledgement: `{value, ac, av, ad}` at the property's place in reported. */
interface Acknowledgement {
  value?: unknown;
  ac?: unknown;
  av?: unknown;
  ad?: unknown;
}

/** How much of a device's `ad` its failure keeps: a reported property may hold 4 KB, and a status lists twenty. */
const DESCRIPTION_LIMIT = 400;

/** The device's `ad` as its failure quotes it: a string as it is, anything else as JSON, both bounded. */
function description(ad: unknown): string {
  if (ad === undefined || ad === null || ad === '') return '';
  return `: ${cutText(typeof ad === 'string' ? ad : JSON.stringify(ad), DESCRIPTION_LIMIT)}`;
}

/**
 * An IoT Plug and Play device's answer, by the convention's acknowledgement responses
 * (https://learn.microsoft.com/azure/iot/concepts-convention, "Writable properties"): `ac` is an HTTP status code,
 * `av` the desired `$version` the device read. 200: the desired value is taken. 202: taken, the update in progress
 * ("should finish with 200"): not converged yet. 203 with av 0: a value the device set itself ("not reflecting any
 * desired"), so no answer to a write. 400, 500: not taken, or failed while applied; `value` is the one it keeps.
 * Codes the table does not name read as HTTP's: another 2xx is done, anything else a refusal. An `ac` that is not
 * an integer is no status code, so no answer. An answer to an older version says nothing of ours; the version of
 * ours is the property's `$lastUpdatedVersion`, not desired's `$version`, which others' writes of other properties
 * raise (a device answers the `$version` it read, so at least the property's).
 */
function acknowledgementState(twin: ManagedTwin, path: readonly string[], reported: unknown): ReportedState {
  const ack = (reported && typeof reported === 'object' ? reported : {}) as Acknowledgement;
  const written = lastWritten(twin, path).version ?? twin.desiredVersion;
  const { ac, av } = ack;
  if (!Number.isInteger(av) || (av as number) < written || !Number.isInteger(ac)) return { state: 'pending' };
  const code = ac as number;
  if (code === 202 || code === 203) return { state: 'pending' };
  if (code >= 200 && code < 300) return { state: 'converged' };
  return { state: 'rejected', message: `${path.join('.')} refused (${code})${description(ack.ad)}` };
}

function settingState(
  twin: ManagedTwin,
  settingId: string,
  value: unknown,
  convergence: Convergence,
): ReportedState {
  if (convergence === 'None') return { state: 'converged' };
  const path = settingPath(settingId);
  const reported = at(twin.reported, path);
  if (convergence === 'Mirror')
    return sameJson(reported, value) ? { state: 'converged' } : { state: 'pending' };
  return acknowledgementState(twin, path, reported);
}

/** What the device reports for the settings it has not answered as `convergence` says it should. */
function differences(
  twin: ManagedTwin,
  wanted: ReadonlyMap<string, unknown>,
  limit: number,
  convergence: Convergence,
): string[] {
  const lines: string[] = [];
  for (const [settingId, value] of wanted) {
    if (lines.length >= limit) break;
    if (settingState(twin, settingId, value, convergence).state === 'converged') continue;
    const reported = at(twin.reported, settingPath(settingId));
    // Each side bounded as a device's description is: a twin's values may hold 32 KB, and a status lists twenty.
    const shown = (v: unknown) => cutText(JSON.stringify(v), DESCRIPTION_LIMIT);
    lines.push(
      `${settingPath(settingId).join('.')}: reported ${reported === undefined ? 'nothing' : shown(reported)}, desired ${shown(value ?? null)}`,
    );
  }
  return lines;
}

/** How a device answers: IoT Plug and Play acknowledges, a mirror reports (None waits for nothing, never stalls). */
const ANSWER = {
  acknowledge: { done: 'acknowledged', doing: 'acknowledging' },
  report: { done: 'reported', doing: 'reporting' },
};
const answer = (convergence: Convergence) => (convergence === 'Mirror' ? ANSWER.report : ANSWER.acknowledge);

export const twinPropertiesProfile: TwinProfile = {
  name: 'twin properties',
  reportsWhole: false,
  removedMeans: 'removed',
  describe: (settingId) => settingPath(settingId).join('.'),
  handles: (settingId) => settingId.startsWith('/'),
  desiredPath: settingPath,
  read: (desired, settingId) => at(desired, settingPath(settingId)),
  write(settingId, value, current) {
    const path = settingPath(settingId);
    const whole = replacement(current, value);
    if (path.length === 1) return { [path[0]]: whole };
    return { [path[0]]: { ...COMPONENT_MARKER, [path[1]]: whole } };
  },
  remove: (settingId) => {
    const path = settingPath(settingId);
    return path.length === 1 ? { [path[0]]: null } : { [path[0]]: { [path[1]]: null } };
  },
  same: (_settingId, a, b) => sameJson(a, b),
  // A TwinConfig's values are judged one resource at a time, by its own schema or model, before any plan.
  judge: () => [],
  reportedState(twin, wanted, convergence) {
    if (twin.reportedMayBeStale && convergence !== 'None') return { state: 'pending' };
    let pending = false;
    for (const [settingId, value] of wanted) {
      const state = settingState(twin, settingId, value, convergence);
      if (state.state === 'rejected') return state;
      if (state.state === 'pending') pending = true;
    }
    return pending ? { state: 'pending' } : { state: 'converged' };
  },
  differences,
  silence: (written, convergence) => `the device has not ${answer(convergence).done} the values${written}`,
  unanswered: (convergence) => `not ${answer(convergence).doing} the values`,
  writtenAt(twin, settingIds) {
    let latest: number | undefined;
    for (const id of settingIds) {
      const when = lastWritten(twin, settingPath(id)).at;
      if (when !== undefined && (latest === undefined || when > latest)) latest = when;
    }
    return latest;
  },
};
