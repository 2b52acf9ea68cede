import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTwinSchema } from '../../src/twin-models/index.js';
import { DEVICE_INFORMATION, TEMPERATURE_CONTROLLER, THERMOSTAT, text } from './sample-models.js';

const ORIGIN = { at: ['spec', 'schema', 'dtdl'], where: 'ConfigMap models, key thermostat.json' };

/** The problems of a model that does not compile, as a person reads them. */
function refusals(model: string, component?: string): string[] {
  const result = compileTwinSchema({ dtdl: model, component }, ORIGIN);
  assert.equal(result.ok, false, 'the model compiles');
  return result.ok ? [] : result.problems.map((p) => p.message);
}

function withContents(contents: unknown[], extra: Record<string, unknown> = {}, version = 2): string {
  return text({
    '@context': `dtmi:dtdl:context;${version}`,
    '@id': 'dtmi:com:example:Fan;1',
    '@type': 'Interface',
    contents,
    ...extra,
  });
}

describe('reading a DTDL model', () => {
  it('places a JSON syntax error at its line and column in the text', () => {
    const result = compileTwinSchema(
      { dtdl: '{\n  "@context": "dtmi:dtdl:context;2",\n  "@id": ,\n}' },
      ORIGIN,
    );
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.problems[0], {
      severity: 'error',
      path: ['spec', 'schema', 'dtdl'],
      message:
        "ConfigMap models, key thermostat.json, line 3, column 10: the model is not valid JSON: Unexpected token ','",
      textPosition: { line: 3, column: 10 },
    });
  });

  it('places a problem of the model at the line and column of the element, with its path in the model', () => {
    const model = withContents([
      { '@type': 'Property', name: 'speed', schema: 'integer', writable: true },
      { '@type': 'Property', name: 'mode', schema: 'strng', writable: true },
    ]);
    const result = compileTwinSchema({ dtdl: model }, ORIGIN);
    assert.deepEqual(!result.ok && result.problems, [
      {
        severity: 'error',
        path: ['spec', 'schema', 'dtdl'],
        message:
          "ConfigMap models, key thermostat.json, line 15, column 17 (contents[1].schema): 'strng' is not a DTDL schema; did you mean 'string'?",
        textPosition: { line: 15, column: 17 },
      },
    ]);
    assert.equal(model.split('\n')[14].slice(16), '"strng",');
  });

  it('refuses what is not a DTDL Interface, and DTDL versions other than 2 and 3', () => {
    assert.deepEqual(refusals('{"$schema": "http://json-schema.org/draft-07/schema#"}'), [
      'ConfigMap models, key thermostat.json, line 1, column 1 (["@context"]): the @context is missing: a DTDL model starts with "@context": "dtmi:dtdl:context;2" or "dtmi:dtdl:context;3"',
    ]);
    assert.deepEqual(refusals(text({ ...THERMOSTAT, '@context': 'dtmi:dtdl:context;4' })), [
      'ConfigMap models, key thermostat.json, line 2, column 15 (["@context"]): dtmi:dtdl:context;4 is a DTDL version this operator does not read; it reads DTDL v2 (dtmi:dtdl:context;2) and v3 (dtmi:dtdl:context;3)',
    ]);
    assert.deepEqual(refusals(text({ ...THERMOSTAT, '@type': 'Interfce' })), [
      "ConfigMap models, key thermostat.json, line 4, column 12 ([\"@type\"]): @type 'Interfce' is not 'Interface'; did you mean 'Interface'?",
    ]);
    assert.deepEqual(refusals(text([])), [
      'ConfigMap models, key thermostat.json, line 1, column 1: the model is an empty list; it must hold at least one Interface',
    ]);
    assert.deepEqual(refusals(withContents([{ '@type': 'Proprety', name: 'speed', schema: 'double' }])), [
      "ConfigMap models, key thermostat.json, line 7, column 16 (contents[0][\"@type\"]): @type 'Proprety' is not one of Property, Telemetry, Command, Relationship, Component; did you mean 'Property'?",
    ]);
  });

  it('refuses a component whose interface the model does not include', () => {
    const problems = refusals(text([TEMPERATURE_CONTROLLER, THERMOSTAT]));
    assert.deepEqual(problems, [
      "ConfigMap models, key thermostat.json, line 43, column 19 ([0].contents[5].schema): the Component 'deviceInformation' uses the Interface dtmi:azure:DeviceManagement:DeviceInformation;1, which is not in the model; put it in the same text (a JSON list of Interfaces)",
    ]);
  });

  it('refuses a component in a component, an interface that extends itself, a missing base', () => {
    const nested = {
      ...THERMOSTAT,
      contents: [
        ...THERMOSTAT.contents,
        { '@type': 'Component', name: 'info', schema: DEVICE_INFORMATION['@id'] },
      ],
    };
    assert.match(
      refusals(text([TEMPERATURE_CONTROLLER, nested, DEVICE_INFORMATION]))[0],
      /the Component 'thermostat1' uses dtmi:com:example:Thermostat;1, which has a Component \('info'\); DTDL does not allow a Component in a Component$/,
    );
    assert.match(
      refusals(withContents([], { extends: 'dtmi:com:example:Fan;1' }))[0],
      /\(extends\): dtmi:com:example:Fan;1 extends itself \(dtmi:com:example:Fan;1 -> dtmi:com:example:Fan;1\)$/,
    );
    assert.match(
      refusals(withContents([], { extends: 'dtmi:com:example:Motor;1' }))[0],
      /\(extends\): the Interface dtmi:com:example:Motor;1 is not in the model; put it in the same text/,
    );
  });

  it('refuses an Array in a v2 Property, which v3 allows', () => {
    const array = [
      {
        '@type': 'Property',
        name: 'leds',
        writable: true,
        schema: { '@type': 'Array', elementSchema: 'boolean' },
      },
    ];
    assert.match(
      refusals(withContents(array))[0],
      /DTDL v2 does not allow an Array in a Property's schema \(v3 does\)$/,
    );
    assert.equal(compileTwinSchema({ dtdl: withContents(array, {}, 3) }, ORIGIN).ok, true);
  });

  it('refuses schemas nested deeper than 5 levels, and a reusable schema that contains itself', () => {
    let schema: unknown = 'double';
    for (let i = 0; i < 6; i++) schema = { '@type': 'Object', fields: [{ name: 'inner', schema }] };
    assert.match(
      refusals(withContents([{ '@type': 'Property', name: 'deep', writable: true, schema }]))[0],
      /\(contents\[0\]\.schema\.fields\[0\]\.schema\.fields\[0\]\.schema\.fields\[0\]\.schema\.fields\[0\]\.schema\.fields\[0\]\.schema\): complex schemas nest more than 5 levels here, the most DTDL allows$/,
    );
    const loop = withContents(
      [{ '@type': 'Property', name: 'tree', writable: true, schema: 'dtmi:com:example:node;1' }],
      {
        schemas: [
          {
            '@id': 'dtmi:com:example:node;1',
            '@type': 'Object',
            fields: [{ name: 'child', schema: 'dtmi:com:example:node;1' }],
          },
        ],
      },
    );
    assert.match(
      refusals(loop)[0],
      /the schema dtmi:com:example:node;1 contains itself \(dtmi:com:example:node;1 -> dtmi:com:example:node;1\)/,
    );
  });

  it('refuses a reference to a schema the interface does not define, and a badly formed Enum and Map', () => {
    const problems = refusals(
      withContents([
        { '@type': 'Property', name: 'a', writable: true, schema: 'dtmi:com:example:missing;1' },
        {
          '@type': 'Property',
          name: 'b',
          writable: true,
          schema: {
            '@type': 'Enum',
            valueSchema: 'integer',
            enumValues: [{ name: 'low', enumValue: 'LOW' }],
          },
        },
        {
          '@type': 'Property',
          name: 'c',
          writable: true,
          schema: {
            '@type': 'Map',
            mapKey: { name: 'k', schema: 'integer' },
            mapValue: { name: 'v', schema: 'string' },
          },
        },
        { '@type': 'Property', name: 'd', writable: true, schema: 'string' },
        { '@type': 'Property', name: 'd', writable: true, schema: 'string' },
      ]),
    );
    assert.deepEqual(
      problems.map((p) => p.replace(/^.*?: /, '')),
      [
        "dtmi:com:example:missing;1 is not one of the schemas of dtmi:com:example:Fan;1; an Interface uses the complex schemas it defines in its own 'schemas'",
        "the enumValue must be an integer, as the Enum's valueSchema says",
        "a MapKey's schema must be 'string'",
        "the name 'd' is already used in dtmi:com:example:Fan;1; names must be unique among an Interface's contents, those it extends included",
      ],
    );
  });

  it('stops a chain of 6,000 schemas that refer to one another at the sixth', () => {
    const schemas = Array.from({ length: 6_000 }, (_, i) => ({
      '@id': `dtmi:com:example:level${i};1`,
      '@type': 'Object',
      fields: [{ name: 'next', schema: i === 5_999 ? 'double' : `dtmi:com:example:level${i + 1};1` }],
    }));
    const model = JSON.stringify({
      '@context': 'dtmi:dtdl:context;3',
      '@id': 'dtmi:com:example:Fan;1',
      '@type': 'Interface',
      contents: [{ '@type': 'Property', name: 'chain', writable: true, schema: 'dtmi:com:example:level0;1' }],
      schemas,
    });
    assert.deepEqual(
      refusals(model).map((p) => p.replace(/^.*?\(/, '(')),
      ['(schemas[5]): complex schemas nest more than 5 levels here, the most DTDL allows'],
    );
  });

  it('holds DTDL v2 to its limit of 300 contents', () => {
    const contents = Array.from({ length: 301 }, (_, i) => ({
      '@type': 'Property',
      name: `p${i}`,
      schema: 'double',
    }));
    assert.match(
      refusals(withContents(contents))[0],
      /dtmi:com:example:Fan;1 has 301 contents with those it extends; DTDL v2 allows at most 300$/,
    );
  });
});
