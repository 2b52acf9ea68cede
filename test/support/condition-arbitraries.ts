// Random conditions (fast-check): names, literals and expression trees, for the condition tests and the fuzzer.
import fc from 'fast-check';
import { isReservedWord } from '../../src/condition/dialect.js';
import type { Expression, LiteralValue, Operand, PathOperand } from '../../src/condition/index.js';

export interface ConditionPools {
  /** Names for segments below `tags`. */
  readonly name: fc.Arbitrary<string>;
  readonly literal: fc.Arbitrary<LiteralValue>;
  readonly text: fc.Arbitrary<string>;
  /** Include fields only the hubQuery dialect allows. */
  readonly hubFields?: boolean;
}

export const validName = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/)
  .filter((name) => !isReservedWord(name));

/** Trees compared with deepStrictEqual must have Object.prototype, as the parser's nodes do. */
const plain = { noNullPrototype: true } as const;

/** Every UTF-16 code unit, lone surrogates included. */
const anyCodeUnits = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  maxLength: 12,
});

export const anyText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  anyCodeUnits,
);

export const anyNumber = fc
  .oneof(
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 1e21, 1e-7, 123.456e-20),
  )
  .map((value) => (value === 0 ? 0 : value));

export const anyLiteral: fc.Arbitrary<LiteralValue> = fc.oneof(
  anyText,
  anyNumber,
  fc.boolean(),
  fc.constant(null),
);

function pathArbitrary(pools: ConditionPools): fc.Arbitrary<PathOperand> {
  const tags = fc
    .array(pools.name, { minLength: 1, maxLength: 3 })
    .map((names): PathOperand => ({ kind: 'path', segments: ['tags', ...names] }));
  const scalars = fc.constantFrom('deviceId', 'status', 'connectionState');
  const hubOnly = fc.oneof(
    fc.constantFrom('moduleId', 'lastActivityTime', 'version', 'capabilities.iotEdge'),
    fc
      .tuple(fc.constantFrom('properties.desired', 'properties.reported'), pools.name)
      .map(([root, name]) => `${root}.${name}`),
    fc.constantFrom('properties.reported.$version', 'properties.desired.$metadata.$lastUpdated'),
  );
  const fields = pools.hubFields ? fc.oneof(scalars, hubOnly) : scalars;
  return fc.oneof(
    tags,
    fields.map((field): PathOperand => ({ kind: 'path', segments: field.split('.') })),
  );
}

/** Random condition trees of the shape the parser produces: AND/OR with two or more operands. */
export function expressionArbitrary(pools: ConditionPools): fc.Arbitrary<Expression> {
  const path = pathArbitrary(pools);
  const literal = pools.literal.map((value): Operand => ({ kind: 'literal', value }));
  const comparison = fc
    .record(
      {
        operator: fc.constantFrom('=', '!=', '<', '<=', '>', '>=' as const),
        sides: fc.oneof(fc.tuple(path, literal), fc.tuple(literal, path), fc.tuple(path, path)),
      },
      plain,
    )
    .map(({ operator, sides: [left, right] }): Expression => ({ kind: 'compare', operator, left, right }));
  const membership = fc
    .record(
      {
        kind: fc.constantFrom('in', 'nin' as const),
        path,
        values: fc.array(pools.literal, { minLength: 1, maxLength: 4 }),
      },
      plain,
    )
    .map((node): Expression => node);
  const isDefined = path.map((p): Expression => ({ kind: 'isDefined', path: p }));
  const stringMatch = fc
    .record({ kind: fc.constantFrom('startsWith', 'endsWith' as const), path, value: pools.text }, plain)
    .map((node): Expression => node);
  const leaf = fc.oneof(comparison, comparison, membership, isDefined, stringMatch);

  const { expression } = fc.letrec<{ expression: Expression }>((tie) => ({
    expression: fc.oneof(
      { maxDepth: 4, depthIdentifier: 'condition' },
      leaf,
      fc
        .record(
          {
            kind: fc.constantFrom('and', 'or' as const),
            operands: fc.array(tie('expression'), { minLength: 2, maxLength: 3 }),
          },
          plain,
        )
        .map((node): Expression => node),
      tie('expression').map((operand): Expression => ({ kind: 'not', operand })),
    ),
  }));
  return expression;
}
