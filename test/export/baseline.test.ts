// The baseline and the layers: what every exported device carries, at its most common value, and per group just
// what differs; coupled settings chosen and copied together so that each resource passes the agent's rules alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { agentExport } from '../../src/export/agent-export.js';
import type { CountedSettings } from '../../src/export/baseline.js';
import { chooseBaseline as chooseAmong, layerDifference as differenceOf } from '../../src/export/baseline.js';
import type { Settings } from '../../src/export/settings.js';
import {
  type AgentSettings,
  checkAgentSettings,
  effectiveSettings,
} from '../../src/profiles/security-agent/index.js';

const accepted = (settings: Settings) =>
  !checkAgentSettings(effectiveSettings(settings as AgentSettings)).some((p) => p.severity === 'error');

/** As the security agent's export chooses: its coupled settings as pairs it accepts. */
const chooseBaseline = (configurations: CountedSettings[]) =>
  chooseAmong(configurations, agentExport.coupling);
const layerDifference = (settings: Settings, baseline: Settings) =>
  differenceOf(settings, baseline, agentExport.coupling);

describe('chooseBaseline', () => {
  it('holds only the settings every configuration carries, each at its most common value', () => {
    const baseline = chooseBaseline([
      { settings: { snapshotFrequency: 'PT1H', eventPriorityLogin: 'High' }, devices: 5 },
      { settings: { snapshotFrequency: 'PT6H', eventPriorityLogin: 'High', hubResourceId: 'x' }, devices: 7 },
      { settings: { snapshotFrequency: 'PT1H', eventPriorityLogin: 'Low' }, devices: 3 },
    ]);
    assert.deepEqual(baseline, {
      settings: { eventPriorityLogin: 'High', snapshotFrequency: 'PT1H' },
      members: [true, true, true],
    });
  });

  it('breaks a tie between values the same way every time, whatever the order it is given', () => {
    const a = { settings: { snapshotFrequency: 'PT6H' }, devices: 2 };
    const b = { settings: { snapshotFrequency: 'PT1H' }, devices: 2 };
    assert.deepEqual(chooseBaseline([a, b]).settings, chooseBaseline([b, a]).settings);
    assert.deepEqual(chooseBaseline([a, b]).settings, { snapshotFrequency: 'PT1H' });
  });

  it('chooses the message frequencies as a pair the agent accepts, not two most common values that conflict', () => {
    const { settings: baseline } = chooseBaseline([
      { settings: { highPriorityMessageFrequency: 'PT2H', lowPriorityMessageFrequency: 'PT3H' }, devices: 4 },
      {
        settings: { highPriorityMessageFrequency: 'PT30M', lowPriorityMessageFrequency: 'PT1H' },
        devices: 3,
      },
      {
        settings: { highPriorityMessageFrequency: 'PT20M', lowPriorityMessageFrequency: 'PT1H' },
        devices: 3,
      },
    ]);
    // Separately, PT2H and PT1H would win, and PT2H is longer than PT1H.
    assert.deepEqual(baseline, { highPriorityMessageFrequency: 'PT2H', lowPriorityMessageFrequency: 'PT3H' });
    assert.ok(accepted(baseline));
  });

  it('leaves out a setting whose every common value conflicts with its partner at the default', () => {
    // Only the cache size is common; the message size stays at its default 204,800, above these caches.
    const baseline = chooseBaseline([
      { settings: { maxLocalCacheSizeInBytes: 16384, maxMessageSizeInBytes: 8192 }, devices: 3 },
      { settings: { maxLocalCacheSizeInBytes: 65536 }, devices: 4 },
    ]);
    assert.deepEqual(baseline, { settings: {}, members: [false, false] });
  });

  it('leaves a few devices configured apart outside the baseline rather than leave the fleet without one', () => {
    const fleet = { snapshotFrequency: 'PT12H', eventPriorityLogin: 'High' };
    const baseline = chooseBaseline([
      { settings: fleet, devices: 900 },
      { settings: { ...fleet, highPriorityMessageFrequency: 'PT1M' }, devices: 90 },
      { settings: { hubResourceId: 'odd' }, devices: 7 },
    ]);
    assert.deepEqual(baseline, { settings: fleet, members: [true, true, false] });
  });

  it('is empty for no configurations', () => {
    assert.deepEqual(chooseBaseline([]), { settings: {}, members: [] });
  });
});

describe('layerDifference', () => {
  it('sets what the baseline lacks or holds at another value, and nothing else', () => {
    const layer = layerDifference(
      { snapshotFrequency: 'PT6H', eventPriorityLogin: 'High', hubResourceId: 'x' },
      { snapshotFrequency: 'PT1H', eventPriorityLogin: 'High' },
    );
    assert.deepEqual(layer, { hubResourceId: 'x', snapshotFrequency: 'PT6H' });
  });

  it('brings the partner of a coupled setting along, so that the layer passes alone', () => {
    const baseline = { highPriorityMessageFrequency: 'PT5M', lowPriorityMessageFrequency: 'PT10H' };
    const group = { highPriorityMessageFrequency: 'PT6H', lowPriorityMessageFrequency: 'PT10H' };
    const layer = layerDifference(group, baseline);
    assert.deepEqual(layer, group, 'PT6H alone would conflict with the default PT5H');
    assert.ok(accepted(layer));
  });

  const KEYS: Record<string, readonly unknown[]> = {
    highPriorityMessageFrequency: ['PT1M', 'PT2H', 'PT6H'],
    lowPriorityMessageFrequency: ['PT1H', 'PT3H', 'PT12H'],
    maxMessageSizeInBytes: [8192, 65536, 204800],
    maxLocalCacheSizeInBytes: [16384, 131072, 2560000],
    snapshotFrequency: ['PT1H', 'PT13H'],
    eventPriorityLogin: ['High', 'Off'],
  };
  const configurationArb = fc
    .record(Object.fromEntries(Object.entries(KEYS).map(([k, v]) => [k, fc.constantFrom(...v)])), {
      requiredKeys: [],
    })
    .filter((s) => Object.keys(s).length > 0 && accepted(s as AgentSettings)) as fc.Arbitrary<AgentSettings>;

  it('gives back each group the baseline covers when its layer is laid over it, and every resource passes alone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ settings: configurationArb, devices: fc.integer({ min: 1, max: 50 }) }), {
          minLength: 1,
          maxLength: 6,
        }),
        (configurations) => {
          const { settings: baseline, members } = chooseBaseline(configurations);
          assert.ok(accepted(baseline), `baseline ${JSON.stringify(baseline)}`);
          for (const [i, { settings }] of configurations.entries()) {
            if (!members[i]) continue;
            for (const key of Object.keys(baseline))
              assert.ok(key in settings, 'the baseline sets nothing a device it covers lacks');
            const layer = layerDifference(settings, baseline);
            assert.ok(accepted(layer), `layer ${JSON.stringify(layer)}`);
            assert.deepEqual(
              Object.entries({ ...baseline, ...layer }).sort(),
              Object.entries(settings).sort(),
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
