import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTwinSchema, type TwinSchema } from '../../src/twin-models/index.js';
import { formatFieldPath } from '../../src/validation/issues.js';

const INLINE = { at: ['spec', 'schema', 'jsonSchema'] };

const THERMOSTAT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['targetTemperature'],
  properties: {
    targetTemperature: { type: 'number', minimum: 10, maximum: 30 },
    mode: { enum: ['heat', 'cool', 'auto'] },
    schedule: {
      type: 'array',
      maxItems: 4,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { from: { type: 'string', format: 'time' }, setPoint: { type: 'number' } },
      },
    },
    room: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
    contact: { type: 'string', format: 'email' },
  },
};

function compiled(schema: unknown): TwinSchema {
  const result = compileTwinSchema({ jsonSchema: schema }, INLINE);
  if (!result.ok) assert.fail(`the schema does not compile: ${JSON.stringify(result.problems)}`);
  return result.schema;
}

function judged(schema: unknown, properties: unknown): string[] {
  return compiled(schema)
    .judge(properties, ['spec', 'properties'])
    .map((p) => `${formatFieldPath(p.path)}${p.atKey ? ' (key)' : ''}: ${p.message}`);
}

function refusals(schema: unknown): string[] {
  const result = compileTwinSchema({ jsonSchema: schema }, INLINE);
  assert.equal(result.ok, false, 'the schema compiles');
  return result.ok ? [] : result.problems.map((p) => `${formatFieldPath(p.path)}: ${p.message}`);
}

describe('judging desired properties by a JSON Schema', () => {
  it('accepts properties the schema allows', () => {
    const properties = {
      targetTemperature: 21,
      mode: 'auto',
      schedule: [{ from: '06:30:00Z', setPoint: 20 }],
      room: 'hall-2',
      contact: 'not checked',
    };
    assert.deepEqual(judged(THERMOSTAT_SCHEMA, properties), []);
  });

  it('refuses each wrong value at its property, field or item, with a did-you-mean for names', () => {
    const properties = {
      targetTemperatur: 21,
      mode: 'Auto',
      schedule: [{ from: '6:30', setpoint: 20 }],
      room: 'Hall 2',
    };
    assert.deepEqual(judged(THERMOSTAT_SCHEMA, properties), [
      "spec.properties.targetTemperature: required property 'targetTemperature' is missing",
      "spec.properties.targetTemperatur (key): 'targetTemperatur' is not a property the schema allows; did you mean 'targetTemperature'?",
      `spec.properties.mode: 'Auto' is not one of "heat", "cool", "auto"; did you mean 'auto'?`,
      "spec.properties.schedule[0].setpoint (key): unknown field 'setpoint'; did you mean 'setPoint'?",
      "spec.properties.schedule[0].from: '6:30' is not a time with its offset (RFC 3339) such as 13:45:00Z",
      "spec.properties.room: 'Hall 2' does not match the pattern ^[a-z][a-z0-9-]{0,62}$",
    ]);
    assert.deepEqual(judged(THERMOSTAT_SCHEMA, { targetTemperature: 45 }), [
      'spec.properties.targetTemperature: 45 is above the maximum 30',
    ]);
  });

  it('warns of the formats it does not check, at the format', () => {
    const result = compileTwinSchema({ jsonSchema: THERMOSTAT_SCHEMA }, INLINE);
    assert.deepEqual(result.ok && result.schema.warnings, [
      {
        severity: 'warning',
        path: ['spec', 'schema', 'jsonSchema', 'properties', 'contact', 'format'],
        message:
          "the format 'email' is not checked; the formats checked are date, time, date-time, duration, ipv4, ipv6, uuid, hostname",
      },
    ]);
  });

  it('places the problems of an inline schema inside it: misspelt keywords and types', () => {
    assert.deepEqual(refusals({ properties: { a: { type: 'number', minimun: 3 } } }), [
      "spec.schema.jsonSchema.properties.a.minimun: unknown keyword 'minimun'; did you mean 'minimum'?; an extension keyword starts with 'x-'",
    ]);
    assert.deepEqual(refusals({ properties: { a: { type: 'strin' } } }), [
      "spec.schema.jsonSchema.properties.a.type: 'strin' is not a JSON Schema type; did you mean 'string'?",
    ]);
    assert.equal(
      compileTwinSchema({ jsonSchema: { properties: { a: { 'x-unit': 'celsius' } } } }, INLINE).ok,
      true,
    );
  });

  it('follows only references inside the schema, and refuses those that go nowhere', () => {
    assert.deepEqual(refusals({ properties: { a: { $ref: 'https://example.com/thermostat.json' } } }), [
      `spec.schema.jsonSchema.properties.a.$ref: only references inside this schema ('#/...') are followed; "https://example.com/thermostat.json" would be loaded from elsewhere, which the operator never does`,
    ]);
    assert.deepEqual(refusals({ properties: { a: { $ref: '#/definitions/nope' } } }), [
      `spec.schema.jsonSchema.properties.a.$ref: '#/definitions/nope' does not point to anything in this schema`,
    ]);
  });

  it('refuses a reference that applies the schema to the same value without end, and judges a recursive tree', () => {
    assert.deepEqual(refusals({ $ref: '#' }), [
      `spec.schema.jsonSchema.$ref: the schema applies itself to the same value without end (#/$ref): a reference must reach a deeper value (under properties, items...) before it comes back`,
    ]);
    assert.match(
      refusals({
        definitions: { a: { allOf: [{ $ref: '#/definitions/b' }] }, b: { not: { $ref: '#/definitions/a' } } },
        $ref: '#/definitions/a',
      })[0],
      /the schema applies itself to the same value without end \(#\/\$ref -> #\/definitions\/a\/allOf\/0 -> #\/definitions\/a\/allOf\/0\/\$ref -> #\/definitions\/b\/not -> #\/definitions\/b\/not\/\$ref\)/,
    );
    const tree = {
      definitions: {
        node: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            children: { type: 'array', items: { $ref: '#/definitions/node' } },
          },
        },
      },
      properties: { zones: { $ref: '#/definitions/node' } },
    };
    assert.deepEqual(
      judged(tree, { zones: { name: 'floor', children: [{ name: 'hall', children: [{ name: 7 }] }] } }),
      ['spec.properties.zones.children[0].children[0].name: must be a string, not 7'],
    );
  });

  it('reads drafts 06, 07, 2019-09 and 2020-12, and refuses draft-04 and asynchronous schemas', () => {
    const draft2020 = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      properties: {
        window: {
          type: 'array',
          prefixItems: [
            { type: 'string', format: 'time' },
            { type: 'string', format: 'time' },
          ],
        },
      },
      unevaluatedProperties: false,
    };
    assert.deepEqual(judged(draft2020, { window: ['22:00:00Z', 'late'], extra: 1 }), [
      "spec.properties.window[1]: 'late' is not a time with its offset (RFC 3339) such as 13:45:00Z",
      "spec.properties.extra (key): 'extra' is not a property the schema allows; expected one of window",
    ]);
    const draft2019 = {
      $schema: 'https://json-schema.org/draft/2019-09/schema',
      dependentRequired: { schedule: ['mode'] },
    };
    assert.deepEqual(judged(draft2019, { schedule: [] }), [
      "spec.properties: 'mode' is required when 'schedule' is set",
    ]);
    const draft06 = {
      $schema: 'http://json-schema.org/draft-06/schema#',
      properties: { level: { exclusiveMinimum: 0 } },
    };
    assert.deepEqual(judged(draft06, { level: 0 }), [
      'spec.properties.level: 0 is below the minimum 0 (exclusive)',
    ]);
    assert.deepEqual(refusals({ $schema: 'http://json-schema.org/draft-04/schema#' }), [
      'spec.schema.jsonSchema.$schema: JSON Schema draft-04 is not supported; declare draft-07 (the default), 2019-09 or 2020-12',
    ]);
    assert.deepEqual(refusals({ $async: true, type: 'object' }), [
      'spec.schema.jsonSchema.$async: asynchronous schemas ($async) are not supported: values are judged at once',
    ]);
  });

  it('places the problems of a schema read as text at the field that names it, with the line and column', () => {
    const origin = {
      at: ['spec', 'schema', 'configMapKeyRef'],
      where: 'ConfigMap schemas, key thermostat.json',
    };
    const text = '{\n  "type": "object",\n  "properties": {\n    "a": { "type": "integr" }\n  }\n}';
    const result = compileTwinSchema({ jsonSchemaText: text }, origin);
    assert.deepEqual(!result.ok && result.problems, [
      {
        severity: 'error',
        path: ['spec', 'schema', 'configMapKeyRef'],
        message:
          "ConfigMap schemas, key thermostat.json, line 4, column 20 (properties.a.type): 'integr' is not a JSON Schema type; did you mean 'integer'?",
        textPosition: { line: 4, column: 20 },
      },
    ]);
    const elsewhere = compileTwinSchema(
      { jsonSchemaText: text },
      { at: ['spec', 'schemaRef'], where: 'ConfigMap other, key a.json' },
    );
    assert.match(
      !elsewhere.ok ? elsewhere.problems[0].message : '',
      /^ConfigMap other, key a.json, line 4/,
      'each caller gets its own places',
    );
  });
});

describe('judging within bounded time and memory', () => {
  it('refuses patterns that need backtracking, and judges catastrophic ones in linear time', () => {
    assert.deepEqual(refusals({ properties: { a: { pattern: '^(a)\\1$' } } }), [
      'spec.schema.jsonSchema.properties.a.pattern: the pattern "^(a)\\\\1$" is refused: backreferences (\\1) are not supported',
    ]);
    assert.deepEqual(refusals({ patternProperties: { '^(?=x)': {} } }), [
      'spec.schema.jsonSchema.patternProperties["^(?=x)"]: the pattern "^(?=x)" is refused: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported',
    ]);
    // Judged at all (a backtracking engine would not return): how fast is bench/'s to say, not a test's.
    assert.deepEqual(judged({ properties: { a: { pattern: '^(a+)+$' } } }, { a: `${'a'.repeat(30_000)}!` }), [
      `spec.properties.a: '${'a'.repeat(60)}…' does not match the pattern ^(a+)+$`,
    ]);
  });

  it('stops judging when the patterns take too many steps, and says so', () => {
    assert.deepEqual(judged({ properties: { a: { pattern: '[ab]{0,999}c' } } }, { a: 'a'.repeat(30_000) }), [
      "spec.properties: the values take more than 5,000,000 steps to check against the schema's patterns; shorten the long strings or the patterns",
    ]);
  });

  it('refuses a schema nested too deep, too large, with references chained too long, or that contains itself', () => {
    let deep: unknown = { type: 'number' };
    for (let i = 0; i < 100; i++) deep = { properties: { a: deep } };
    assert.match(refusals(deep)[0], /the schema nests more than 64 levels deep$/);
    const large = {
      properties: Object.fromEntries(
        Array.from({ length: 8000 }, (_, i) => [`property${i}`, { type: 'string', maxLength: 64 }]),
      ),
    };
    assert.deepEqual(refusals(large), [
      'spec.schema.jsonSchema: the schema is 373.9 KiB; at most 256 KiB is compiled',
    ]);
    const definitions = Object.fromEntries(
      Array.from({ length: 3990 }, (_, i) => [
        `a${i}`,
        i === 3989 ? { type: 'number' } : { $ref: `#/definitions/a${i + 1}` },
      ]),
    );
    assert.deepEqual(refusals({ definitions, properties: { x: { $ref: '#/definitions/a0' } } }), [
      'spec.schema.jsonSchema: the schema does not compile: its references lead through too many schemas in a row',
    ]);
    const cyclic: Record<string, unknown> = { type: 'object' };
    cyclic.properties = { self: cyclic };
    assert.match(refusals(cyclic)[0], /the schema nests more than 64 levels deep$/);
  });

  it('refuses properties larger than a twin holds, and properties that are not an object', () => {
    const schema = { type: 'object' };
    assert.deepEqual(judged(schema, { blob: 'x'.repeat(40_000) }), [
      'spec.properties: the properties are 39.1 KiB as JSON; IoT Hub keeps at most 32 KiB of desired properties in a twin',
    ]);
    assert.deepEqual(judged(schema, [1, 2]), [
      'spec.properties: the properties must be an object of property names to values',
    ]);
  });

  it('shows at most 50 problems', () => {
    const properties = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`p${i}`, 'x']));
    const problems = judged({ additionalProperties: { type: 'number' } }, properties);
    assert.equal(problems.length, 51);
    assert.equal(problems[50], 'spec.properties: only the first 50 problems are shown');
  });
});
