// The script a competent user writes with azure-iothub instead of using the operator, written fairly, as the
// SDK's samples do it: page the security module twins with a query, PATCH each one that needs it (10 at a time,
// with the twin's etag; on 412 read the twin again and retry), sleep a second and retry on 429 (and retry other
// transient errors), then poll the module twins with the same query every 2 s until every online agent reports
// the configuration.
//
//   IOTHUB_CONNECTION_STRING=... CA_FILE=... SETTINGS='{"snapshotFrequency":"PT11H"}' node --import tsx sdk-script.ts
//
// The only piece of this project it uses is the transport adapter that lets the SDK reach the emulator's
// host:port with its private CA (a user of a real hub does not need it).
import { readFileSync } from 'node:fs';
import { registryFromConnectionString } from '../../src/hub/sdk-transport.js';

const KEY = 'ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration';
const QUERY = "SELECT * FROM devices.modules WHERE moduleId = 'azureiotsecurity'";
const CONCURRENCY = 10;
const POLL_MS = 2000;

const connectionString = process.env.IOTHUB_CONNECTION_STRING!;
const settings = JSON.parse(process.env.SETTINGS!) as Record<string, string | number | boolean>;
const registry = registryFromConnectionString(connectionString, {
  ca: readFileSync(process.env.CA_FILE!, 'utf8'),
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const calls = { queries: 0, patches: 0, throttled: 0, retried: 0, reread: 0 };

type Twin = {
  deviceId: string;
  etag: string;
  connectionState?: string;
  properties: { desired: Record<string, any>; reported: Record<string, any> };
};

async function withRetry<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const status = (error as { response?: { statusCode?: number } }).response?.statusCode;
      if (status === 429) {
        calls.throttled++;
        await sleep(1000);
        continue;
      }
      if (attempt < 5 && (status === undefined || status >= 500)) {
        calls.retried++;
        await sleep(200 * attempt);
        continue;
      }
      throw error;
    }
  }
}

async function allModuleTwins(): Promise<Twin[]> {
  const query = registry.createQuery(QUERY, 1000);
  const twins: Twin[] = [];
  while (query.hasMoreResults) {
    calls.queries++;
    const page = await withRetry(() => query.nextAsTwin());
    twins.push(...(page.result as unknown as Twin[]));
  }
  return twins;
}

const holds = (section: Record<string, any> | undefined) =>
  Object.entries(settings).every(([key, value]) => {
    const actual = section?.[KEY]?.[key]?.value;
    return typeof actual === 'string' && typeof value === 'string'
      ? actual.toLowerCase() === value.toLowerCase()
      : actual === value;
  });

const started = Date.now();
const twins = await allModuleTwins();
const pending = twins.filter((t) => !holds(t.properties.desired));
const patch = {
  properties: {
    desired: { [KEY]: Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, { value: v }])) },
  },
};
let next = 0;
let firstWriteAt: number | undefined;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < pending.length) {
      const twin = pending[next++];
      let etag = twin.etag;
      for (;;) {
        try {
          await withRetry(() => registry.updateModuleTwin(twin.deviceId, 'azureiotsecurity', patch, etag));
          break;
        } catch (error) {
          if ((error as { response?: { statusCode?: number } }).response?.statusCode !== 412) throw error;
          // Changed since the query (the agent reported, or the query lagged): read it again.
          calls.reread++;
          etag = (await withRetry(() => registry.getModuleTwin(twin.deviceId, 'azureiotsecurity')))
            .responseBody.etag;
        }
      }
      firstWriteAt ??= Date.now();
      calls.patches++;
    }
  }),
);
const writtenAt = Date.now();
for (;;) {
  const now = await allModuleTwins();
  const online = now.filter((t) => t.connectionState === 'Connected');
  if (online.every((t) => holds(t.properties.reported))) break;
  await sleep(POLL_MS);
}
console.log(
  JSON.stringify({
    devices: twins.length,
    written: pending.length,
    firstWriteMs: firstWriteAt === undefined ? undefined : firstWriteAt - started,
    writesDoneMs: writtenAt - started,
    convergedMs: Date.now() - started,
    calls,
  }),
);
