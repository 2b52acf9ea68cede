// What a DTDL model says about the properties of a twin, once read: the subset of DTDL that judges values.

export type DtdlVersion = 2 | 3;

export const PRIMITIVE_SCHEMAS = [
  'boolean',
  'date',
  'dateTime',
  'double',
  'duration',
  'float',
  'integer',
  'long',
  'string',
  'time',
] as const;
export type PrimitiveSchemaName = (typeof PRIMITIVE_SCHEMAS)[number];

export const GEOSPATIAL_SCHEMAS = [
  'point',
  'multiPoint',
  'lineString',
  'multiLineString',
  'polygon',
  'multiPolygon',
] as const;
export type GeospatialSchemaName = (typeof GEOSPATIAL_SCHEMAS)[number];

export interface EnumValue {
  name: string;
  value: number | string;
}

export interface ObjectField {
  name: string;
  schema: DtdlSchema;
}

export type DtdlSchema =
  | { kind: 'primitive'; name: PrimitiveSchemaName }
  | { kind: 'geospatial'; name: GeospatialSchemaName }
  | { kind: 'enum'; id?: string; valueSchema: 'integer' | 'string'; values: EnumValue[] }
  | { kind: 'object'; id?: string; fields: ObjectField[] }
  | { kind: 'map'; id?: string; keyName: string; valueName: string; valueSchema: DtdlSchema }
  | { kind: 'array'; id?: string; elementSchema: DtdlSchema };

export interface DtdlProperty {
  name: string;
  writable: boolean;
  schema: DtdlSchema;
  /** The Interface that declares it (an Interface it extends, perhaps). */
  declaredIn: string;
  displayName?: string;
  description?: string;
}

export interface DtdlComponent {
  name: string;
  interfaceId: string;
}

/** The properties that apply to a twin (or to one component of it) and where they come from. */
export interface DtdlModel {
  dtdlVersion: DtdlVersion;
  /** The model's Interface: the first of the text. */
  interfaceId: string;
  /** Set when the properties are those of a component of the model's Interface. */
  component?: DtdlComponent;
  /** Id of the Interface whose properties apply: the component's, or the model's. */
  appliesInterfaceId: string;
  /** Every Property of that Interface (with those it extends), writable or read-only, in declaration order. */
  properties: DtdlProperty[];
  /** Components of the model's Interface (only when the properties are the model's own). */
  components: DtdlComponent[];
}

export function writableProperties(model: DtdlModel): DtdlProperty[] {
  return model.properties.filter((p) => p.writable);
}

/** Whether `name` is a Property the model declares writable: one a TwinConfig may set. */
export function isWritableProperty(model: DtdlModel, name: string): boolean {
  return model.properties.some((p) => p.name === name && p.writable);
}
