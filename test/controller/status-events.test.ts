// Events are read off the status before and after: transitions only, so that resyncs and restarts repeat none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecurityModuleConfigStatus } from '../../src/api/generated/types.js';
import { configEvents, hubEvents } from '../../src/controller/status-events.js';

function status(
  ready: [string, string],
  rollout: { revision: string; reached: number },
  targeted = 100,
): SecurityModuleConfigStatus {
  return {
    targetedDevices: targeted,
    conditions: [
      {
        type: 'Ready',
        status: ready[0] as 'True',
        reason: ready[1],
        message: `${ready[1]} message`,
        lastTransitionTime: 't',
      },
    ],
    rollout: { revision: rollout.revision, batchSize: 25, reachedDevices: rollout.reached, halted: false },
  };
}

describe('configEvents', () => {
  it('says a rollout started when the revision changes, then each batch written, then converged', () => {
    const start = configEvents(undefined, status(['False', 'Progressing'], { revision: 'a', reached: 25 }));
    assert.deepEqual(
      start.map((e) => e.reason),
      ['RolloutStarted'],
    );
    assert.match(start[0].message, /100 devices in 4 batches of 25/);
    const batch = configEvents(
      status(['False', 'Progressing'], { revision: 'a', reached: 25 }),
      status(['False', 'Progressing'], { revision: 'a', reached: 50 }),
    );
    assert.deepEqual(
      batch.map((e) => `${e.reason}: ${e.message}`),
      ['BatchAdvanced: batch 2 of 4 written: 50 of 100 devices reached'],
    );
    const done = configEvents(
      status(['False', 'Progressing'], { revision: 'a', reached: 100 }),
      status(['True', 'Converged'], { revision: 'a', reached: 100 }),
    );
    assert.deepEqual(
      done.map((e) => `${e.type}/${e.reason}`),
      ['Normal/Converged'],
    );
  });

  it('says nothing when nothing changed (a resync, a restart)', () => {
    const same = status(['True', 'Converged'], { revision: 'a', reached: 100 });
    assert.deepEqual(configEvents(same, structuredClone(same)), []);
  });

  it('warns on a halted rollout, a conflict and an invalid spec', () => {
    const progressing = status(['False', 'Progressing'], { revision: 'a', reached: 50 });
    for (const reason of ['RolloutHalted', 'ConflictingSettings', 'InvalidSpec', 'HubUnreachable'])
      assert.deepEqual(
        configEvents(progressing, status(['False', reason], { revision: 'a', reached: 50 })).map(
          (e) => `${e.type}/${e.reason}`,
        ),
        [`Warning/${reason}`],
      );
  });
});

describe('hubEvents', () => {
  it('records a hub becoming unreachable and coming back, once each', () => {
    const up = {
      conditions: [
        {
          type: 'Ready',
          status: 'True' as const,
          reason: 'Connected',
          message: 'ok',
          lastTransitionTime: 't',
        },
      ],
    };
    const down = {
      conditions: [
        {
          type: 'Ready',
          status: 'False' as const,
          reason: 'HubUnreachable',
          message: 'no',
          lastTransitionTime: 't',
        },
      ],
    };
    assert.deepEqual(
      hubEvents(up, down).map((e) => `${e.type}/${e.reason}`),
      ['Warning/HubUnreachable'],
    );
    assert.deepEqual(hubEvents(down, down), []);
    assert.deepEqual(
      hubEvents(down, up).map((e) => `${e.type}/${e.reason}`),
      ['Normal/Connected'],
    );
  });
});
