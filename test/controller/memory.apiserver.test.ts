// What the controller keeps between reconciles goes with the IoTHub: once an IoTHub is deleted, or when a resource
// names one that never existed, no hub state, client or connection is left behind.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { condition, fleet, type OperatorFixture, startOperatorFixture } from '../support/operator-fixture.js';
import { until } from '../support/until.js';

const BASELINE = {
  target: { condition: "tags.environment = 'production'" },
  priority: 10,
  agentConfiguration: { lowPriorityMessageFrequency: 'PT3H' },
};

describe('the controller memory', () => {
  let f: OperatorFixture;
  before(async () => {
    f = await startOperatorFixture({
      prefix: 'memory',
      devices: fleet('m', 3, { environment: 'production' }),
    });
  });
  after(async () => {
    await f.close();
  });

  it('forgets a deleted IoTHub: its state, client and connection go once it lets go', async () => {
    const objects = [
      ...f.hubObjects({ name: 'doomed' }),
      f.smc('doomed-baseline', { ...BASELINE, hubRef: { name: 'doomed' } }),
    ];
    await f.apply(objects);
    await f.waitFor('smc', 'doomed-baseline', (o) => condition(o, 'Ready').status === 'True', 30_000);
    const key = `${f.namespace}/doomed`;
    assert.ok(f.controller.memory.connection(key), 'a hub in use has its connection');
    const file = join(tmpdir(), `memory-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    const deleted = await f.kubectl(['delete', '-f', file, '--timeout=40s']);
    assert.equal(deleted.code, 0, deleted.stderr);
    await until(() => !f.controller.memory.hubKeys.includes(key), 20_000, 'the deleted hub forgotten');
    assert.equal(f.controller.memory.connection(key), undefined);
    assert.equal(f.controller.memory.rateLimits().has(key), false, 'no rate limiter left either');
  });

  it('keeps nothing for an IoTHub a resource names but that does not exist', async () => {
    await f.apply([f.smc('orphan', { ...BASELINE, hubRef: { name: 'ghost' } })]);
    await f.waitFor('smc', 'orphan', (o) => condition(o, 'Ready').reason === 'HubNotFound', 20_000);
    await f.controller.queue?.idle();
    assert.ok(!f.controller.memory.hubKeys.includes(`${f.namespace}/ghost`));
  });
});
