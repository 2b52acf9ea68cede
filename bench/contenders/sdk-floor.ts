// What the required library alone costs for the work a pass cannot avoid, as a floor for the operator's CPU
// figures (issue 18): read every security module twin with the SDK's query (pages of 1,000, parsed into twins as
// the SDK does), then PATCH each one once with its etag, 50 at a time, and read them all again (a steady pass). No
// planning, no verification, no bookkeeping. Prints the CPU (user + system) of each phase as JSON.
//
//   IOTHUB_CONNECTION_STRING=... CA_FILE=... SETTINGS='{"snapshotFrequency":"PT11H"}' node --import tsx sdk-floor.ts
import { readFileSync } from 'node:fs';
import { registryFromConnectionString } from '../../src/hub/sdk-transport.js';

const KEY = 'ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration';
const QUERY = "SELECT * FROM devices.modules WHERE moduleId = 'azureiotsecurity'";
const CONCURRENCY = 50;

const registry = registryFromConnectionString(process.env.IOTHUB_CONNECTION_STRING!, {
  ca: readFileSync(process.env.CA_FILE!, 'utf8'),
});
const settings = JSON.parse(process.env.SETTINGS!) as Record<string, unknown>;
const patch = {
  properties: {
    desired: { [KEY]: Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, { value: v }])) },
  },
};

/** Retries what the hub throttles (429), which the quota makes common; anything else ends the run. */
async function throttled<T>(call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if ((error as { response?: { statusCode?: number } }).response?.statusCode !== 429) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function readAll(): Promise<{ deviceId: string; etag: string }[]> {
  const query = registry.createQuery(QUERY, 1000);
  const twins: { deviceId: string; etag: string }[] = [];
  while (query.hasMoreResults) {
    const page = await throttled(() => query.nextAsTwin());
    for (const twin of page.result as unknown as { deviceId: string; etag: string }[]) twins.push(twin);
  }
  return twins;
}

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

let mark = process.cpuUsage();
const twins = await readAll();
const readCpuS = cpuSeconds(mark);
mark = process.cpuUsage();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < twins.length) {
      const twin = twins[next++];
      await throttled(() => registry.updateModuleTwin(twin.deviceId, 'azureiotsecurity', patch, twin.etag));
    }
  }),
);
const writeCpuS = cpuSeconds(mark);
mark = process.cpuUsage();
await readAll();
const rereadCpuS = cpuSeconds(mark);
console.log(JSON.stringify({ devices: twins.length, readCpuS, writeCpuS, rereadCpuS }));
