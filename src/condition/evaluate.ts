import type { ComparisonOperator, Expression, LiteralValue, Operand } from './ast.js';
import { compileValueLookup } from './twin-path.js';

/**
 * Three-valued truth of the hub's query language: `undefined` when a comparison reads a property that is not
 * defined or compares values of different types. A WHERE clause keeps a twin only when its condition is
 * exactly `true` (query language article, "Expressions and conditions").
 */
export type Truth = boolean | undefined;

export type TwinDocument = Record<string, unknown>;
export type TwinPredicate = (twin: TwinDocument) => boolean;
type TruthFunction = (twin: TwinDocument) => Truth;

/** Compiles a condition once into a closure; use it to test many twins. */
export function compileCondition(expression: Expression): TwinPredicate {
  const truth = compileTruth(expression);
  return (twin) => truth(twin) === true;
}

const predicates = new WeakMap<Expression, TwinPredicate>();

/** Whether the hub would select the twin; compiles the expression on first use and caches the closure. */
export function evaluateCondition(expression: Expression, twin: TwinDocument): boolean {
  let predicate = predicates.get(expression);
  if (predicate === undefined) {
    predicate = compileCondition(expression);
    predicates.set(expression, predicate);
  }
  return predicate(twin);
}

const truths = new WeakMap<Expression, TruthFunction>();

/** The three-valued result, for callers that explain why a twin was or was not selected. */
export function evaluateTruth(expression: Expression, twin: TwinDocument): Truth {
  let truth = truths.get(expression);
  if (truth === undefined) {
    truth = compileTruth(expression);
    truths.set(expression, truth);
  }
  return truth(twin);
}

export function compileTruth(expression: Expression): TruthFunction {
  switch (expression.kind) {
    case 'and':
      return compileAnd(expression.operands.map(compileTruth));
    case 'or':
      return compileOr(expression.operands.map(compileTruth));
    case 'not': {
      const operand = compileTruth(expression.operand);
      return (twin) => {
        const truth = operand(twin);
        return truth === undefined ? undefined : !truth;
      };
    }
    case 'compare':
      return compileComparison(expression.operator, expression.left, expression.right);
    case 'in':
      return compileMembership(expression.path.segments, expression.values);
    case 'nin': {
      const membership = compileMembership(expression.path.segments, expression.values);
      return (twin) => {
        const truth = membership(twin);
        return truth === undefined ? undefined : !truth;
      };
    }
    case 'isDefined': {
      // Defined includes an explicit null (query language article, IS_DEFINED).
      const lookup = compileValueLookup(expression.path.segments);
      return (twin) => lookup(twin) !== undefined;
    }
    case 'startsWith':
    case 'endsWith': {
      const lookup = compileValueLookup(expression.path.segments);
      const text = expression.value;
      const matches =
        expression.kind === 'startsWith'
          ? (value: string) => value.startsWith(text)
          : (value: string) => value.endsWith(text);
      return (twin) => {
        const value = lookup(twin);
        return typeof value === 'string' ? matches(value) : undefined;
      };
    }
  }
}

/** false wins over undefined, undefined over true. */
function compileAnd(operands: TruthFunction[]): TruthFunction {
  if (operands.length === 2) {
    const [first, second] = operands;
    return (twin) => {
      const a = first(twin);
      if (a === false) return false;
      const b = second(twin);
      if (b === false) return false;
      return a === undefined || b === undefined ? undefined : true;
    };
  }
  return (twin) => {
    let result: Truth = true;
    for (const operand of operands) {
      const truth = operand(twin);
      if (truth === false) return false;
      if (truth === undefined) result = undefined;
    }
    return result;
  };
}

/** true wins over undefined, undefined over false. */
function compileOr(operands: TruthFunction[]): TruthFunction {
  if (operands.length === 2) {
    const [first, second] = operands;
    return (twin) => {
      const a = first(twin);
      if (a === true) return true;
      const b = second(twin);
      if (b === true) return true;
      return a === undefined || b === undefined ? undefined : false;
    };
  }
  return (twin) => {
    let result: Truth = false;
    for (const operand of operands) {
      const truth = operand(twin);
      if (truth === true) return true;
      if (truth === undefined) result = undefined;
    }
    return result;
  };
}

/**
 * Comparisons are defined only between two primitives of the same JSON type; anything else (a missing
 * property, an object, a string against a number, null against a string) is undefined. These are the rules
 * of the DocumentDB SQL the hub's language comes from (Cosmos DB "Equality and comparison operators"), and
 * the hub supports comparisons of primitives only (query-twins.md). Strings compare case-sensitively by
 * UTF-16 code unit (azure-iot-sdk-csharp#257: only property names are case-insensitive).
 */
export function compareValues(operator: ComparisonOperator, left: unknown, right: unknown): Truth {
  const type = primitiveType(left);
  if (type === undefined || type !== primitiveType(right)) return undefined;
  const a = left as LiteralValue;
  const b = right as LiteralValue;
  switch (operator) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return (a as number) < (b as number);
    case '<=':
      return (a as number) <= (b as number);
    case '>':
      return (a as number) > (b as number);
    case '>=':
      return (a as number) >= (b as number);
  }
}

function primitiveType(value: unknown): 'string' | 'number' | 'boolean' | 'null' | undefined {
  if (value === null) return 'null';
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' ? type : undefined;
}

function compileComparison(operator: ComparisonOperator, left: Operand, right: Operand): TruthFunction {
  if (left.kind === 'path' && right.kind === 'literal') {
    return compileAgainstConstant(operator, compileValueLookup(left.segments), right.value);
  }
  if (left.kind === 'literal' && right.kind === 'path') {
    return compileAgainstConstant(mirror(operator), compileValueLookup(right.segments), left.value);
  }
  const readLeft = operandReader(left);
  const readRight = operandReader(right);
  return (twin) => compareValues(operator, readLeft(twin), readRight(twin));
}

/** The common shape `path op constant`, with the constant's type checked once. */
function compileAgainstConstant(
  operator: ComparisonOperator,
  lookup: (twin: unknown) => unknown,
  constant: LiteralValue,
): TruthFunction {
  const type = primitiveType(constant);
  if (operator === '=') {
    return (twin) => {
      const value = lookup(twin);
      return value === constant ? true : primitiveType(value) === type ? false : undefined;
    };
  }
  if (operator === '!=') {
    return (twin) => {
      const value = lookup(twin);
      return value === constant ? false : primitiveType(value) === type ? true : undefined;
    };
  }
  const isSameType = sameTypeTest(constant);
  const order = ORDERINGS[operator];
  return (twin) => {
    const value = lookup(twin);
    return isSameType(value) ? order(value as LiteralValue, constant) : undefined;
  };
}

type Ordering = (a: LiteralValue, b: LiteralValue) => boolean;

// Same-type primitives only, so JavaScript's operators give the hub's order: numbers numerically,
// strings by code unit, false before true.
const ORDERINGS: Record<'<' | '<=' | '>' | '>=', Ordering> = {
  '<': (a, b) => (a as number) < (b as number),
  '<=': (a, b) => (a as number) <= (b as number),
  '>': (a, b) => (a as number) > (b as number),
  '>=': (a, b) => (a as number) >= (b as number),
};

function sameTypeTest(constant: LiteralValue): (value: unknown) => boolean {
  if (constant === null) return (value) => value === null;
  const type = typeof constant;
  return (value) => typeof value === type;
}

function mirror(operator: ComparisonOperator): ComparisonOperator {
  switch (operator) {
    case '<':
      return '>';
    case '<=':
      return '>=';
    case '>':
      return '<';
    case '>=':
      return '<=';
    default:
      return operator;
  }
}

function operandReader(operand: Operand): (twin: unknown) => unknown {
  if (operand.kind === 'path') return compileValueLookup(operand.segments);
  const { value } = operand;
  return () => value;
}

/**
 * `x IN [a, b]` means `x = a OR x = b` (DocumentDB SQL "IN keyword"), so a list that mixes types can make
 * the result undefined for a value that matches none of them. NIN is NOT IN.
 */
function compileMembership(segments: readonly string[], values: readonly LiteralValue[]): TruthFunction {
  const lookup = compileValueLookup(segments);
  const members = new Set<unknown>(values);
  const types = new Set(values.map(primitiveType));
  const mixed = types.size > 1;
  return (twin) => {
    const value = lookup(twin);
    const type = primitiveType(value);
    if (type === undefined) return undefined;
    if (members.has(value)) return true;
    if (mixed || !types.has(type)) return undefined;
    return false;
  };
}
