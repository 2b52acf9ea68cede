// `demo`: the operator's main job, end to end on this machine. A Kubernetes API server (the local control plane,
// or the cluster KUBECONFIG names), the emulated fleet, the operator as its own process; the CRDs and the
// examples applied with kubectl; the resources converging as `kubectl get smc` shows them; one edit rolled out;
// then everything it started stopped.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { RunningEmulator } from '../emulator/index.js';
import type { CommandIo } from '../observability/command-output.js';
import { packageFolder } from '../package-folder.js';
import { pause, systemClock } from '../runtime/clock.js';
import { startDemoFleet } from './demo-fleet.js';
import type { DemoOptions } from './gitops-demo.js';
import {
  controlPlaneBuilt,
  type KubectlResult,
  type RunningControlPlane,
  runKubectl,
  startControlPlane,
} from './local-control-plane.js';

const NAMESPACE = 'iot-security';
const EDITED = 'site-amsterdam-strict';

export interface OperatorDemoOptions extends DemoOptions {
  /** Work on the cluster KUBECONFIG names (kubectl and the operator read it themselves), not a local one. */
  userCluster: boolean;
}

/** An example document, as far as the demo changes it. */
export interface DemoDocument {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown> & { connectionStringSecretRef?: { name: string } };
  stringData?: Record<string, string>;
}

/**
 * The examples as the demo applies them: the Secret holds the emulator's connection string and CA, the IoTHub
 * trusts that CA and has the emulator's tier; in `namespace` when given.
 */
export function demoResources(
  examples: string,
  emulator: Pick<RunningEmulator, 'connectionString' | 'caCert'>,
  options: { namespace?: string; tier?: string; units?: number } = {},
): DemoDocument[] {
  const documents: DemoDocument[] = readdirSync(examples)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(examples, f), 'utf8'), { version: '1.1' }).map((d) => d.toJS()),
    );
  for (const document of documents) {
    if (options.namespace) document.metadata.namespace = options.namespace;
    if (document.kind === 'Secret')
      document.stringData = { connectionString: emulator.connectionString, 'ca.crt': emulator.caCert };
    if (document.kind === 'IoTHub') {
      document.spec.caSecretRef = { name: document.spec.connectionStringSecretRef?.name };
      document.spec.tier = options.tier ?? 'S1';
      document.spec.units = options.units ?? 1;
    }
  }
  return documents;
}

/** This command line's entry point, run the way this process runs (built JavaScript, or TypeScript via tsx). */
function operatorCommand(): string[] {
  const self = fileURLToPath(import.meta.url);
  const main = join(self, '..', '..', 'cli', self.endsWith('.ts') ? 'main.ts' : 'main.js');
  return [...process.execArgv, main, 'run'];
}

interface Ready {
  allReady: boolean;
  table: string;
}

export async function runOperatorDemo(options: OperatorDemoOptions, io: CommandIo): Promise<number> {
  const started: { stop(): Promise<unknown> }[] = [];
  let controlPlane: RunningControlPlane | undefined;
  let operator: ChildProcess | undefined;
  let emulator: RunningEmulator | undefined;
  // undefined: the user's cluster, as KUBECONFIG (one path or several) says.
  let kubeconfig: string | undefined;
  const kubectl = async (args: string[], input?: string): Promise<KubectlResult> => {
    const result = await runKubectl(kubeconfig, args, { input });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
    return result;
  };
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s`;
  try {
    if (options.userCluster) {
      io.out(
        `Using the cluster KUBECONFIG names (${process.env.KUBECONFIG}); the demo works in namespace ${NAMESPACE}.`,
      );
    } else {
      if (!controlPlaneBuilt())
        throw new Error(
          "the local control plane is not built: run 'make demo' (or 'make control-plane'; its first build takes about 6 minutes)",
        );
      controlPlane = await startControlPlane();
      started.push(controlPlane);
      kubeconfig = controlPlane.info.kubeconfig;
      io.out(
        `Started a local Kubernetes ${controlPlane.info.version} (kube-apiserver on etcd) at ${controlPlane.info.server} in ${elapsed().trim()}`,
      );
    }
    emulator = await startDemoFleet(options.devices);
    await emulator.agentsIdle();
    io.out(
      `Emulated IoT hub ${emulator.hostName} (tier S1, 1 unit) with ${options.devices} devices, their agents running`,
    );

    const crds = packageFolder('crds', (f) => f.endsWith('.yaml'));
    await kubectl(['apply', '-f', crds]);
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/iothubs.iotsecurity.io',
      'crd/securitymoduleconfigs.iotsecurity.io',
    ]);
    io.out(`$ kubectl apply -f crds/          # both CRDs established`);

    const logDir = mkdtempSync(join(tmpdir(), 'iot-security-operator-demo-'));
    const logFile = join(logDir, 'operator.log');
    operator = spawn(
      process.execPath,
      [...operatorCommand(), ...(kubeconfig ? ['--kubeconfig', kubeconfig] : []), '--namespace', NAMESPACE],
      {
        stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')],
        env: { ...process.env, LOG_FORMAT: 'json' },
      },
    );
    const operatorExited = new Promise((resolve) => operator!.once('exit', resolve));
    started.push({
      stop: async () => {
        if (operator?.exitCode === null) operator.kill('SIGTERM');
        await operatorExited;
      },
    });
    io.out(`Started the operator: iot-security-operator run --namespace ${NAMESPACE} (log: ${logFile})`);

    const exists = await runKubectl(kubeconfig, ['get', 'namespace', NAMESPACE]);
    if (exists.code !== 0) await kubectl(['create', 'namespace', NAMESPACE]);
    const resources = demoResources(options.examples, emulator);
    await kubectl(
      ['apply', '-n', NAMESPACE, '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: resources }),
    );
    io.out(
      `$ kubectl apply -f examples/     # the hub's Secret points at the emulator, its CA in caSecretRef\n`,
    );

    const deadline = t0 + options.timeoutMs;
    const watchUntilReady = async (): Promise<boolean> => {
      let shown = '';
      for (;;) {
        const state = await readiness(kubeconfig);
        if (state.table !== shown) {
          shown = state.table;
          io.out(`${elapsed()} $ kubectl get smc -n ${NAMESPACE}`);
          for (const line of state.table.trimEnd().split('\n')) io.out(`       ${line}`);
        }
        if (state.allReady) return true;
        if (Date.now() > deadline || options.stop.drain.aborted) return false;
        await pause(systemClock, 1500, options.stop.drain);
      }
    };
    if (!(await watchUntilReady())) {
      io.err(
        `not every resource was Ready within ${options.timeoutMs / 1000}s (see the operator's log: ${logFile})`,
      );
      return options.stop.drain.aborted ? 130 : 3;
    }

    io.out(
      `\n${elapsed()} One edit: the Amsterdam layer sends high-priority messages every 2 minutes instead of 1`,
    );
    io.out(
      `       $ kubectl patch smc ${EDITED} --type merge -p '{"spec":{"agentConfiguration":{"highPriorityMessageFrequency":"PT2M"}}}'`,
    );
    await kubectl([
      'patch',
      'smc',
      EDITED,
      '-n',
      NAMESPACE,
      '--type',
      'merge',
      '-p',
      '{"spec":{"agentConfiguration":{"highPriorityMessageFrequency":"PT2M"}}}',
    ]);
    if (!(await watchUntilReady())) {
      io.err(`the edit was not rolled out within the timeout (see ${logFile})`);
      return options.stop.drain.aborted ? 130 : 3;
    }
    const hubs = await kubectl(['get', 'hub', '-n', NAMESPACE]);
    io.out(`\n${elapsed()} $ kubectl get hub -n ${NAMESPACE}`);
    for (const line of hubs.stdout.trimEnd().split('\n')) io.out(`       ${line}`);
    const events = await kubectl([
      'get',
      'events',
      '-n',
      NAMESPACE,
      '--sort-by=.lastTimestamp',
      '-o',
      'custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message',
    ]);
    io.out(`\n${elapsed()} $ kubectl get events -n ${NAMESPACE}`);
    for (const line of events.stdout.trimEnd().split('\n').slice(-12)) io.out(`       ${line}`);
    const stats = emulator.hub.stats.snapshot();
    io.out(
      `\nThe hub received ${stats.requests.twinUpdate?.['200'] ?? 0} twin updates, ${stats.requests.query?.['200'] ?? 0} queries and ${stats.requests.twinRead?.['200'] ?? 0} twin reads; ${Object.values(stats.throttled).reduce((a, b) => a + b, 0)} answered 429`,
    );
    return 0;
  } finally {
    // On a cluster of the user's, what the demo applied goes while the operator still runs (it removes the
    // settings and the finalizers); a local control plane goes whole.
    if (options.userCluster && operator?.exitCode === null) {
      io.out(`Cleaning up namespace ${NAMESPACE} of the cluster (the operator releases the resources first)`);
      for (const kind of ['smc', 'hub', 'secret/fleet-hub-credentials'])
        await runKubectl(kubeconfig, [
          'delete',
          ...(kind.includes('/') ? [kind] : [kind, '--all']),
          '-n',
          NAMESPACE,
          '--timeout=60s',
        ]);
    }
    for (const part of started.reverse()) await part.stop().catch(() => {});
    await emulator?.close();
  }
}

interface ListedConfig {
  metadata: { generation?: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
}

/** `kubectl get smc` as printed, and whether every resource is Ready for its current generation. */
async function readiness(kubeconfig: string | undefined): Promise<Ready> {
  const [json, table] = await Promise.all([
    runKubectl(kubeconfig, ['get', 'smc', '-n', NAMESPACE, '-o', 'json']),
    runKubectl(kubeconfig, ['get', 'smc', '-n', NAMESPACE]),
  ]);
  if (json.code !== 0) return { allReady: false, table: table.stdout || table.stderr };
  const items = (JSON.parse(json.stdout) as { items: ListedConfig[] }).items;
  const allReady =
    items.length > 0 &&
    items.every(
      (item) =>
        item.status?.observedGeneration === item.metadata.generation &&
        item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
  // Without AGE: a column that changes every second would reprint the table for nothing.
  const lines = table.stdout
    .trimEnd()
    .split('\n')
    .map((l) => l.replace(/\s+\S+\s*$/, ''));
  return { allReady, table: `${lines.join('\n')}\n` };
}
