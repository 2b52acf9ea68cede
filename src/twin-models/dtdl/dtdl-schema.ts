// Reading the `schema` of a DTDL Property: primitives, geospatial terms, Enum, Object, Map, Array (in v3), given
// inline or by the DTMI of one of the Interface's `schemas`.
import { didYouMean } from '../did-you-mean.js';
import { error, type FieldPath, type SourceProblem } from '../problems.js';
import { isObject, type JsonObject, looksLikeDtmi, mainType, nameProblem, typesOf } from './dtdl-syntax.js';
import {
  type DtdlSchema,
  type DtdlVersion,
  type EnumValue,
  GEOSPATIAL_SCHEMAS,
  type GeospatialSchemaName,
  type ObjectField,
  PRIMITIVE_SCHEMAS,
  type PrimitiveSchemaName,
} from './dtdl-types.js';

/** "For DTDL v2 [and v3], the maximum depth of nested complex schemas is 5 levels." */
export const MAX_COMPLEX_SCHEMA_DEPTH = 5;
const V2_MAX_ENUM_VALUES = 100;
const V2_MAX_OBJECT_FIELDS = 30;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

const COMPLEX_TYPES = ['Array', 'Enum', 'Map', 'Object'] as const;

/** An Interface's reusable schemas, by @id, with where each is written. */
export type SchemaDefinitions = Map<string, { node: unknown; path: FieldPath }>;

interface Parsed {
  schema: DtdlSchema;
  /** Levels of complex schemas it nests, itself included: 0 for a primitive. */
  height: number;
}

/** Reads the schemas of one Interface's Properties; remembers each reusable schema read, once. */
export class SchemaReader {
  private readonly done = new Map<string, Parsed | 'failed'>();
  private readonly reading: string[] = [];
  /** Complex schemas open around the one being read. */
  private depth = 0;

  constructor(
    private readonly version: DtdlVersion,
    private readonly interfaceId: string,
    private readonly definitions: SchemaDefinitions,
    private readonly problems: SourceProblem[],
  ) {}

  /** The schema at `path`, or undefined when it does not read (its problems are then reported). */
  read(node: unknown, path: FieldPath): DtdlSchema | undefined {
    return this.parse(node, path)?.schema;
  }

  /** Complex schemas nest at most 5 levels: refused on the way down, so a chain of references stops there. */
  private tooDeep(path: FieldPath, height: number): boolean {
    if (this.depth + height <= MAX_COMPLEX_SCHEMA_DEPTH) return false;
    this.fail(
      path,
      `complex schemas nest more than ${MAX_COMPLEX_SCHEMA_DEPTH} levels here, the most DTDL allows`,
    );
    return true;
  }

  private fail(path: FieldPath, message: string): undefined {
    this.problems.push(error(path, message));
    return undefined;
  }

  private parse(node: unknown, path: FieldPath): Parsed | undefined {
    if (typeof node === 'string') return this.parseNamed(node, path);
    if (!isObject(node)) return this.fail(path, 'a schema must be a schema name, a DTMI or an object');
    const type = mainType(typesOf(node), COMPLEX_TYPES);
    if ('message' in type) return this.fail([...path, '@type'], type.message);
    if (this.tooDeep(path, 1)) return undefined;
    this.depth++;
    try {
      switch (type.type) {
        case 'Enum':
          return this.parseEnum(node, path);
        case 'Object':
          return this.parseObject(node, path);
        case 'Map':
          return this.parseMap(node, path);
        case 'Array':
          return this.parseArray(node, path);
      }
    } finally {
      this.depth--;
    }
  }

  private parseNamed(name: string, path: FieldPath): Parsed | undefined {
    if ((PRIMITIVE_SCHEMAS as readonly string[]).includes(name)) {
      return { schema: { kind: 'primitive', name: name as PrimitiveSchemaName }, height: 0 };
    }
    const geospatial = geospatialName(name, this.version);
    if (geospatial) {
      if (this.version === 2) {
        return this.fail(
          path,
          `'${name}' holds arrays, which DTDL v2 does not allow in a Property's schema (v3 does)`,
        );
      }
      if (this.tooDeep(path, 1)) return undefined;
      return { schema: { kind: 'geospatial', name: geospatial }, height: 1 };
    }
    if (!looksLikeDtmi(name)) {
      const known = [...PRIMITIVE_SCHEMAS, ...GEOSPATIAL_SCHEMAS];
      return this.fail(
        path,
        `'${name}' is not a DTDL schema${didYouMean(name, known) || `; the primitive schemas are ${PRIMITIVE_SCHEMAS.join(', ')}`}`,
      );
    }
    return this.parseReference(name, path);
  }

  private parseReference(id: string, path: FieldPath): Parsed | undefined {
    const known = this.done.get(id);
    if (known === 'failed') return undefined;
    if (known) return this.tooDeep(path, known.height) ? undefined : known;
    if (this.reading.includes(id)) {
      return this.fail(
        path,
        `the schema ${id} contains itself (${[...this.reading.slice(this.reading.indexOf(id)), id].join(' -> ')}); DTDL schemas may not refer to themselves`,
      );
    }
    const definition = this.definitions.get(id);
    if (!definition) {
      return this.fail(
        path,
        `${id} is not one of the schemas of ${this.interfaceId}; an Interface uses the complex schemas it defines in its own 'schemas'`,
      );
    }
    this.reading.push(id);
    const parsed = this.parse(definition.node, definition.path);
    this.reading.pop();
    this.done.set(id, parsed ?? 'failed');
    return parsed;
  }

  private parseEnum(node: JsonObject, path: FieldPath): Parsed | undefined {
    const valueSchema = node.valueSchema;
    if (valueSchema !== 'integer' && valueSchema !== 'string') {
      return this.fail([...path, 'valueSchema'], `an Enum's valueSchema must be 'integer' or 'string'`);
    }
    const items = node.enumValues ?? [];
    if (!Array.isArray(items)) return this.fail([...path, 'enumValues'], 'enumValues must be a list');
    if (this.version === 2 && (items.length === 0 || items.length > V2_MAX_ENUM_VALUES)) {
      return this.fail(
        [...path, 'enumValues'],
        `DTDL v2 requires 1 to ${V2_MAX_ENUM_VALUES} enumValues in an Enum`,
      );
    }
    const values: EnumValue[] = [];
    const names = new Set<unknown>();
    const wireValues = new Set<unknown>();
    const problemsBefore = this.problems.length;
    items.forEach((item, index) => {
      const at = [...path, 'enumValues', index];
      if (!isObject(item)) {
        this.fail(at, 'an EnumValue must be an object with a name and an enumValue');
        return;
      }
      const nameIssue = nameProblem(item.name, this.version);
      const value = item.enumValue;
      const rightType =
        valueSchema === 'string'
          ? typeof value === 'string'
          : Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX;
      if (nameIssue) this.fail([...at, 'name'], nameIssue);
      else if (!rightType)
        this.fail(
          [...at, 'enumValue'],
          `the enumValue must be ${valueSchema === 'string' ? 'a string' : 'an integer'}, as the Enum's valueSchema says`,
        );
      else if (names.has(item.name))
        this.fail([...at, 'name'], `the name '${String(item.name)}' is used twice in this Enum`);
      else if (wireValues.has(value))
        this.fail([...at, 'enumValue'], `the enumValue ${JSON.stringify(value)} is used twice in this Enum`);
      else {
        values.push({ name: item.name as string, value: value as number | string });
        names.add(item.name);
        wireValues.add(value);
      }
    });
    if (this.problems.length > problemsBefore) return undefined;
    return { schema: { kind: 'enum', id: idOf(node), valueSchema, values }, height: 1 };
  }

  private parseObject(node: JsonObject, path: FieldPath): Parsed | undefined {
    const items = node.fields ?? [];
    if (!Array.isArray(items)) return this.fail([...path, 'fields'], 'fields must be a list');
    if (this.version === 2 && (items.length === 0 || items.length > V2_MAX_OBJECT_FIELDS)) {
      return this.fail(
        [...path, 'fields'],
        `DTDL v2 requires 1 to ${V2_MAX_OBJECT_FIELDS} fields in an Object`,
      );
    }
    const fields: ObjectField[] = [];
    const names = new Set<unknown>();
    let height = 0;
    const problemsBefore = this.problems.length;
    items.forEach((item, index) => {
      const at = [...path, 'fields', index];
      if (!isObject(item)) {
        this.fail(at, 'a Field must be an object with a name and a schema');
        return;
      }
      const nameIssue = nameProblem(item.name, this.version);
      if (nameIssue) {
        this.fail([...at, 'name'], nameIssue);
        return;
      }
      if (names.has(item.name)) {
        this.fail([...at, 'name'], `the field '${String(item.name)}' is declared twice in this Object`);
        return;
      }
      const parsed = this.parse(item.schema, [...at, 'schema']);
      if (!parsed) return;
      height = Math.max(height, parsed.height);
      fields.push({ name: item.name as string, schema: parsed.schema });
      names.add(item.name);
    });
    if (this.problems.length > problemsBefore) return undefined;
    return { schema: { kind: 'object', id: idOf(node), fields }, height: height + 1 };
  }

  private parseMap(node: JsonObject, path: FieldPath): Parsed | undefined {
    const key = node.mapKey;
    const value = node.mapValue;
    if (!isObject(key))
      return this.fail(
        [...path, 'mapKey'],
        'a Map needs a mapKey: an object with a name and the schema string',
      );
    if (!isObject(value))
      return this.fail([...path, 'mapValue'], 'a Map needs a mapValue: an object with a name and a schema');
    const keyName = nameProblem(key.name, this.version);
    if (keyName) return this.fail([...path, 'mapKey', 'name'], keyName);
    if (key.schema !== 'string')
      return this.fail([...path, 'mapKey', 'schema'], `a MapKey's schema must be 'string'`);
    const valueName = nameProblem(value.name, this.version);
    if (valueName) return this.fail([...path, 'mapValue', 'name'], valueName);
    const parsed = this.parse(value.schema, [...path, 'mapValue', 'schema']);
    if (!parsed) return undefined;
    return {
      schema: {
        kind: 'map',
        id: idOf(node),
        keyName: key.name as string,
        valueName: value.name as string,
        valueSchema: parsed.schema,
      },
      height: parsed.height + 1,
    };
  }

  private parseArray(node: JsonObject, path: FieldPath): Parsed | undefined {
    if (this.version === 2) {
      return this.fail(
        [...path, '@type'],
        `DTDL v2 does not allow an Array in a Property's schema (v3 does)`,
      );
    }
    const parsed = this.parse(node.elementSchema, [...path, 'elementSchema']);
    if (!parsed) return undefined;
    return {
      schema: { kind: 'array', id: idOf(node), elementSchema: parsed.schema },
      height: parsed.height + 1,
    };
  }
}

function idOf(node: JsonObject): string | undefined {
  return typeof node['@id'] === 'string' ? node['@id'] : undefined;
}

/** `point` or its DTMI (dtmi:standard:schema:geospatial:point;2 in v2, ;3 in v3). */
function geospatialName(text: string, version: DtdlVersion): GeospatialSchemaName | undefined {
  const prefix = 'dtmi:standard:schema:geospatial:';
  const term = text.startsWith(prefix) && text.endsWith(`;${version}`) ? text.slice(prefix.length, -2) : text;
  return (GEOSPATIAL_SCHEMAS as readonly string[]).includes(term)
    ? (term as GeospatialSchemaName)
    : undefined;
}
