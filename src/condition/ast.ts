/** A constant in a condition. Hub conditions compare primitives only (query-twins.md, "Twin query limitations"). */
export type LiteralValue = string | number | boolean | null;

/** A dotted property path, segments as written (the hub matches property names case-insensitively). */
export interface PathOperand {
  readonly kind: 'path';
  readonly segments: readonly string[];
}

export interface LiteralOperand {
  readonly kind: 'literal';
  readonly value: LiteralValue;
}

export type Operand = PathOperand | LiteralOperand;

/** `<>` is parsed as `!=`; both mean the same to the hub. */
export type ComparisonOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** At least one side is a path: the parser rejects comparisons between two constants. */
export interface Comparison {
  readonly kind: 'compare';
  readonly operator: ComparisonOperator;
  readonly left: Operand;
  readonly right: Operand;
}

/** `path IN [...]` and `path NIN [...]`; `values` is never empty. */
export interface Membership {
  readonly kind: 'in' | 'nin';
  readonly path: PathOperand;
  readonly values: readonly LiteralValue[];
}

export interface IsDefined {
  readonly kind: 'isDefined';
  readonly path: PathOperand;
}

/** `STARTSWITH(path, 'text')` and `ENDSWITH(path, 'text')`. */
export interface StringMatch {
  readonly kind: 'startsWith' | 'endsWith';
  readonly path: PathOperand;
  readonly value: string;
}

/**
 * `a AND b AND c` is one node with three operands; a parenthesised group stays a nested node,
 * so formatting reproduces the tree exactly. `operands` has at least two entries.
 */
export interface Conjunction {
  readonly kind: 'and' | 'or';
  readonly operands: readonly Expression[];
}

export interface Negation {
  readonly kind: 'not';
  readonly operand: Expression;
}

export type Expression = Comparison | Membership | IsDefined | StringMatch | Conjunction | Negation;
