// Property-based tests of the planner: for random fleets and random layered resources, what lands in the
// twins is exactly what the layering rule says, nothing foreign is touched, and a converged hub is left alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type PlannedResource, planHubReconcile } from '../../src/planner/index.js';
import { FakeHub, resource } from '../support/planner-fixtures.js';

const POOL: Record<string, string[] | boolean[]> = {
  eventPriorityLogin: ['High', 'Low', 'Off'],
  eventPriorityProcessCreate: ['High', 'Low', 'Off'],
  aggregationEnabledConnectionCreate: [true, false],
  snapshotFrequency: ['PT1H', 'PT6H', 'PT13H'],
};
const KEYS = Object.keys(POOL);
const CONDITIONS = [
  "tags.site = 'x'",
  "tags.site IN ['x', 'y']",
  "tags.environment = 'a'",
  "NOT (tags.site = 'z')",
  "tags.environment = 'b' OR tags.site = 'y'",
];
const SITES = ['x', 'y', 'z'];

const settingsArb = fc
  .subarray(KEYS, { minLength: 1 })
  .chain((keys) =>
    fc.tuple(...keys.map((k) => fc.constantFrom(...(POOL[k] as unknown[])).map((v) => [k, v] as const))),
  )
  .map((entries) => Object.fromEntries(entries));

const resourcesArb = fc.uniqueArray(
  fc.record({
    name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
    priority: fc.integer({ min: 0, max: 2 }),
    condition: fc.constantFrom(...CONDITIONS),
    settings: settingsArb,
  }),
  { minLength: 1, maxLength: 5, selector: (r) => r.name },
);

const devicesArb = fc.array(
  fc.record({
    environment: fc.constantFrom('a', 'b'),
    site: fc.constantFrom(...SITES),
    foreign: fc.boolean(),
  }),
  { minLength: 1, maxLength: 12 },
);

function toResources(
  specs: { name: string; priority: number; condition: string; settings: Record<string, unknown> }[],
): PlannedResource[] {
  return specs.map((s) =>
    resource(`ns/${s.name}`, s.settings, { priority: s.priority, target: { condition: s.condition } }),
  );
}

function matches(condition: string, tags: { environment: string; site: string }): boolean {
  switch (condition) {
    case "tags.site = 'x'":
      return tags.site === 'x';
    case "tags.site IN ['x', 'y']":
      return tags.site === 'x' || tags.site === 'y';
    case "tags.environment = 'a'":
      return tags.environment === 'a';
    case "NOT (tags.site = 'z')":
      return tags.site !== 'z';
    default:
      return tags.environment === 'b' || tags.site === 'y';
  }
}

/** The layering rule, written plainly: highest priority wins; on a tie, the lowest name. */
function expectedValue(
  resources: PlannedResource[],
  tags: { environment: string; site: string },
  key: string,
): unknown {
  const setters = resources
    .filter((r) => key in r.settings && matches(r.target.condition!, tags))
    .sort((a, b) => b.priority - a.priority || (a.key < b.key ? -1 : 1));
  return setters[0]?.settings[key];
}

function converge(hub: FakeHub, resources: PlannedResource[], unknownOwners: 'keep' | 'remove'): number {
  for (let round = 0; round < 10; round++) {
    const { writes } = planHubReconcile({ snapshot: hub.snapshot(), resources, now: 0, unknownOwners });
    if (writes.length === 0) return round;
    hub.apply(writes);
    hub.agentsReport();
  }
  throw new Error('no convergence in 10 rounds');
}

describe('planner properties', () => {
  it('lands exactly the layered value of every setting, keeps foreign settings, and then writes nothing', () => {
    fc.assert(
      fc.property(
        devicesArb,
        resourcesArb,
        fc.subarray(['a', 'b', 'c', 'd', 'e']),
        (devices, specs, removedNames) => {
          const hub = new FakeHub();
          devices.forEach((d, i) => {
            hub.addDevice(
              `dev-${i}`,
              { environment: d.environment, site: d.site },
              { desired: d.foreign ? { hubResourceId: { value: 'foreign' } } : {} },
            );
          });
          const resources = toResources(specs);
          assert.ok(converge(hub, resources, 'keep') <= 2, 'one round writes, the next finds nothing to do');
          const check = (active: PlannedResource[]) => {
            devices.forEach((d, i) => {
              for (const key of KEYS)
                assert.deepEqual(
                  hub.desiredValue(`dev-${i}`, key),
                  expectedValue(active, d, key),
                  `dev-${i} ${key}`,
                );
              assert.equal(hub.desiredValue(`dev-${i}`, 'hubResourceId'), d.foreign ? 'foreign' : undefined);
            });
          };
          check(resources);
          // Prune some resources: their settings go, the next layer takes over.
          const remaining = resources.filter((r) => !removedNames.includes(r.key.slice(3)));
          converge(hub, remaining, 'remove');
          check(remaining);
          const writesBefore = hub.writes;
          assert.deepEqual(
            planHubReconcile({
              snapshot: hub.snapshot(),
              resources: remaining,
              now: 0,
              unknownOwners: 'remove',
            }).writes,
            [],
          );
          assert.equal(hub.writes, writesBefore);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reports every targeted device in exactly one state', () => {
    fc.assert(
      fc.property(
        devicesArb,
        resourcesArb,
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        (devices, specs, online) => {
          const hub = new FakeHub();
          devices.forEach((d, i) => {
            hub.addDevice(`dev-${i}`, d, { connected: online[i] });
          });
          const resources = toResources(specs);
          converge(hub, resources, 'keep');
          const { reports } = planHubReconcile({
            snapshot: hub.snapshot(),
            resources,
            now: 0,
            unknownOwners: 'keep',
          });
          for (const r of resources) {
            const c = reports.get(r.key)!.counts;
            const targeted = devices.filter((d) => matches(r.target.condition!, d)).length;
            assert.equal(c.targetedDevices, targeted);
            assert.equal(
              c.convergedDevices + c.pendingDevices + c.offlineDevices + c.stalledDevices + c.failedDevices,
              targeted,
            );
            assert.equal(
              c.offlineDevices,
              devices.filter((d, i) => matches(r.target.condition!, d) && !online[i]).length,
            );
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
