// Planning benchmark: 100,000 devices against 50 layered resources. Prints CPU time and memory of one plan,
// and of the re-plan of a converged hub (which must write nothing). Targets: < 2 s CPU, < 500 MB.

import {
  type HubSnapshot,
  type ManagedTwin,
  type PlannedResource,
  planHubReconcile,
} from '../src/planner/index.js';
import { AGENT_CONFIGURATION_KEY, EVENT_NAMES } from '../src/profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../src/profiles/security-agent/profile.js';
import { agentSnapshot, mergePatch, moduleTwin, resource } from '../test/support/planner-fixtures.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 100_000);
const RESOURCES = 50;
const SITES = Array.from({ length: 20 }, (_, i) => `site-${i}`);
const TYPES = ['gateway', 'camera', 'plc', 'sensor', 'hmi'];

function fleet(): HubSnapshot {
  const devices = [];
  const modules = new Map<string, ManagedTwin>();
  for (let i = 0; i < DEVICES; i++) {
    const deviceId = `device-${String(i).padStart(6, '0')}`;
    devices.push({
      deviceId,
      tags: {
        environment: i % 10 < 7 ? 'production' : 'staging',
        site: SITES[i % SITES.length],
        deviceType: TYPES[i % TYPES.length],
        firmware: `1.${i % 7}.0`,
      },
      status: 'enabled',
      connectionState: i % 50 === 0 ? 'Disconnected' : 'Connected',
    });
    modules.set(deviceId, moduleTwin(deviceId, { etag: 'AAAAAAAAAAE=', desired: {} }));
  }
  return agentSnapshot(devices, modules);
}

function resources(): PlannedResource[] {
  const out: PlannedResource[] = [];
  const priorities = ['High', 'Low', 'Off'];
  for (let r = 0; r < RESOURCES; r++) {
    const condition =
      r === 0
        ? "tags.environment IN ['production', 'staging']"
        : r % 3 === 0
          ? `tags.site = '${SITES[r % SITES.length]}' AND tags.environment = 'production'`
          : r % 3 === 1
            ? `tags.deviceType = '${TYPES[r % TYPES.length]}' AND NOT (tags.firmware = '1.${r % 7}.0')`
            : `STARTSWITH(tags.site, 'site-${r % 10}') OR tags.firmware IN ['1.1.0', '1.${r % 7}.0']`;
    out.push(
      resource(
        `fleet/resource-${String(r).padStart(2, '0')}`,
        {
          [`eventPriority${EVENT_NAMES[r % EVENT_NAMES.length]}`]: priorities[r % 3],
          snapshotFrequency: `PT${1 + (r % 12)}H`,
          ...(r === 0 ? { highPriorityMessageFrequency: 'PT5M', lowPriorityMessageFrequency: 'PT2H' } : {}),
        },
        { priority: r === 0 ? 0 : 1 + (r % 5), target: { condition }, convergenceTimeoutMs: 900_000 },
      ),
    );
  }
  return out;
}

function measure<T>(label: string, run: () => T): T {
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = run();
  const cpu = process.cpuUsage(cpuBefore);
  const wall = performance.now() - started;
  const heapAfter = process.memoryUsage().heapUsed;
  console.log(
    `${label}: cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, wall ${(wall / 1000).toFixed(2)} s, heap +${((heapAfter - heapBefore) / 2 ** 20).toFixed(0)} MB, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`,
  );
  return result;
}

const snapshot = fleet();
const planned = resources();
console.log(`planner benchmark: ${DEVICES} devices, ${RESOURCES} resources`);
const first = measure('first plan (every twin to write)', () =>
  planHubReconcile({ snapshot, resources: planned, now: 0, unknownOwners: 'keep' }),
);
console.log(
  `  writes: ${first.writes.length}, targeted by the baseline: ${first.reports.get('fleet/resource-00')!.counts.targetedDevices}`,
);

// Apply the writes as the hub would, let every online agent report, and plan again: nothing to write.
for (const write of first.writes) {
  const twin = snapshot.twins.get(SECURITY_MODULE_ID)!.get(write.deviceId)!;
  twin.tags = mergePatch(twin.tags, write.patch.tags ?? {}) as Record<string, unknown>;
  twin.desired = mergePatch(twin.desired, write.patch.properties?.desired ?? {}) as Record<string, unknown>;
  twin.reported = { [AGENT_CONFIGURATION_KEY]: twin.desired[AGENT_CONFIGURATION_KEY] };
  twin.desiredVersion++;
}
const second = measure('re-plan of the converged hub', () =>
  planHubReconcile({ snapshot, resources: planned, now: 0, unknownOwners: 'keep' }),
);
const converged = [...second.reports.values()].reduce((n, r) => n + r.counts.convergedDevices, 0);
console.log(`  writes: ${second.writes.length} (must be 0), converged device-resource pairs: ${converged}`);
if (second.writes.length !== 0) process.exitCode = 1;
