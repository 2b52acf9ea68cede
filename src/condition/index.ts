export type {
  Comparison,
  ComparisonOperator,
  Conjunction,
  Expression,
  IsDefined,
  LiteralOperand,
  LiteralValue,
  Membership,
  Negation,
  Operand,
  PathOperand,
  StringMatch,
} from './ast.js';
export { conditionFromDeviceIds } from './device-ids.js';
export type { Dialect } from './dialect.js';
export type { ConditionError } from './errors.js';
export {
  compileCondition,
  evaluateCondition,
  evaluateTruth,
  type Truth,
  type TwinDocument,
  type TwinPredicate,
} from './evaluate.js';
export { formatCondition } from './format.js';
export { MAX_CONDITION_LENGTH, MAX_NESTING_DEPTH, MAX_QUERY_LENGTH } from './limits.js';
export { type ConditionParseResult, type ParseOptions, parseCondition } from './parser.js';
export { compileProjection, type Projection, projectFields } from './project.js';
export {
  type Collection,
  formatQuery,
  type HubQuery,
  parseQuery,
  type QueryParseResult,
  type Selection,
} from './query.js';
