// Emulator benchmark (`make bench-emulator`): the emulator's own ceiling on this machine, with throttling off and a
// minimal client (twin PATCHes/s and query pages/s), beside what the operator's client achieves against the same
// emulator (`sync` rolling a setting out to every device of a hub whose rateLimits are far above the ceiling, so
// that nothing but the client and the emulator sets the pace), and the memory of 100,000 seeded devices (target
// well under 1 GiB). Then which one limits a cold rollout at S3 x10 (2,500 twin updates/s, 10,000 queries a
// minute): the hub's quota, the emulator, or the operator's client (issue 18: a cold rollout should be quota-bound,
// not CPU-bound, wherever the emulator itself can keep up).
//
// The load comes from a child process (keep-alive HTTPS, many requests in flight), as `sync` does, so the emulator
// has a core of its own (2 cores here, shared: the load average is printed); the memory is measured in another
// child, started with --expose-gc, so nothing else in the heap counts. BENCH_SYNC_DEVICES (20,000) sizes the
// hub `sync` writes.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createSharedAccessSignature, startEmulator } from '../src/emulator/index.js';
import { HubHttpsAgent } from '../src/hub/sdk-transport.js';
import { quotaFor } from '../src/quotas/index.js';
import { iotHub } from '../test/support/resources.js';
import { baselineFiles, REPO, runNode } from './rollout/contenders.js';

const SELF = fileURLToPath(import.meta.url);
const AGENT_KEY = 'ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration';
const PATCH_DEVICES = 1000;
const CONCURRENCY = 64;
const WARMUP_MS = 1000;
const MEASURE_MS = 5000;
const MEMORY_DEVICES = 100_000;
/** The query ceiling's hub: ten pages of 1,000 module twins, read over and over by QUERY_CONCURRENCY readers. */
const QUERY_DEVICES = 10_000;
const QUERY_CONCURRENCY = 8;
const MODULES_QUERY = "SELECT * FROM devices.modules WHERE moduleId = 'azureiotsecurity'";
const SYNC_DEVICES = Number(process.env.BENCH_SYNC_DEVICES ?? 20_000);
/** The tier a large fleet's hub has: its quotas are what the ceilings are compared with. */
const TIER = { tier: 'S3', units: 10 } as const;

interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

function runChild(args: string[], nodeFlags: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', SELF, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`${args[0]} exited with ${code}`)),
    );
  });
}

/**
 * A minimal client: one SAS token, keep-alive HTTPS, the body read as a string and parsed only when asked for
 * (nothing the SDK or the operator does on top).
 */
function minimalClient(hostName: string, connectionString: string, caCert: string, sockets: number) {
  const key = /SharedAccessKey=([^;]+)/.exec(connectionString)![1];
  const authorization = createSharedAccessSignature({
    resource: hostName,
    keyName: 'iothubowner',
    key,
    expirySeconds: Math.floor(Date.now() / 1000) + 3600,
  });
  const agent = new HubHttpsAgent({ ca: caCert, keepAlive: true, maxSockets: sockets });
  const call = (
    method: string,
    path: string,
    body: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Record<string, unknown>; text: string }> =>
    new Promise((resolve, reject) => {
      const request = https.request(
        {
          host: hostName,
          method,
          path,
          agent,
          headers: {
            Authorization: authorization,
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(body),
            ...headers,
          },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, text }),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  return { call, close: () => agent.destroy() };
}

/**
 * Runs `concurrency` workers, each calling `once(itsIndex)` in a loop: after a warm-up, counts the calls answered 200 (and
 * the others as errors) for MEASURE_MS, with their latencies.
 */
async function measureLoad(
  concurrency: number,
  once: (worker: number) => Promise<number>,
): Promise<LoadResult> {
  let measuring = false;
  let stop = false;
  let requests = 0;
  let errors = 0;
  const latencies: number[] = [];
  const worker = async (_: unknown, index: number) => {
    while (!stop) {
      const started = performance.now();
      const status = await once(index);
      if (!measuring) continue;
      requests++;
      if (status !== 200) errors++;
      latencies.push(performance.now() - started);
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  measuring = true;
  const begin = performance.now();
  await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
  measuring = false;
  const seconds = (performance.now() - begin) / 1000;
  stop = true;
  await Promise.all(workers);
  latencies.sort((a, b) => a - b);
  return {
    requests,
    errors,
    seconds,
    p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
  };
}

/** Child: PATCHes module twins as fast as CONCURRENCY requests in flight allow. */
async function patchLoad(hostName: string, connectionString: string, caCert: string): Promise<void> {
  const client = minimalClient(hostName, connectionString, caCert, CONCURRENCY);
  let next = 0;
  const result = await measureLoad(CONCURRENCY, async () => {
    const deviceId = `device-${String((next++ % PATCH_DEVICES) + 1).padStart(6, '0')}`;
    const size = 8192 * (1 + (next % 32));
    const body = JSON.stringify({
      properties: { desired: { [AGENT_KEY]: { maxMessageSizeInBytes: { value: size } } } },
    });
    const path = `/twins/${deviceId}/modules/azureiotsecurity?api-version=2021-04-12`;
    return (await client.call('PATCH', path, body, { 'If-Match': '"*"' })).status;
  });
  client.close();
  process.stdout.write(JSON.stringify(result));
}

/**
 * Child: reads the module twins a page of 1,000 at a time, as a snapshot does (each reader follows its
 * continuations to the end and starts again), and parses each page. A request is one page.
 */
async function queryLoad(hostName: string, connectionString: string, caCert: string): Promise<void> {
  const client = minimalClient(hostName, connectionString, caCert, QUERY_CONCURRENCY);
  const body = JSON.stringify({ query: MODULES_QUERY });
  const continuations = new Map<number, string | undefined>();
  // Pages and twins read, warm-up included: their ratio is the twins a page.
  let pages = 0;
  let twins = 0;
  const result = await measureLoad(QUERY_CONCURRENCY, async (id) => {
    const continuation = continuations.get(id);
    const response = await client.call('POST', '/devices/query?api-version=2021-04-12', body, {
      'x-ms-max-item-count': '1000',
      ...(continuation ? { 'x-ms-continuation': continuation } : {}),
    });
    if (response.status === 200) {
      pages++;
      twins += (JSON.parse(response.text) as unknown[]).length;
    }
    continuations.set(id, response.headers['x-ms-continuation'] as string | undefined);
    return response.status;
  });
  client.close();
  process.stdout.write(JSON.stringify({ ...result, twinsPerPage: twins / pages }));
}

/** Child: seeds 100,000 devices, lets every agent report, and measures memory after a full GC. */
async function memoryProbe(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseline = process.memoryUsage();
  const started = performance.now();
  const emulator = await startEmulator({
    devices: MEMORY_DEVICES,
    seed: 1,
    throttle: false,
    agentDelay: { min: 50, max: 500 },
  });
  const seededSeconds = (performance.now() - started) / 1000;
  await emulator.agentsIdle();
  const reportedSeconds = (performance.now() - started) / 1000;
  gc?.();
  const usage = process.memoryUsage();
  await emulator.close();
  process.stdout.write(
    JSON.stringify({
      devices: emulator.hub.store.deviceCount,
      seededSeconds,
      reportedSeconds,
      rssMiB: usage.rss / 2 ** 20,
      heapUsedMiB: usage.heapUsed / 2 ** 20,
      heapOverBaselineMiB: (usage.heapUsed - baseline.heapUsed) / 2 ** 20,
    }),
  );
}

async function patchThroughput(agentsOnline: boolean): Promise<LoadResult> {
  const emulator = await startEmulator({
    devices: PATCH_DEVICES,
    seed: 1,
    throttle: false,
    offlineRatio: agentsOnline ? 0 : 1,
    agentDelay: { min: 50, max: 500 },
  });
  try {
    await emulator.agentsIdle();
    const output = await runChild(['patch', emulator.hostName, emulator.connectionString, emulator.caFile]);
    return JSON.parse(output) as LoadResult;
  } finally {
    await emulator.close();
  }
}

async function queryThroughput(): Promise<LoadResult & { twinsPerPage: number }> {
  const emulator = await startEmulator({ devices: QUERY_DEVICES, seed: 1, throttle: false, offlineRatio: 1 });
  try {
    const output = await runChild(['query', emulator.hostName, emulator.connectionString, emulator.caFile]);
    return JSON.parse(output) as LoadResult & { twinsPerPage: number };
  } finally {
    await emulator.close();
  }
}

interface SyncResult {
  updates: number;
  updatesPerS: number;
  wallS: number;
  cpuS: number;
  code: number | null;
}

/**
 * The operator's client: `sync` (from the sources) rolling a new setting out to every device of a hub of
 * SYNC_DEVICES, told by its IoTHub document that the hub's rates are far above the ceiling, so that only the client
 * and the emulator set the pace. Its rate is the twin updates over the time from the first to the last.
 */
async function syncThroughput(agentsOnline: boolean): Promise<SyncResult> {
  const emulator = await startEmulator({
    devices: SYNC_DEVICES,
    seed: 7,
    throttle: false,
    offlineRatio: agentsOnline ? 0 : 1,
    agentDelay: { min: 5, max: 30 },
    lowercaseRatio: 0.25,
  });
  try {
    await emulator.agentsIdle();
    emulator.hub.stats.reset();
    const dir = baselineFiles({ snapshotFrequency: 'PT9H' });
    const unbounded = 1_000_000;
    const hub = iotHub(
      'hub',
      {
        ...TIER,
        rateLimits: {
          twinUpdatesPerSecond: unbounded,
          twinReadsPerSecond: unbounded,
          queriesPerMinute: unbounded,
        },
      },
      { namespace: 'bench' },
    );
    writeFileSync(join(dir, 'hub.yaml'), JSON.stringify(hub));
    const started = performance.now();
    const figures = await runNode(
      [
        '--import',
        'tsx',
        join(REPO, 'src/cli/main.ts'),
        'sync',
        '-f',
        dir,
        '--ca-file',
        emulator.caFile,
        '--output',
        'json',
      ],
      { IOTHUB_CONNECTION_STRING: emulator.connectionString },
    ).done;
    const wallS = (performance.now() - started) / 1000;
    const updates = emulator.hub.stats.count('twinUpdate', 200);
    const span = emulator.hub.stats.twinUpdateSpan();
    const spanS = span ? Math.max(0.001, (span.lastAt - span.firstAt) / 1000) : Number.NaN;
    if (figures.code !== 0) console.error(figures.stderr.slice(-600));
    return { updates, updatesPerS: updates / spanS, wallS, cpuS: figures.cpuSeconds, code: figures.code };
  } finally {
    await emulator.close();
  }
}

/** What limits a rate: the lowest of the hub's quota, the emulator's ceiling and the client. */
function limiter(rates: Record<string, number>): string {
  const [name] = Object.entries(rates).sort((a, b) => a[1] - b[1])[0];
  return name;
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'patch' || mode === 'query') {
    const { readFile } = await import('node:fs/promises');
    await (mode === 'patch' ? patchLoad : queryLoad)(rest[0], rest[1], await readFile(rest[2], 'utf8'));
    return;
  }
  if (mode === 'memory') {
    await memoryProbe();
    return;
  }

  const line = (label: string, value: string) => console.log(`${label.padEnd(72)} ${value}`);
  console.log(
    `IoT Hub emulator benchmark (node ${process.version}; load average ${loadavg()[0].toFixed(1)} on 2 shared cores)`,
  );
  const patch: Record<string, number> = {};
  for (const agentsOnline of [false, true]) {
    const result = await patchThroughput(agentsOnline);
    patch[agentsOnline ? 'online' : 'offline'] = result.requests / result.seconds;
    line(
      `minimal client: twin PATCH/s, throttling off, ${CONCURRENCY} in flight, agents ${agentsOnline ? 'online (they report back)' : 'offline'}`,
      `${(result.requests / result.seconds).toFixed(0)}/s  (p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, ${result.errors} errors)`,
    );
  }
  const query = await queryThroughput();
  const pagesPerS = query.requests / query.seconds;
  line(
    `minimal client: query pages/s (1,000 module twins each), ${QUERY_CONCURRENCY} readers`,
    `${pagesPerS.toFixed(0)}/s = ${Math.round(pagesPerS * query.twinsPerPage).toLocaleString('en')} twins/s  (p50 ${query.p50.toFixed(1)} ms, p99 ${query.p99.toFixed(1)} ms, ${query.errors} errors)`,
  );
  const sync: Record<string, SyncResult> = {};
  for (const agentsOnline of [false, true]) {
    const result = await syncThroughput(agentsOnline);
    sync[agentsOnline ? 'online' : 'offline'] = result;
    line(
      `operator's client (sync, ${SYNC_DEVICES.toLocaleString('en')} devices, no rate limit), agents ${agentsOnline ? 'online' : 'offline'}`,
      `${result.updatesPerS.toFixed(0)} twin updates/s  (${result.updates} updates; whole run ${result.wallS.toFixed(1)} s, ${result.cpuS.toFixed(1)} s CPU: ${((1000 * result.cpuS) / result.updates).toFixed(2)} ms a device, ${Math.round(result.updates / result.cpuS)}/s on a core of its own${result.code === 0 ? '' : `, exit ${result.code}`})`,
    );
  }
  const updateQuota = quotaFor(TIER.tier, TIER.units, 'twinUpdate').limit;
  const queryQuota = quotaFor(TIER.tier, TIER.units, 'query').limit / 60;
  const updateRates = {
    "the hub's quota": updateQuota,
    "the emulator's ceiling": patch.online,
    "the operator's client": sync.online.updatesPerS,
  };
  line(
    `a cold rollout at ${TIER.tier} x${TIER.units} (agents online), twin updates/s: quota / emulator / client`,
    `${updateQuota} / ${patch.online.toFixed(0)} / ${sync.online.updatesPerS.toFixed(0)}: bound by ${limiter(updateRates)}`,
  );
  line(
    `  its snapshot, query pages/s: quota / emulator`,
    `${queryQuota.toFixed(1)} / ${pagesPerS.toFixed(0)}: bound by ${limiter({ "the hub's quota": queryQuota, "the emulator's ceiling": pagesPerS })}`,
  );
  const memory = JSON.parse(await runChild(['memory'], ['--expose-gc'])) as Record<string, number>;
  line(
    `memory of ${memory.devices.toLocaleString('en')} seeded devices, agents reported`,
    `RSS ${memory.rssMiB.toFixed(0)} MiB, heap ${memory.heapUsedMiB.toFixed(0)} MiB`,
  );
  line(
    '  time to seed / until every agent reported',
    `${memory.seededSeconds.toFixed(1)} s / ${memory.reportedSeconds.toFixed(1)} s`,
  );
}

await main();
