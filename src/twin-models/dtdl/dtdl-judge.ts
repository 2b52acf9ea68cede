// Judging desired property values against the writable Properties of a DTDL model, each problem located at the
// property (or field, map entry, array item) it is about.

import { COMPONENT_MARKER_KEY } from '../../protocol/plug-and-play.js';
import { showValue } from '../../validation/value-words.js';
import { didYouMean, listNames } from '../did-you-mean.js';
import { MAX_PROBLEMS } from '../limits.js';
import type { FieldPath, ModelProblem } from '../problems.js';
import { isDate, isDateTime, isDuration, isTime } from '../temporal.js';
import { twinKeyProblem } from '../twin-keys.js';
import type {
  DtdlModel,
  DtdlSchema,
  EnumValue,
  GeospatialSchemaName,
  ObjectField,
  PrimitiveSchemaName,
} from './dtdl-types.js';

const INT32 = 2 ** 31;
const INT64 = 2 ** 63;
const FLOAT_MAX = 3.4028234663852886e38;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const PRIMITIVE_WORDS: Record<PrimitiveSchemaName, string> = {
  boolean: 'true or false',
  date: 'a date such as 2024-05-31',
  dateTime: 'a date and time such as 2024-05-31T13:45:00Z',
  double: 'a number (double)',
  duration: 'an ISO 8601 duration such as PT15M or P1D',
  float: 'a number (float)',
  integer: 'an integer (32-bit)',
  long: 'an integer (long)',
  string: 'a string',
  time: 'a time such as 13:45:00',
};

function primitiveProblem(name: PrimitiveSchemaName, value: unknown): string | undefined {
  const wrong = `must be ${PRIMITIVE_WORDS[name]}, not ${showValue(value)}`;
  switch (name) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : wrong;
    case 'string':
      return typeof value === 'string' ? undefined : wrong;
    case 'double':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : wrong;
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) return wrong;
      return Math.abs(value) <= FLOAT_MAX
        ? undefined
        : `${value} is beyond the range of a float (±${FLOAT_MAX})`;
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) return wrong;
      const limit = name === 'integer' ? INT32 : INT64;
      return value >= -limit && value < limit
        ? undefined
        : `${value} is beyond the range of ${name === 'integer' ? 'a 32-bit integer' : 'a long (64-bit integer)'}`;
    }
    case 'date':
      return typeof value === 'string' && isDate(value) ? undefined : wrong;
    case 'dateTime':
      return typeof value === 'string' && isDateTime(value) ? undefined : wrong;
    case 'time':
      return typeof value === 'string' && isTime(value) ? undefined : wrong;
    case 'duration':
      return typeof value === 'string' && isDuration(value) ? undefined : wrong;
  }
}

const GEOJSON_TYPES: Record<GeospatialSchemaName, { type: string; depth: number }> = {
  point: { type: 'Point', depth: 1 },
  multiPoint: { type: 'MultiPoint', depth: 2 },
  lineString: { type: 'LineString', depth: 2 },
  multiLineString: { type: 'MultiLineString', depth: 3 },
  polygon: { type: 'Polygon', depth: 3 },
  multiPolygon: { type: 'MultiPolygon', depth: 4 },
};

/** Coordinates nested `depth` lists deep, the innermost a position of 2 or 3 numbers (GeoJSON). */
function coordinatesOk(value: unknown, depth: number): boolean {
  if (!Array.isArray(value)) return false;
  if (depth === 1)
    return (value.length === 2 || value.length === 3) && value.every((n) => typeof n === 'number');
  return value.every((item) => coordinatesOk(item, depth - 1));
}

/** Lookups by name and by value, made once per schema: a model may declare thousands of fields or values. */
const fieldIndex = new WeakMap<object, Map<string, ObjectField>>();
const enumIndex = new WeakMap<object, { byValue: Set<unknown>; byName: Map<unknown, EnumValue> }>();

function fieldsOf(schema: { fields: ObjectField[] }): Map<string, ObjectField> {
  let index = fieldIndex.get(schema);
  if (!index) {
    index = new Map(schema.fields.map((f) => [f.name, f]));
    fieldIndex.set(schema, index);
  }
  return index;
}

function enumOf(schema: { values: EnumValue[] }) {
  let index = enumIndex.get(schema);
  if (!index) {
    index = {
      byValue: new Set(schema.values.map((v) => v.value)),
      byName: new Map(schema.values.map((v) => [v.name, v])),
    };
    enumIndex.set(schema, index);
  }
  return index;
}

class Judge {
  readonly problems: ModelProblem[] = [];

  /** One more than are shown: enough to say that others are not. */
  get full(): boolean {
    return this.problems.length > MAX_PROBLEMS;
  }

  add(path: FieldPath, message: string, atKey = false): void {
    this.problems.push(
      atKey ? { severity: 'error', path, message, atKey } : { severity: 'error', path, message },
    );
  }

  value(schema: DtdlSchema, value: unknown, path: FieldPath): void {
    if (this.full) return;
    switch (schema.kind) {
      case 'primitive': {
        const problem = primitiveProblem(schema.name, value);
        if (problem) this.add(path, problem);
        return;
      }
      case 'geospatial': {
        const { type, depth } = GEOJSON_TYPES[schema.name];
        if (!isPlainObject(value) || value.type !== type || !coordinatesOk(value.coordinates, depth)) {
          this.add(
            path,
            `must be a GeoJSON ${type}: {"type": "${type}", "coordinates": ${'['.repeat(depth)}longitude, latitude${']'.repeat(depth)}}`,
          );
        }
        return;
      }
      case 'enum': {
        const index = enumOf(schema);
        if (index.byValue.has(value)) return;
        const listed = listNames(
          schema.values.map((v) => `${JSON.stringify(v.value)} (${v.name})`),
          'values',
        );
        const byName = index.byName.get(value);
        if (byName) {
          this.add(
            path,
            `${showValue(value)} is the name of the Enum value ${JSON.stringify(byName.value)}; the twin holds the value: write ${JSON.stringify(byName.value)}`,
          );
          return;
        }
        const hint =
          typeof value === 'string' && schema.valueSchema === 'string'
            ? didYouMean(
                value,
                schema.values.map((v) => String(v.value)),
              )
            : '';
        this.add(
          path,
          `${showValue(value)} is not one of the Enum's values: ${listed || 'it has none'}${hint}`,
        );
        return;
      }
      case 'object': {
        if (!isPlainObject(value)) {
          this.add(
            path,
            `must be an object with the fields ${listNames(
              schema.fields.map((f) => f.name),
              'fields',
            )}, not ${showValue(value)}`,
          );
          return;
        }
        const fields = fieldsOf(schema);
        const names = [...fields.keys()];
        for (const [key, item] of Object.entries(value)) {
          const field = fields.get(key);
          if (field) this.value(field.schema, item, [...path, key]);
          else
            this.add(
              [...path, key],
              `unknown field '${key}'${didYouMean(key, names) || `; the Object's fields are ${listNames(names, 'fields')}`}`,
              true,
            );
        }
        return;
      }
      case 'map': {
        if (!isPlainObject(value)) {
          this.add(
            path,
            `must be an object of ${schema.keyName} to ${schema.valueName}, not ${showValue(value)}`,
          );
          return;
        }
        for (const [key, item] of Object.entries(value)) {
          const keyProblem = twinKeyProblem(key);
          if (keyProblem) this.add([...path, key], `map key: ${keyProblem}`, true);
          else this.value(schema.valueSchema, item, [...path, key]);
        }
        return;
      }
      case 'array': {
        if (!Array.isArray(value)) {
          this.add(path, `must be a list, not ${showValue(value)}`);
          return;
        }
        value.forEach((item, index) => {
          this.value(schema.elementSchema, item, [...path, index]);
        });
        return;
      }
    }
  }
}

/** Problems of `properties` (a twin's desired properties, or one component's) against the model's Properties. */
export function judgeDtdlProperties(
  model: DtdlModel,
  properties: Record<string, unknown>,
  at: FieldPath,
): ModelProblem[] {
  const judge = new Judge();
  const writable = model.properties.filter((p) => p.writable).map((p) => p.name);
  const declaredByName = new Map(model.properties.map((p) => [p.name, p]));
  const componentNames = new Set(model.components.map((c) => c.name));
  const owner = model.component
    ? `the component '${model.component.name}' (${model.appliesInterfaceId})`
    : model.interfaceId;
  for (const [name, value] of Object.entries(properties)) {
    if (judge.full) break;
    const path = [...at, name];
    const declared = declaredByName.get(name);
    if (declared?.writable) {
      judge.value(declared.schema, value, path);
    } else if (declared) {
      judge.add(
        path,
        `'${name}' is a read-only Property of ${owner}: the device reports it, it cannot be set${didYouMean(
          name,
          writable.filter((w) => w !== name),
        )}`,
        true,
      );
    } else if (model.component && name === COMPONENT_MARKER_KEY) {
      judge.add(
        path,
        `'${COMPONENT_MARKER_KEY}' is the component marker of IoT Plug and Play, which the operator writes itself; leave it out`,
        true,
      );
    } else if (componentNames.has(name)) {
      judge.add(
        path,
        `'${name}' is a component of ${model.interfaceId}: a TwinConfig manages one component's properties; name the component in spec.twin.component`,
        true,
      );
    } else {
      const list =
        writable.length === 0
          ? '; it has no writable property'
          : writable.length <= 12
            ? `; its writable properties are ${listNames(writable, 'properties')}`
            : `; it has ${writable.length} writable properties`;
      judge.add(path, `'${name}' is not a Property of ${owner}${didYouMean(name, writable) || list}`, true);
    }
  }
  return judge.problems;
}
