import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTwinSchema, type DtdlModel } from '../../src/twin-models/index.js';
import { isDate, isDateTime, isDuration, isTime } from '../../src/twin-models/temporal.js';
import { THERMOSTAT, text } from './sample-models.js';

const ORIGIN = { at: ['spec', 'schema', 'dtdl'], where: 'ConfigMap models, key model.json' };

function model(source: unknown, component?: string): DtdlModel {
  const result = compileTwinSchema({ dtdl: text(source), component }, ORIGIN);
  if (!result.ok) assert.fail(JSON.stringify(result.problems));
  return result.schema.model!;
}

function refusal(source: unknown): string {
  const result = compileTwinSchema({ dtdl: text(source) }, ORIGIN);
  assert.equal(result.ok, false);
  return result.ok ? '' : result.problems[0].message.replace(/^.*?: /, '');
}

describe('the forms DTDL allows', () => {
  it('reads the identifiers of v3 (no version, or major.minor) and refuses them in v2', () => {
    for (const id of ['dtmi:com:example:Fan', 'dtmi:com:example:Fan;2.1']) {
      assert.equal(
        model({ '@context': 'dtmi:dtdl:context;3', '@id': id, '@type': 'Interface' }).interfaceId,
        id,
      );
      assert.match(
        refusal({ '@context': 'dtmi:dtdl:context;2', '@id': id, '@type': 'Interface' }),
        /is not a DTMI for an Interface in DTDL v2/,
      );
    }
    assert.match(
      refusal({ '@context': 'dtmi:dtdl:context;3', '@id': 'dtmi:_system:Fan;1', '@type': 'Interface' }),
      /is not a DTMI/,
    );
  });

  it('reads a component whose interface is written in place, and an interface extended in place', () => {
    const controller = {
      '@context': 'dtmi:dtdl:context;3',
      '@id': 'dtmi:com:example:Controller;1',
      '@type': 'Interface',
      extends: {
        '@id': 'dtmi:com:example:Base;1',
        '@type': 'Interface',
        contents: [{ '@type': 'Property', name: 'label', schema: 'string', writable: true }],
      },
      contents: [
        {
          '@type': 'Component',
          name: 'fan',
          schema: { ...THERMOSTAT, '@context': undefined, '@id': 'dtmi:com:example:Fan;1' },
        },
      ],
    };
    assert.deepEqual(
      model(controller).properties.map((p) => p.name),
      ['label'],
    );
    assert.deepEqual(
      model(controller, 'fan')
        .properties.filter((p) => p.writable)
        .map((p) => p.name),
      ['targetTemperature'],
    );
  });

  it('takes the extension contexts after the DTDL context, and refuses them first', () => {
    const extended = {
      ...THERMOSTAT,
      '@context': ['dtmi:dtdl:context;3', 'dtmi:dtdl:extension:quantitativeTypes;1'],
    };
    assert.equal(model(extended).dtdlVersion, 3);
    assert.match(
      refusal({
        ...THERMOSTAT,
        '@context': ['dtmi:dtdl:extension:quantitativeTypes;1', 'dtmi:dtdl:context;3'],
      }),
      /'dtmi:dtdl:extension:quantitativeTypes;1' is not a DTDL context/,
    );
  });

  it('reads the temporal schemas as RFC 3339 and ISO 8601 say', () => {
    assert.deepEqual(['2024-02-29', '2023-02-29', '2024-13-01', '24-01-01'].map(isDate), [
      true,
      false,
      false,
      false,
    ]);
    assert.deepEqual(['13:45:00', '13:45:00.125Z', '23:59:60+01:00', '24:00:00', '13:45'].map(isTime), [
      true,
      true,
      true,
      false,
      false,
    ]);
    assert.deepEqual(
      [
        '2024-05-31T13:45:00Z',
        '2024-05-31t13:45:00.5-07:00',
        '2024-05-31T13:45:00',
        '2024-05-31 13:45:00Z',
      ].map(isDateTime),
      [true, true, false, false],
    );
    assert.deepEqual(['P1D', 'PT15M', 'P1Y2M3DT4H5M6.5S', 'P2W', 'P', 'PT', 'P1H', '1D'].map(isDuration), [
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });
});
