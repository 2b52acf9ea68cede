// `iot-security-operator demo`: the main job on this machine. By default the operator itself: a Kubernetes API
// server (the local control plane, or the cluster KUBECONFIG names), the emulated fleet, the operator process,
// the examples applied with kubectl. `--gitops` runs the same examples through `sync --wait` instead.
import { parseArgs } from 'node:util';
import { runGitopsDemo } from '../../demo/gitops-demo.js';
import { runOperatorDemo } from '../../demo/operator-demo.js';
import { createLogger } from '../../observability/logger.js';
import { packageFolder } from '../../package-folder.js';
import { type CommandIo, UsageError } from '../command-io.js';
import { shutdownSignal } from '../shutdown-signal.js';

export const DEMO_USAGE = `Usage: iot-security-operator demo [--devices 2000] [--examples DIR] [--timeout 3m] [--gitops] [--local]

Starts the embedded IoT Hub emulator with a seeded fleet (2,000 devices over 11 sites, 3% offline, agents
answering after 0.1 to 2.5 s, a quarter of them C agents; beside them a tenth as many IoT Plug and Play
thermostats and temperature controllers without the agent, a quarter on legacy firmware), then:
  by default   the operator: a local Kubernetes API server (built by 'make control-plane'), or the cluster
               KUBECONFIG names; the operator as its own process; the CRDs and DIR's resources applied with
               kubectl; progress as 'kubectl get smc' shows it; one edit rolled out; then a thermostat value
               the legacy firmware refuses, as 'kubectl get tc' and the Events show it, and its correction;
               everything stopped after
  --gitops     the same resources with 'sync --wait', no cluster
  --local      use the local control plane even when KUBECONFIG is set`;

export async function runDemoCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string', default: '2000' },
      examples: { type: 'string' },
      timeout: { type: 'string', default: '3m' },
      gitops: { type: 'boolean', default: false },
      local: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(DEMO_USAGE);
    return 0;
  }
  const devices = Number(values.devices);
  if (!Number.isInteger(devices) || devices < 1 || devices > 200_000)
    throw new UsageError(`--devices must be a whole number from 1 to 200000, not '${values.devices}'`);
  const timeoutMinutes = /^(\d+)m$/.exec(values.timeout);
  if (!timeoutMinutes) throw new UsageError(`--timeout must be minutes such as 3m, not '${values.timeout}'`);
  const shutdown = shutdownSignal();
  const options = {
    devices,
    examples: values.examples ?? packageFolder('examples', (f) => /\.ya?ml$/.test(f)),
    timeoutMs: Number(timeoutMinutes[1]) * 60_000,
    logger: createLogger({ level: 'warn' }),
    stop: shutdown.stop,
  };
  try {
    if (values.gitops) return await runGitopsDemo(options, io);
    const userCluster = !values.local && Boolean(process.env.KUBECONFIG);
    return await runOperatorDemo({ ...options, userCluster }, io);
  } finally {
    shutdown.dispose();
  }
}
