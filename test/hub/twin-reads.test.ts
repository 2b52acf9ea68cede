import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_QUERY_LENGTH, parseQuery } from '../../src/condition/index.js';
import {
  chooseTwinReadStrategy as chooseModuleReadStrategy,
  queryBatches,
  twinsOfDevicesQuery,
  twinsQuery,
} from '../../src/hub/twin-reads.js';
import { DEVICE_TWIN } from '../../src/twins/types.js';

const SECURITY_MODULES_QUERY = twinsQuery('azureiotsecurity');
const securityModulesOfDevicesQuery = (ids: readonly string[]) =>
  twinsOfDevicesQuery('azureiotsecurity', ids);
const moduleQueryBatches = (ids: readonly string[], max?: number) =>
  queryBatches('azureiotsecurity', ids, max);

import { rateLimitsFor } from '../../src/hub/rate-limits.js';

const ids = (count: number, prefix = 'device-') =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);

describe('module queries', () => {
  it('selects the security modules, alone or of some devices', () => {
    assert.equal(SECURITY_MODULES_QUERY, "SELECT * FROM devices.modules WHERE moduleId = 'azureiotsecurity'");
    assert.equal(
      securityModulesOfDevicesQuery(['a', "o'brien"]),
      "SELECT * FROM devices.modules WHERE moduleId = 'azureiotsecurity' AND deviceId IN ['a', 'o\\'brien']",
    );
  });

  it('selects the device twins, alone or of some devices', () => {
    assert.equal(twinsQuery(DEVICE_TWIN), 'SELECT * FROM devices');
    assert.equal(twinsOfDevicesQuery(DEVICE_TWIN, ['a']), "SELECT * FROM devices WHERE deviceId IN ['a']");
  });

  it('escapes ids so that the query still parses as one IN list', () => {
    const hostile = ["x'] OR true OR deviceId IN ['y", 'back\\slash', 'plain'];
    const parsed = parseQuery(securityModulesOfDevicesQuery(hostile));
    assert.ok(parsed.ok);
    const where = parsed.query.where;
    assert.equal(where?.kind, 'and');
    const membership = where?.kind === 'and' ? where.operands[1] : undefined;
    assert.deepEqual(membership?.kind === 'in' ? membership.values : undefined, hostile);
  });

  it('batches ids so that every query stays within the hub length limit, each id once', () => {
    const all = [...ids(1500), ...ids(10)];
    const batches = moduleQueryBatches(all);
    assert.ok(batches.length > 1);
    for (const batch of batches) assert.ok(securityModulesOfDevicesQuery(batch).length <= MAX_QUERY_LENGTH);
    assert.deepEqual(batches.flat(), ids(1500));
    const full = batches[0];
    assert.ok(
      securityModulesOfDevicesQuery([...full, batches[1][0]]).length > MAX_QUERY_LENGTH,
      'batches are full',
    );
  });
});

describe('chooseModuleReadStrategy', () => {
  it('reads by GET on S1 below about 300 devices per query, and by query above', () => {
    const s1 = rateLimitsFor('h', 'S1', 1);
    assert.equal(chooseModuleReadStrategy(50, 1, s1), 'get');
    assert.equal(chooseModuleReadStrategy(300, 1, s1), 'get');
    assert.equal(chooseModuleReadStrategy(301, 1, s1), 'query');
    assert.equal(chooseModuleReadStrategy(600, 2, s1), 'get');
  });

  it('prefers queries sooner on S3, where queries are plentiful', () => {
    const s3 = rateLimitsFor('h', 'S3', 1);
    assert.equal(chooseModuleReadStrategy(30, 1, s3), 'get');
    assert.equal(chooseModuleReadStrategy(31, 1, s3), 'query');
  });
});
