// Judging a twin's desired properties before anything is written: by a JSON Schema or by the writable
// Properties of a DTDL v2/v3 model. See compileTwinSchema.
export {
  type CompiledTwinSchema,
  compileTwinSchema,
  type SchemaOrigin,
  type TwinSchema,
  type TwinSchemaSource,
  twinSchemaCompilations,
} from './compile-twin-schema.js';
export { type ReadModel, readDtdlModel } from './dtdl/dtdl-model.js';
export { isDtmi } from './dtdl/dtdl-syntax.js';
export {
  type DtdlComponent,
  type DtdlModel,
  type DtdlProperty,
  type DtdlSchema,
  type DtdlVersion,
  isWritableProperty,
  writableProperties,
} from './dtdl/dtdl-types.js';
export type { FieldPath, ModelProblem } from './problems.js';
export { twinKeyProblem } from './twin-keys.js';
