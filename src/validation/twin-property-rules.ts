// A TwinConfig's properties as IoT Hub would take them in a desired patch, whatever its schema says: keys the hub
// accepts, no null (in a patch a null deletes), strings, integers, depth and total size within the hub's limits,
// no `__t` (the component marker), and not the security agent's configuration (SecurityModuleConfig's job).
import type { TwinConfig } from '../api/generated/types.js';
import { typedPropertyIn } from '../profiles/profiles.js';
import { COMPONENT_MARKER, COMPONENT_MARKER_KEY } from '../protocol/plug-and-play.js';
import { twinKeyProblem } from '../twin-models/index.js';
import { TWIN_LIMITS, twinStringSize, twinValueSize } from '../twins/twin-limits.js';
import { DEVICE_TWIN } from '../twins/types.js';
import { formatBytes } from './input-limits.js';
import type { FieldPath, ValidationIssue } from './issues.js';

/** Problems reported for one resource's properties; past that they repeat one mistake. */
const MAX_PROPERTY_PROBLEMS = 50;

const PROPERTIES: FieldPath = ['spec', 'properties'];

const NULL_MESSAGE =
  'null cannot be written: in a twin patch a null deletes the property (leave it out instead; what this resource stops setting is removed)';

function error(path: FieldPath, message: string, atKey = false): ValidationIssue {
  return { severity: 'error', path, message, ...(atKey ? { atKey } : {}) };
}

/** Problems of the value at `path`, held by a key at `level` below properties.desired (1: a property itself). */
function checkValue(value: unknown, path: FieldPath, level: number, issues: ValidationIssue[]): void {
  if (issues.length >= MAX_PROPERTY_PROBLEMS) return;
  if (value === null) {
    issues.push(error(path, NULL_MESSAGE));
  } else if (typeof value === 'string') {
    const bytes = twinStringSize(value);
    if (bytes > TWIN_LIMITS.stringBytes)
      issues.push(
        error(
          path,
          `a string of ${formatBytes(bytes)}: IoT Hub takes strings of at most ${formatBytes(TWIN_LIMITS.stringBytes)}`,
        ),
      );
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) issues.push(error(path, `${value} is not a number a twin can hold`));
    else if (Number.isInteger(value) && (value > TWIN_LIMITS.maxInteger || value < TWIN_LIMITS.minInteger))
      issues.push(
        error(
          path,
          `${value} is outside the integers IoT Hub keeps (${TWIN_LIMITS.minInteger} to ${TWIN_LIMITS.maxInteger})`,
        ),
      );
  } else if (typeof value === 'object') {
    // Arrays count as levels as objects do: the hub refuses either past its depth.
    if (level > TWIN_LIMITS.depth) {
      issues.push(
        error(path, `nests deeper than the ${TWIN_LIMITS.depth} levels IoT Hub allows in desired properties`),
      );
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        checkValue(item, [...path, index], level + 1, issues);
      });
      return;
    }
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const keyProblem = twinKeyProblem(key);
      if (keyProblem) issues.push(error([...path, key], keyProblem, true));
      checkValue(item, [...path, key], level + 1, issues);
    }
  }
}

/** The desired patch the properties make, as the hub counts its size. */
function desiredPatch(spec: TwinConfig['spec']): Record<string, unknown> {
  const component = spec.twin?.component;
  return component === undefined
    ? spec.properties
    : { [component]: { ...COMPONENT_MARKER, ...spec.properties } };
}

function typedPropertyProblem(spec: TwinConfig['spec']): ValidationIssue | undefined {
  // As a component name it is refused already: a DTDL name has no ':'.
  if (spec.twin?.component !== undefined) return undefined;
  const typed = typedPropertyIn(spec.twin?.moduleId ?? DEVICE_TWIN);
  if (!typed || !Object.hasOwn(spec.properties, typed.key)) return undefined;
  return error(
    [...PROPERTIES, typed.key],
    `'${typed.key}' is managed by a ${typed.kind} (${typed.field}), which judges it as the device does and layers its settings one by one; a TwinConfig may manage the twin's other properties`,
    true,
  );
}

function isComponentValue(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, COMPONENT_MARKER_KEY);
}

export function checkTwinProperties(spec: TwinConfig['spec']): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const names = Object.keys(spec.properties);
  if (names.length === 0)
    return [
      {
        severity: 'warning',
        path: PROPERTIES,
        message: 'names no property: this resource manages nothing on its devices',
      },
    ];
  if (names.includes(COMPONENT_MARKER_KEY))
    issues.push(
      error(
        [...PROPERTIES, COMPONENT_MARKER_KEY],
        "'__t' is the IoT Plug and Play marker of a component, written by the operator: set twin.component to write a component's properties",
        true,
      ),
    );
  const agent = typedPropertyProblem(spec);
  if (agent) issues.push(agent);
  // Keys of a component's properties sit one level lower, under the component's name.
  const level = spec.twin?.component === undefined ? 1 : 2;
  for (const name of names) {
    if (issues.length >= MAX_PROPERTY_PROBLEMS) break;
    const keyProblem = twinKeyProblem(name);
    if (keyProblem) issues.push(error([...PROPERTIES, name], keyProblem, true));
    checkValue(spec.properties[name], [...PROPERTIES, name], level, issues);
    if (level === 1 && isComponentValue(spec.properties[name]))
      issues.push(
        error(
          [...PROPERTIES, name, COMPONENT_MARKER_KEY],
          `'${name}' is written as a whole IoT Plug and Play component, which a device never acknowledges as one (it answers each of its properties): set twin.component: ${name} and list the component's properties`,
          true,
        ),
      );
  }
  if (issues.length >= MAX_PROPERTY_PROBLEMS)
    return [
      ...issues.slice(0, MAX_PROPERTY_PROBLEMS),
      error(PROPERTIES, `only the first ${MAX_PROPERTY_PROBLEMS} problems of the properties are shown`),
    ];
  if (issues.some((i) => i.severity === 'error')) return issues;
  const bytes = twinValueSize(desiredPatch(spec));
  if (bytes > TWIN_LIMITS.desiredBytes)
    issues.push(
      error(
        PROPERTIES,
        `the properties are ${formatBytes(bytes)} as IoT Hub counts a twin's size; its desired properties hold at most ${formatBytes(TWIN_LIMITS.desiredBytes)}, everyone's together`,
      ),
    );
  return issues;
}
