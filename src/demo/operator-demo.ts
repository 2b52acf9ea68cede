// `demo`: the operator's main job, end to end on this machine. A Kubernetes API server (the local control plane,
// or the cluster KUBECONFIG names), the emulated fleet, the operator as its own process; the CRDs and the
// examples applied with kubectl; the resources converging as `kubectl get smc` shows them; one edit rolled out;
// the thermostats' TwinConfig refused by legacy firmware, then corrected (thermostat-demo.ts); then everything it
// started stopped.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { RunningEmulator } from '../emulator/index.js';
import type { CommandIo } from '../observability/command-output.js';
import { packageFolder } from '../package-folder.js';
import { describePnpFleet, startDemoFleet } from './demo-fleet.js';
import {
  allReady,
  type DemoKube,
  kubectlOk,
  type ListedResource,
  listResources,
  show,
  watchResources,
} from './demo-kube.js';
import type { DemoOptions } from './gitops-demo.js';
import {
  controlPlaneBuilt,
  type RunningControlPlane,
  runKubectl,
  startControlPlane,
} from './local-control-plane.js';
import { runThermostatDemo, THERMOSTAT_CONFIG } from './thermostat-demo.js';

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

export async function runOperatorDemo(options: OperatorDemoOptions, io: CommandIo): Promise<number> {
  const started: { stop(): Promise<unknown> }[] = [];
  let controlPlane: RunningControlPlane | undefined;
  let operator: ChildProcess | undefined;
  let emulator: RunningEmulator | undefined;
  const t0 = Date.now();
  const kube: DemoKube = {
    kubeconfig: undefined,
    namespace: NAMESPACE,
    io,
    deadline: t0 + options.timeoutMs,
    stop: options.stop,
    elapsed: () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s`,
    shown: new Map(),
  };
  const kubectl = (args: string[], input?: string) => kubectlOk(kube, args, input);
  try {
    if (options.userCluster) {
      io.out(
        `Using the cluster KUBECONFIG names (${process.env.KUBECONFIG}); the demo works in namespace ${NAMESPACE}.`,
      );
    } else {
      if (!controlPlaneBuilt())
        throw new Error(
          "no Kubernetes API server: set KUBECONFIG to a cluster of yours (kind, minikube), or run 'demo --gitops' (no cluster); in a clone of the repository, 'make demo' builds a local control plane (about 6 minutes the first time)",
        );
      controlPlane = await startControlPlane();
      started.push(controlPlane);
      kube.kubeconfig = controlPlane.info.kubeconfig;
      io.out(
        `Started a local Kubernetes ${controlPlane.info.version} (kube-apiserver on etcd) at ${controlPlane.info.server} in ${kube.elapsed().trim()}`,
      );
    }
    emulator = await startDemoFleet(options.devices);
    await Promise.all([emulator.agentsIdle(), emulator.pnpIdle()]);
    io.out(
      `Emulated IoT hub ${emulator.hostName} (tier S1, 1 unit) with ${options.devices} devices, their agents running`,
    );
    const pnp = describePnpFleet(options.devices);
    if (pnp) io.out(`  and ${pnp}, without the agent`);

    const crds = packageFolder('crds', (f) => f.endsWith('.yaml'));
    await kubectl(['apply', '-f', crds]);
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/iothubs.iotsecurity.io',
      'crd/securitymoduleconfigs.iotsecurity.io',
      'crd/twinconfigs.iotsecurity.io',
    ]);
    io.out(`$ kubectl apply -f crds/          # IoTHub, SecurityModuleConfig and TwinConfig established`);

    const logDir = mkdtempSync(join(tmpdir(), 'iot-security-operator-demo-'));
    const logFile = join(logDir, 'operator.log');
    operator = spawn(
      process.execPath,
      [
        ...operatorCommand(),
        ...(kube.kubeconfig ? ['--kubeconfig', kube.kubeconfig] : []),
        '--namespace',
        NAMESPACE,
      ],
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

    const exists = await runKubectl(kube.kubeconfig, ['get', 'namespace', NAMESPACE]);
    if (exists.code !== 0) await kubectl(['create', 'namespace', NAMESPACE]);
    const resources = demoResources(options.examples, emulator);
    await kubectl(
      ['apply', '-n', NAMESPACE, '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: resources }),
    );
    io.out(
      `$ kubectl apply -f examples/     # the hub's Secret points at the emulator, its CA in caSecretRef`,
    );
    const thermostats = resources.some(
      (r) => r.kind === 'TwinConfig' && r.metadata.name === THERMOSTAT_CONFIG,
    );
    if (thermostats)
      io.out(
        "                                 # the thermostats' TwinConfigs with their models (ConfigMap pnp-models)",
      );
    io.out('');

    // Every SecurityModuleConfig and TwinConfig Ready; the tables show the SecurityModuleConfigs.
    const everyConfigReady = async (configs: ListedResource[]) =>
      allReady(configs) && readyOrNone((await listResources(kube, 'tc')).items);
    if (!(await watchResources(kube, 'smc', everyConfigReady))) {
      io.err(
        `not every resource was Ready within ${options.timeoutMs / 1000}s (see the operator's log: ${logFile})`,
      );
      return options.stop.drain.aborted ? 130 : 3;
    }

    io.out(
      `\n${kube.elapsed()} One edit: the Amsterdam layer sends high-priority messages every 2 minutes instead of 1`,
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
    if (!(await watchResources(kube, 'smc', allReady))) {
      io.err(`the edit was not rolled out within the timeout (see ${logFile})`);
      return options.stop.drain.aborted ? 130 : 3;
    }
    io.out('');
    show(kube, `kubectl get hub -n ${NAMESPACE}`, (await kubectl(['get', 'hub', '-n', NAMESPACE])).stdout);
    const events = await kubectl([
      'get',
      'events',
      '-n',
      NAMESPACE,
      '--field-selector',
      'involvedObject.kind=SecurityModuleConfig',
      '--sort-by=.lastTimestamp',
      '-o',
      'custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message',
    ]);
    io.out('');
    show(
      kube,
      `kubectl get events -n ${NAMESPACE} --field-selector involvedObject.kind=SecurityModuleConfig`,
      events.stdout,
      12,
    );

    if (thermostats && pnp && !(await runThermostatDemo(kube, emulator))) {
      io.err(`the thermostats' TwinConfig did not converge within the timeout (see ${logFile})`);
      return options.stop.drain.aborted ? 130 : 3;
    }

    const stats = emulator.hub.stats.snapshot();
    io.out(
      `\nThe hub received ${stats.requests.twinUpdate?.['200'] ?? 0} twin updates, ${stats.requests.query?.['200'] ?? 0} queries and ${stats.requests.twinRead?.['200'] ?? 0} twin reads; ${Object.values(stats.throttled).reduce((a, b) => a + b, 0)} answered 429`,
    );
    const accepted = emulator.hub.stats.pnpAcknowledgements(200);
    const refused = emulator.hub.stats.pnpAcknowledgements(400);
    if (accepted + refused > 0)
      io.out(
        `The IoT Plug and Play devices acknowledged ${accepted} values written (ac 200) and refused ${refused} (ac 400)`,
      );
    return 0;
  } finally {
    // On a cluster of the user's, what the demo applied goes while the operator still runs (it removes the
    // settings and the finalizers); a local control plane goes whole.
    if (options.userCluster && operator?.exitCode === null) {
      io.out(`Cleaning up namespace ${NAMESPACE} of the cluster (the operator releases the resources first)`);
      for (const kind of ['smc', 'tc', 'hub', 'secret/fleet-hub-credentials', 'configmap/pnp-models'])
        await runKubectl(kube.kubeconfig, [
          'delete',
          ...(kind.includes('/') ? [kind] : [kind, '--all']),
          '-n',
          NAMESPACE,
          '--timeout=60s',
          '--ignore-not-found',
        ]);
    }
    for (const part of started.reverse()) await part.stop().catch(() => {});
    await emulator?.close();
  }
}

/** Ready for their current spec, every one of them (none is fine: examples of the user's may have none). */
function readyOrNone(items: ListedResource[]): boolean {
  return items.length === 0 || allReady(items);
}
