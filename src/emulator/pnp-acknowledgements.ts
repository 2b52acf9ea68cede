// What an IoT Plug and Play device reports when it reads its twin, per the convention's writable property
// acknowledgement ({value, ac, av, ad}, at the property's place, inside its component's object with the
// `"__t": "c"` marker): 200 with the desired value, 400 with the value it keeps and why, 203 with its default
// (av 0) for a property no one has set yet. A function of the twin alone, so a device restored with a saved hub
// acknowledges exactly what it has not acknowledged yet.
import { COMPONENT_MARKER_KEY, COMPONENT_MARKER_VALUE } from '../protocol/plug-and-play.js';
import { type DeviceFacts, type PnpModel, propertyPath, type WritableProperty } from './pnp-models.js';
import {
  isJsonObject,
  type JsonObject,
  type JsonValue,
  lastUpdatedVersionAt,
  type PropertySection,
} from './twin-document.js';

export interface Acknowledgement {
  value: JsonValue;
  /** An HTTP status: 200 accepted, 203 set by the device, 400 refused. */
  ac: number;
  /** The desired `$version` the device read (0 for a value it set itself). */
  av: number;
  ad: string;
}

/** A desired value the device read and answered. */
export interface ReceivedValue {
  /** `targetTemperature` or `thermostat1.targetTemperature`. */
  path: string;
  value: JsonValue;
  /** The desired `$version` it read it at. */
  version: number;
  acknowledgement: Acknowledgement;
}

export interface PlannedReport {
  /** The reported properties to write; empty when there is nothing to say. */
  patch: JsonObject;
  received: ReceivedValue[];
  acknowledgements: Acknowledgement[];
}

export const DEFAULT_DESCRIPTION = 'default value, no desired value received yet';
export const ACCEPTED_DESCRIPTION = 'applied';

/** The value at `path` in a section's value, undefined when there is none. */
export function valueAt(section: JsonObject, path: readonly string[]): JsonValue | undefined {
  let value: JsonValue | undefined = section;
  for (const key of path) value = isJsonObject(value) ? value[key] : undefined;
  return value;
}

/** Sets `value` at `path` in a patch, giving a component's object its marker. */
function setAt(patch: JsonObject, path: readonly string[], value: JsonValue): void {
  if (path.length === 1) {
    patch[path[0]] = value;
    return;
  }
  const holder = patch[path[0]];
  const object = isJsonObject(holder) ? holder : { [COMPONENT_MARKER_KEY]: COMPONENT_MARKER_VALUE };
  object[path[1]] = value;
  patch[path[0]] = object;
}

/** The read-only properties the device has not reported yet (all of them, on its first start). */
function missingReadOnly(model: PnpModel, facts: DeviceFacts, reported: JsonObject, patch: JsonObject): void {
  for (const [key, value] of Object.entries(model.readOnly(facts))) {
    const isComponent = isJsonObject(value) && value[COMPONENT_MARKER_KEY] === COMPONENT_MARKER_VALUE;
    if (!isComponent) {
      if (reported[key] === undefined) patch[key] = value;
      continue;
    }
    for (const [name, inner] of Object.entries(value)) {
      if (name !== COMPONENT_MARKER_KEY && valueAt(reported, [key, name]) === undefined)
        setAt(patch, [key, name], inner);
    }
  }
}

/** The value a device keeps when it refuses a new one: what it last reported, or its default. */
function keptValue(property: WritableProperty, reported: JsonValue | undefined): JsonValue {
  return isJsonObject(reported) && reported.value !== undefined ? reported.value : property.default;
}

function acknowledge(
  property: WritableProperty,
  facts: DeviceFacts,
  desired: PropertySection,
  reported: JsonObject,
): { acknowledgement: Acknowledgement; received?: ReceivedValue } | undefined {
  const path = propertyPath(property);
  const wanted = valueAt(desired.value, path);
  const current = valueAt(reported, path);
  if (wanted === undefined) {
    if (current !== undefined) return undefined;
    return { acknowledgement: { value: property.default, ac: 203, av: 0, ad: DEFAULT_DESCRIPTION } };
  }
  const acknowledged = isJsonObject(current) && typeof current.av === 'number' ? current.av : -1;
  if (acknowledged >= (lastUpdatedVersionAt(desired, path) ?? 0)) return undefined;
  const judged = property.judge(wanted, facts.firmware);
  const acknowledgement: Acknowledgement =
    'accepted' in judged
      ? { value: judged.accepted, ac: 200, av: desired.version, ad: ACCEPTED_DESCRIPTION }
      : { value: keptValue(property, current), ac: 400, av: desired.version, ad: judged.refused };
  return {
    acknowledgement,
    received: { path: path.join('.'), value: wanted, version: desired.version, acknowledgement },
  };
}

/**
 * The reported patch of a device that reads its twin now: the read-only properties it has not reported, and an
 * acknowledgement of every writable property whose desired value changed since it last acknowledged it (the
 * property's `$lastUpdatedVersion` above the `av` it reported), or its default when none was ever desired.
 */
export function planReport(
  model: PnpModel,
  facts: DeviceFacts,
  desired: PropertySection,
  reported: JsonObject,
): PlannedReport {
  const patch: JsonObject = {};
  missingReadOnly(model, facts, reported, patch);
  const received: ReceivedValue[] = [];
  const acknowledgements: Acknowledgement[] = [];
  for (const property of model.writable) {
    const answer = acknowledge(property, facts, desired, reported);
    if (!answer) continue;
    setAt(patch, propertyPath(property), answer.acknowledgement as unknown as JsonObject);
    acknowledgements.push(answer.acknowledgement);
    if (answer.received) received.push(answer.received);
  }
  return { patch, received, acknowledgements };
}
