import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  compileProjection,
  conditionFromDeviceIds,
  evaluateCondition,
  formatCondition,
  formatQuery,
  MAX_QUERY_LENGTH,
  parseQuery,
  projectFields,
} from '../../src/condition/index.js';
import { parsed, parsedQuery, rejectedQuery } from './helpers.js';

describe('parseQuery', () => {
  it('parses SELECT * FROM devices without a condition', () => {
    assert.deepEqual(parsedQuery('SELECT * FROM devices'), { select: '*', from: 'devices' });
  });

  it('parses a module query narrowed by device id', () => {
    const query = parsedQuery(
      "SELECT * FROM devices.modules WHERE moduleId = 'azureiotsecurity' AND deviceId IN ['a', 'b']",
    );
    assert.equal(query.from, 'devices.modules');
    assert.deepEqual(
      query.where,
      parsed("moduleId = 'azureiotsecurity' AND deviceId IN ['a', 'b']", { dialect: 'hubQuery' }),
    );
  });

  it('accepts keywords and collection names in any case', () => {
    assert.deepEqual(
      parsedQuery("select * from Devices.Modules where Properties.Reported.x > 3 and tags.site = 'lab'"),
      parsedQuery("SELECT * FROM devices.modules WHERE Properties.Reported.x > 3 AND tags.site = 'lab'"),
    );
  });

  it('ignores line breaks and extra spaces the SDK or a person may add', () => {
    assert.deepEqual(
      parsedQuery(
        "\n  SELECT   *\n  FROM devices\n  WHERE tags.location.region = 'US'\n    AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60\n",
      ),
      parsedQuery(
        "SELECT * FROM devices WHERE tags.location.region = 'US' AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
      ),
    );
  });

  it('uses the hubQuery dialect for the condition', () => {
    const query = parsedQuery(
      "SELECT * FROM devices WHERE IS_DEFINED(properties.reported.connectivity) AND lastActivityTime > '2024-01-01'",
    );
    assert.equal(query.where?.kind, 'and');
  });

  it('parses a field list as dotted paths', () => {
    assert.deepEqual(
      parsedQuery(
        "SELECT DeviceId, LastActivityTime, properties.reported.firmware FROM devices WHERE status = 'enabled'",
      ).select,
      ['DeviceId', 'LastActivityTime', 'properties.reported.firmware'],
    );
  });

  it('allows whole objects in the field list', () => {
    assert.deepEqual(parsedQuery('SELECT deviceId, tags, properties FROM devices').select, [
      'deviceId',
      'tags',
      'properties',
    ]);
  });

  it('parses COUNT() with its alias', () => {
    assert.deepEqual(parsedQuery("select count() as numberOfDevices from devices where tags.site = 'lab'"), {
      select: { count: 'numberOfDevices' },
      from: 'devices',
      where: parsed("tags.site = 'lab'"),
    });
  });
});

describe('parseQuery errors', () => {
  const check = (text: string, column: number, message: string) => {
    const error = rejectedQuery(text);
    assert.equal(error.message, message);
    assert.equal(error.column, column);
  };

  it('requires SELECT, a selection, FROM and a collection', () => {
    check('', 1, 'unexpected end of input at column 1, expected SELECT');
    check('DELETE FROM devices', 1, "unexpected 'DELETE' at column 1, expected SELECT");
    check(
      'SELECT FROM devices',
      8,
      "unexpected 'FROM' at column 8, expected '*', COUNT() or a twin field to select",
    );
    check('SELECT * devices', 10, "unexpected 'devices' at column 10, expected FROM");
    check('SELECT * FROM', 14, 'unexpected end of input at column 14, expected devices or devices.modules');
  });

  it('rejects collections other than devices and devices.modules', () => {
    check(
      'SELECT * FROM devices.jobs',
      15,
      "unsupported collection 'devices.jobs' at column 15; use devices or devices.modules",
    );
    check(
      'SELECT * FROM twins',
      15,
      "unsupported collection 'twins' at column 15; use devices or devices.modules",
    );
  });

  it('rejects clauses outside the subset', () => {
    check('SELECT * FROM devices GROUP BY status', 23, 'GROUP BY at column 23 is not supported');
    check(
      'SELECT * FROM devices WHERE status = 1 ORDER BY deviceId',
      40,
      'ORDER BY at column 40 is not supported',
    );
    check(
      'SELECT TOP 10 * FROM devices',
      8,
      'TOP at column 8 is not supported; page through results with the continuation token',
    );
    check('SELECT deviceId AS id FROM devices', 17, 'aliases at column 17 are supported only for COUNT()');
  });

  it('rejects aggregates other than COUNT and a COUNT without alias', () => {
    check(
      'SELECT AVG(version) AS v FROM devices',
      8,
      "unsupported function 'AVG' at column 8 in SELECT; only COUNT() is supported",
    );
    check(
      'SELECT COUNT() FROM devices',
      16,
      "unexpected 'FROM' at column 16, expected AS and a name for the count, as in COUNT() AS numberOfDevices",
    );
    check(
      'SELECT COUNT(deviceId) AS n FROM devices',
      14,
      "unexpected 'deviceId' at column 14, expected ')': COUNT takes no arguments",
    );
  });

  it('rejects fields that are not on a twin', () => {
    check('SELECT password FROM devices', 8, `'password' at column 8 is not a twin field; ${hubHint()}`);
  });

  it('rejects two fields that the hub would return under the same name', () => {
    check(
      'SELECT status, properties.reported.Status FROM devices',
      16,
      "'properties.reported.Status' at column 16 and 'status' would both be returned as 'status'; select one",
    );
  });

  it('rejects a smuggled second statement or comment', () => {
    check(
      "SELECT * FROM devices WHERE tags.a = 'x'; DELETE",
      41,
      "unexpected ';' at column 41; a condition is a single expression without ';'",
    );
    check('SELECT * FROM devices -- all', 23, "comments are not allowed: '--' at column 23");
    check(
      'SELECT * FROM devices WHERE',
      28,
      "unexpected end of input at column 28, expected a condition: a property path, a value, a function or '('",
    );
    check(
      "SELECT * FROM devices tags.a = 'x'",
      23,
      "unexpected 'tags.a' at column 23, expected WHERE or the end of the query",
    );
    check("SELECT * FROM devices WHERE tags.a = 'x')", 41, "unexpected ')' at column 41; it closes no '('");
  });

  it('rejects a value that is not a string', () => {
    assert.equal(parseQuery(undefined as unknown as string).ok, false);
  });

  it(`rejects queries longer than the hub's ${MAX_QUERY_LENGTH} characters`, () => {
    const text = `SELECT * FROM devices WHERE tags.a = '${'x'.repeat(MAX_QUERY_LENGTH)}'`;
    const error = rejectedQuery(text);
    assert.equal(
      error.message,
      `the query has ${text.length} characters, more than the hub's limit of ${MAX_QUERY_LENGTH} (at column ${MAX_QUERY_LENGTH + 1})`,
    );
  });

  it('reports positions in the whole query text', () => {
    const error = rejectedQuery("SELECT *\nFROM devices\nWHERE LOWER(deviceId) = 'x'");
    assert.equal(
      error.message,
      "unknown function 'LOWER' at line 3, column 7; supported: IS_DEFINED, STARTSWITH, ENDSWITH",
    );
    assert.deepEqual([error.line, error.column], [3, 7]);
  });
});

function hubHint(): string {
  return (
    'use tags.*, properties.desired.*, properties.reported.*, configurations.* or one of deviceId, status, ' +
    'connectionState, moduleId, etag, deviceEtag, version, statusReason, statusUpdateTime, ' +
    'connectionStateUpdatedTime, lastActivityTime, cloudToDeviceMessageCount, authenticationType, modelId, ' +
    'deviceScope, parentScopes, capabilities.iotEdge, x509Thumbprint.primaryThumbprint, x509Thumbprint.secondaryThumbprint'
  );
}

describe('formatQuery', () => {
  it('writes canonical query text that parses back to the same query', () => {
    for (const text of [
      'select * from devices',
      "SELECT deviceId, properties.reported.firmware FROM devices.modules WHERE moduleId = 'sec' AND deviceId IN ['a', 'b']",
      'SELECT COUNT() AS total FROM devices WHERE NOT IS_DEFINED(tags.site)',
    ]) {
      const query = parsedQuery(text);
      const formatted = formatQuery(query);
      assert.deepEqual(parsedQuery(formatted), query);
      assert.equal(formatQuery(parsedQuery(formatted)), formatted);
    }
    assert.equal(
      formatQuery(parsedQuery('select count() as n from DEVICES')),
      'SELECT COUNT() AS n FROM devices',
    );
  });

  it('refuses field names and aliases outside the grammar', () => {
    assert.throws(() => formatQuery({ select: ['deviceId, etag'], from: 'devices' }), RangeError);
    assert.throws(() => formatQuery({ select: { count: 'n FROM x --' }, from: 'devices' }), RangeError);
  });
});

describe('projectFields', () => {
  const twin = {
    deviceId: 'edge-01',
    lastActivityTime: '2024-05-07T00:50:38Z',
    tags: { site: 'lab' },
    properties: { reported: { firmware: '1.2.0' } },
  };

  it('returns each selected field under the name the twin spells it with', () => {
    assert.deepEqual(projectFields(twin, ['DeviceId', 'LastActivityTime', 'properties.reported.firmware']), {
      deviceId: 'edge-01',
      lastActivityTime: '2024-05-07T00:50:38Z',
      firmware: '1.2.0',
    });
  });

  it('returns whole objects and leaves out fields the twin does not define', () => {
    assert.deepEqual(projectFields(twin, ['tags', 'properties.reported.missing', 'moduleId']), {
      tags: { site: 'lab' },
    });
  });

  it('keeps a key named __proto__ as data', () => {
    const row = compileProjection(['tags.__proto__'])(JSON.parse('{"tags": {"__proto__": "x"}}'));
    assert.equal(Object.getPrototypeOf(row), Object.prototype);
    assert.deepEqual(Object.entries(row), [['__proto__', 'x']]);
  });

  it('projects the field list of a parsed query', () => {
    const query = parsedQuery('SELECT deviceId, tags.site FROM devices');
    assert.ok(Array.isArray(query.select));
    assert.deepEqual(projectFields(twin, query.select), { deviceId: 'edge-01', site: 'lab' });
  });
});

describe('conditionFromDeviceIds', () => {
  it('builds deviceId IN [...] without duplicates', () => {
    assert.deepEqual(conditionFromDeviceIds(['a', 'b', 'a']), {
      kind: 'in',
      path: { kind: 'path', segments: ['deviceId'] },
      values: ['a', 'b'],
    });
  });

  it('escapes quotes and backslashes in device ids', () => {
    const expression = conditionFromDeviceIds(["it's", 'back\\slash', "x') OR (1=1"]);
    const text = formatCondition(expression);
    assert.equal(text, String.raw`deviceId IN ['it\'s', 'back\\slash', 'x\') OR (1=1']`);
    assert.deepEqual(parsed(text), expression);
  });

  it('yields a module query that selects exactly the listed devices', () => {
    const expression = conditionFromDeviceIds(['a', 'c']);
    const result = parseQuery(formatQuery({ select: '*', from: 'devices.modules', where: expression }));
    assert.ok(result.ok);
    const where = result.query.where!;
    const selected = ['a', 'b', 'c', 'A'].filter((deviceId) => evaluateCondition(where, { deviceId }));
    assert.deepEqual(selected, ['a', 'c']);
  });

  it('round-trips any device id through format and parse', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { minLength: 1, maxLength: 10 }),
        (ids) => {
          const expression = conditionFromDeviceIds(ids);
          assert.deepEqual(parsed(formatCondition(expression)), expression);
        },
      ),
    );
  });

  it('refuses an empty list, which the hub would reject', () => {
    assert.throws(() => conditionFromDeviceIds([]), RangeError);
  });
});
