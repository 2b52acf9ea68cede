// Emulator benchmark: twin PATCHes per second with throttling off (target >= 2,000/s), and the memory of
// 100,000 seeded devices (target well under 1 GiB). Run with `npx tsx bench/emulator.bench.ts`.
//
// The load comes from a child process (keep-alive HTTPS, many requests in flight) so the emulator has a
// core of its own; the memory is measured in another child, started with --expose-gc, so nothing else
// in the heap counts.
import { spawn } from 'node:child_process';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createSharedAccessSignature, startEmulator } from '../src/emulator/index.js';
import { HubHttpsAgent } from '../src/hub/sdk-transport.js';

const SELF = fileURLToPath(import.meta.url);
const AGENT_KEY = 'ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration';
const PATCH_DEVICES = 1000;
const CONCURRENCY = 64;
const WARMUP_MS = 1000;
const MEASURE_MS = 5000;
const MEMORY_DEVICES = 100_000;

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

/** Child: PATCHes module twins as fast as CONCURRENCY requests in flight allow. */
async function loadGenerator(hostName: string, connectionString: string, caCert: string): Promise<void> {
  const key = /SharedAccessKey=([^;]+)/.exec(connectionString)![1];
  const authorization = createSharedAccessSignature({
    resource: hostName,
    keyName: 'iothubowner',
    key,
    expirySeconds: Math.floor(Date.now() / 1000) + 3600,
  });
  const agent = new HubHttpsAgent({ ca: caCert, keepAlive: true, maxSockets: CONCURRENCY });
  const patch = (deviceIndex: number, size: number): Promise<number> => {
    const deviceId = `device-${String(deviceIndex).padStart(6, '0')}`;
    const body = JSON.stringify({
      properties: { desired: { [AGENT_KEY]: { maxMessageSizeInBytes: { value: size } } } },
    });
    return new Promise((resolve, reject) => {
      const request = https.request(
        {
          host: hostName,
          method: 'PATCH',
          path: `/twins/${deviceId}/modules/azureiotsecurity?api-version=2021-04-12`,
          agent,
          headers: {
            Authorization: authorization,
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(body),
            'If-Match': '"*"',
          },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  };

  let measuring = false;
  let stop = false;
  let requests = 0;
  let errors = 0;
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (!stop) {
      const started = performance.now();
      const status = await patch((next++ % PATCH_DEVICES) + 1, 8192 * (1 + (next % 32)));
      if (!measuring) continue;
      requests++;
      if (status !== 200) errors++;
      latencies.push(performance.now() - started);
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  measuring = true;
  const begin = performance.now();
  await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
  measuring = false;
  const seconds = (performance.now() - begin) / 1000;
  stop = true;
  await Promise.all(workers);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const result: LoadResult = {
    requests,
    errors,
    seconds,
    p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
  };
  process.stdout.write(JSON.stringify(result));
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
    const output = await runChild(['load', emulator.hostName, emulator.connectionString, emulator.caFile]);
    return JSON.parse(output) as LoadResult;
  } finally {
    await emulator.close();
  }
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'load') {
    const { readFile } = await import('node:fs/promises');
    await loadGenerator(rest[0], rest[1], await readFile(rest[2], 'utf8'));
    return;
  }
  if (mode === 'memory') {
    await memoryProbe();
    return;
  }

  const line = (label: string, value: string) => console.log(`${label.padEnd(64)} ${value}`);
  console.log(
    `IoT Hub emulator benchmark (node ${process.version}, ${CONCURRENCY} requests in flight, ${PATCH_DEVICES} module twins)`,
  );
  for (const agentsOnline of [false, true]) {
    const result = await patchThroughput(agentsOnline);
    line(
      `twin PATCH/s, throttling off, agents ${agentsOnline ? 'online (they report back)' : 'offline'}`,
      `${(result.requests / result.seconds).toFixed(0)}/s  (p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, ${result.errors} errors)`,
    );
  }
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
