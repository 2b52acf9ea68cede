import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { literal, parsed, path, rejected } from './helpers.js';

const site = path('tags.site');

describe('parseCondition operators', () => {
  for (const operator of ['=', '!=', '<', '<=', '>', '>='] as const) {
    it(`parses the ${operator} comparison`, () => {
      assert.deepEqual(parsed(`tags.site ${operator} 'lab'`), {
        kind: 'compare',
        operator,
        left: site,
        right: literal('lab'),
      });
    });
  }

  it('reads <> as !=', () => {
    assert.deepEqual(parsed("tags.site <> 'lab'"), parsed("tags.site != 'lab'"));
  });

  it('parses comparisons without spaces around the operator', () => {
    assert.deepEqual(parsed('tags.floor>=-2'), {
      kind: 'compare',
      operator: '>=',
      left: path('tags.floor'),
      right: literal(-2),
    });
  });

  it('accepts the constant on the left of a comparison', () => {
    assert.deepEqual(parsed("'lab' = tags.site"), {
      kind: 'compare',
      operator: '=',
      left: literal('lab'),
      right: site,
    });
  });

  it('compares two properties with each other', () => {
    assert.deepEqual(
      parsed('properties.desired.interval = properties.reported.interval', { dialect: 'hubQuery' }),
      {
        kind: 'compare',
        operator: '=',
        left: path('properties.desired.interval'),
        right: path('properties.reported.interval'),
      },
    );
  });

  it('parses IN with a list of mixed constants', () => {
    assert.deepEqual(parsed("tags.site IN ['lab', 3, -1.5, true, false, null]"), {
      kind: 'in',
      path: site,
      values: ['lab', 3, -1.5, true, false, null],
    });
  });

  it('parses NIN with a single value', () => {
    assert.deepEqual(parsed("tags.site NIN ['lab']"), { kind: 'nin', path: site, values: ['lab'] });
  });

  it('parses IS_DEFINED, STARTSWITH and ENDSWITH', () => {
    assert.deepEqual(parsed('IS_DEFINED(tags.site)'), { kind: 'isDefined', path: site });
    assert.deepEqual(parsed("STARTSWITH(deviceId, 'edge-')"), {
      kind: 'startsWith',
      path: path('deviceId'),
      value: 'edge-',
    });
    assert.deepEqual(parsed("ENDSWITH(deviceId, '-01')"), {
      kind: 'endsWith',
      path: path('deviceId'),
      value: '-01',
    });
  });
});

describe('parseCondition keywords and literals', () => {
  it('accepts keywords and function names in any case', () => {
    const canonical = parsed(
      "NOT tags.a = 1 AND tags.b IN [1] OR tags.c NIN [2] AND IS_DEFINED(tags.d) AND STARTSWITH(tags.e, 'x') AND ENDSWITH(tags.f, 'y') AND tags.g = TRUE AND tags.h = FALSE AND tags.i = NULL",
    );
    const mixed = parsed(
      "not tags.a = 1 and tags.b in [1] Or tags.c nIn [2] aNd is_defined(tags.d) AND StartsWith(tags.e, 'x') AND endswith(tags.f, 'y') AND tags.g = true AND tags.h = False AND tags.i = null",
    );
    assert.deepEqual(mixed, canonical);
  });

  it('keeps the spelling of property names as written', () => {
    assert.deepEqual(parsed("Tags.Site = 'lab'"), {
      kind: 'compare',
      operator: '=',
      left: path('Tags.Site'),
      right: literal('lab'),
    });
  });

  it('reads single- and double-quoted strings with the hub escapes', () => {
    const expression = parsed(
      String.raw`tags.a IN ['it\'s', "say \"hi\"", 'back\\slash', '\u00e9\u0041', "mixed 'quotes'", '']`,
    );
    assert.deepEqual(expression, {
      kind: 'in',
      path: path('tags.a'),
      values: ["it's", 'say "hi"', 'back\\slash', 'éA', "mixed 'quotes'", ''],
    });
  });

  it('keeps non-ASCII characters inside strings', () => {
    assert.deepEqual(parsed("tags.city = 'Zürich 東京 🚀'"), {
      kind: 'compare',
      operator: '=',
      left: path('tags.city'),
      right: literal('Zürich 東京 🚀'),
    });
  });

  it('reads integers, decimals and negative numbers', () => {
    assert.deepEqual(parsed('tags.a IN [0, 42, -7, 0.25, -3.5, 007, 123456789012]'), {
      kind: 'in',
      path: path('tags.a'),
      values: [0, 42, -7, 0.25, -3.5, 7, 123456789012],
    });
  });

  it('reads -0 as 0', () => {
    const expression = parsed('tags.a = -0');
    assert.ok(expression.kind === 'compare' && expression.right.kind === 'literal');
    assert.ok(Object.is(expression.right.value, 0));
  });

  it('allows line breaks and tabs between tokens', () => {
    assert.deepEqual(
      parsed("tags.site = 'lab'\n\tAND\r\n status = 'enabled'"),
      parsed("tags.site = 'lab' AND status = 'enabled'"),
    );
  });
});

describe('parseCondition precedence', () => {
  const a = { kind: 'compare', operator: '=', left: path('tags.a'), right: literal(1) } as const;
  const b = { kind: 'compare', operator: '=', left: path('tags.b'), right: literal(2) } as const;
  const c = { kind: 'compare', operator: '=', left: path('tags.c'), right: literal(3) } as const;

  it('binds AND tighter than OR', () => {
    assert.deepEqual(parsed('tags.a = 1 OR tags.b = 2 AND tags.c = 3'), {
      kind: 'or',
      operands: [a, { kind: 'and', operands: [b, c] }],
    });
    assert.deepEqual(parsed('tags.a = 1 AND tags.b = 2 OR tags.c = 3'), {
      kind: 'or',
      operands: [{ kind: 'and', operands: [a, b] }, c],
    });
  });

  it('binds NOT tighter than AND', () => {
    assert.deepEqual(parsed('NOT tags.a = 1 AND tags.b = 2'), {
      kind: 'and',
      operands: [{ kind: 'not', operand: a }, b],
    });
  });

  it('lets parentheses override precedence', () => {
    assert.deepEqual(parsed('(tags.a = 1 OR tags.b = 2) AND tags.c = 3'), {
      kind: 'and',
      operands: [{ kind: 'or', operands: [a, b] }, c],
    });
    assert.deepEqual(parsed('NOT (tags.a = 1 AND tags.b = 2)'), {
      kind: 'not',
      operand: { kind: 'and', operands: [a, b] },
    });
  });

  it('flattens a chain of the same operator into one node', () => {
    assert.deepEqual(parsed('tags.a = 1 AND tags.b = 2 AND tags.c = 3'), {
      kind: 'and',
      operands: [a, b, c],
    });
  });

  it('keeps a parenthesised group of the same operator as its own node', () => {
    assert.deepEqual(parsed('tags.a = 1 AND (tags.b = 2 AND tags.c = 3)'), {
      kind: 'and',
      operands: [a, { kind: 'and', operands: [b, c] }],
    });
  });

  it('drops redundant parentheses around a single comparison', () => {
    assert.deepEqual(parsed('((tags.a = 1))'), a);
  });

  it('applies NOT repeatedly', () => {
    assert.deepEqual(parsed('NOT NOT tags.a = 1'), { kind: 'not', operand: { kind: 'not', operand: a } });
  });
});

describe('parseCondition dialects', () => {
  it('allows tags, deviceId, status, connectionState and modelId in a target condition', () => {
    for (const field of [
      'tags.site',
      'tags.location.region',
      'deviceId',
      'status',
      'connectionState',
      'modelId',
    ]) {
      parsed(`${field} = 'x'`);
    }
  });

  it('uses the deviceTarget dialect unless told otherwise', () => {
    const options = { dialect: 'deviceTarget' } as const;
    assert.equal(rejected('moduleId = 1').message, rejected('moduleId = 1', options).message);
  });

  it('matches the allowed fields case-insensitively, as the hub does', () => {
    parsed("TAGS.site = 'x' AND DeviceID = 'd' AND Status = 'enabled' AND connectionstate = 'Connected'");
  });

  it('rejects twin fields outside a target condition with the allowed list', () => {
    for (const field of [
      'properties.desired.x',
      'properties.reported.x',
      'moduleId',
      'lastActivityTime',
      'etag',
    ]) {
      assert.equal(
        rejected(`${field} = 1`).message,
        `'${field}' at column 1 is not allowed in a target condition; use tags.*, deviceId, status, connectionState or modelId`,
      );
    }
  });

  it('allows the twin fields of device and module twins in the hubQuery dialect', () => {
    const options = { dialect: 'hubQuery' } as const;
    for (const field of [
      'tags.site',
      'deviceId',
      'moduleId',
      'status',
      'statusReason',
      'connectionState',
      'properties.desired.telemetry.interval',
      'properties.reported.$version',
      'properties.desired.$metadata.interval.$lastUpdated',
      'configurations.cfg1.status',
      'lastActivityTime',
      'statusUpdateTime',
      'connectionStateUpdatedTime',
      'version',
      'etag',
      'deviceEtag',
      'capabilities.iotEdge',
      'authenticationType',
      'cloudToDeviceMessageCount',
      'modelId',
      'deviceScope',
      'parentScopes',
      'x509Thumbprint.primaryThumbprint',
    ]) {
      parsed(`IS_DEFINED(${field})`, options);
    }
  });

  it('rejects fields a twin does not have in the hubQuery dialect', () => {
    const error = rejected('properties.x = 1', { dialect: 'hubQuery' });
    assert.match(
      error.message,
      /^'properties\.x' at column 1 is not a twin field; use tags\.\*, properties\.desired\.\*/,
    );
  });

  it('requires a name inside tags, properties.desired and properties.reported', () => {
    assert.equal(
      rejected('tags = 1').message,
      "'tags' at column 1 is an object; name a property inside it, for example tags.site",
    );
    assert.equal(
      rejected('IS_DEFINED(properties.reported)', { dialect: 'hubQuery' }).message,
      "'properties.reported' at column 12 is an object; name a property inside it, for example properties.reported.name",
    );
  });

  it('rejects nested names below a scalar field', () => {
    assert.equal(
      rejected("deviceId.x = 'a'").message,
      "'deviceId.x' at column 1 is not a twin field: deviceId has no nested properties",
    );
  });

  it('rejects $ names outside the desired and reported properties', () => {
    const expected =
      "'tags.$version' at column 1 is not allowed: names starting with '$' exist only under properties.desired and properties.reported";
    assert.equal(rejected('tags.$version = 1').message, expected);
    assert.equal(rejected('tags.$version = 1', { dialect: 'hubQuery' }).message, expected);
  });
});
