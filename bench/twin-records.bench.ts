// What the records the operator makes of a hub's twins cost it (issue 18): the bytes each device holds once its
// query rows are made into a DeviceRecord and a ManagedTwin (values shared between devices as the hub client shares
// them), and the CPU time making them takes, cold (a fresh process's first read) and warm (a read after another).
// The rows are a converged fleet's: an emulated hub of BENCH_DEVICES devices (default 10,000), each given the
// baseline SecurityModuleConfig by `sync --wait`, read back by the hub's own query pages as the operator reads them.
// Run it as `node --expose-gc --import tsx bench/twin-records.bench.ts` (heap figures need a forced collection).
import { join } from 'node:path';
import { deviceRecordFromJson, twinFromJson } from '../src/hub/twin-mapping.js';
import { DEVICES_QUERY, twinsQuery } from '../src/hub/twin-reads.js';
import { SharedValues } from '../src/twins/shared-values.js';
import type { DeviceRecord, ManagedTwin } from '../src/twins/types.js';
import { baselineFiles, REPO, runNode, syncWaitArgs } from './rollout/contenders.js';
import { benchHub } from './rollout/harness.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const UNITS = 10;
const SECURITY_MODULE = 'azureiotsecurity';
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('run with node --expose-gc (the heap figures need a forced collection)');

const emulator = await benchHub(DEVICES, { units: UNITS });
let devicePages: string[];
let modulePages: string[];
try {
  const synced = await runNode(
    [
      ...syncWaitArgs(
        ['--import', 'tsx', join(REPO, 'src/cli/main.ts')],
        baselineFiles({ snapshotFrequency: 'PT11H' }),
        emulator.caFile,
        UNITS,
      ),
      '--timeout',
      '15m',
    ],
    { IOTHUB_CONNECTION_STRING: emulator.connectionString },
  ).done;
  if (synced.code !== 0) throw new Error(`sync failed: ${synced.stderr.slice(-600)}`);
  await emulator.agentsIdle();
  // The pages as the wire carries them (JSON text): each is parsed when its records are made, as the client does.
  const pages = (query: string) => {
    const texts: string[] = [];
    let continuation: string | undefined;
    do {
      const page = emulator.hub.engine.run(query, { pageSize: 1000, continuation });
      texts.push(JSON.stringify(page.items));
      continuation = page.continuation;
    } while (continuation);
    return texts;
  };
  devicePages = pages(DEVICES_QUERY);
  modulePages = pages(twinsQuery(SECURITY_MODULE));
} finally {
  await emulator.close();
}

/** The records of every page, as readSnapshot makes them (its shared values given, or a new table). */
function records(shared: SharedValues) {
  const devices: DeviceRecord[] = [];
  const twins = new Map<string, ManagedTwin>();
  for (const text of devicePages)
    for (const row of JSON.parse(text)) devices.push(deviceRecordFromJson(row, shared));
  for (const text of modulePages)
    for (const row of JSON.parse(text)) {
      const twin = twinFromJson(row, SECURITY_MODULE, shared);
      twins.set(twin.deviceId, twin);
    }
  return { devices, twins };
}

const heapUsed = () => {
  collect?.();
  collect?.();
  return process.memoryUsage().heapUsed;
};
/** CPU time (user + system, ms) of making the records, excluding JSON.parse of the pages (timed apart). */
const cpuMs = (run: () => void) => {
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};
const parseMs = cpuMs(() => {
  for (const text of [...devicePages, ...modulePages]) JSON.parse(text);
});

const empty = heapUsed();
const shared = new SharedValues();
let held: ReturnType<typeof records> | undefined;
const coldMs = cpuMs(() => {
  held = records(shared);
});
const bytes = heapUsed() - empty;
const warmMs = cpuMs(() => {
  held = records(shared);
});
const rows = devicePages.length && modulePages.length ? DEVICES : 0;
console.log(
  `twin records: ${DEVICES.toLocaleString('en-US')} devices (a DeviceRecord and a ${SECURITY_MODULE} ManagedTwin each), ${Math.round(bytes / DEVICES)} bytes a device held (shared values included); making them ${(coldMs - parseMs).toFixed(0)} ms CPU cold, ${(warmMs - parseMs).toFixed(0)} ms warm, beside ${parseMs.toFixed(0)} ms of JSON.parse (${rows ? held?.twins.size : 0} twins)`,
);
