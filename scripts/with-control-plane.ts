// Runs a command (the test suite) with one local Kubernetes control plane for all of it: starts the control
// plane, passes it in LOCAL_CONTROL_PLANE, runs the command, stops the control plane, exits with the command's
// status. Without a built control plane the command runs alone, and each Kubernetes test file starts its own (or fails saying to run make control-plane).
import { spawn } from 'node:child_process';
import {
  CONTROL_PLANE_ENV,
  controlPlaneBuilt,
  type RunningControlPlane,
  startControlPlane,
} from '../test/support/control-plane.js';
import { keepClusterOutput, SUITE_OUTPUT_ENV } from '../test/support/suite-output.js';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: tsx scripts/with-control-plane.ts COMMAND [ARG...]');
  process.exit(2);
}

let controlPlane: RunningControlPlane | undefined;
if (controlPlaneBuilt()) {
  const started = Date.now();
  controlPlane = await startControlPlane();
  console.error(
    `control plane ${controlPlane.info.version} at ${controlPlane.info.server} ready in ${((Date.now() - started) / 1000).toFixed(1)}s (data ${controlPlane.info.dataDir})`,
  );
}
const child = spawn(command, args, {
  stdio: 'inherit',
  shell: false,
  env: controlPlane
    ? { ...process.env, [CONTROL_PLANE_ENV]: JSON.stringify(controlPlane.info) }
    : process.env,
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
const code = await new Promise<number>((done) => child.once('exit', (c, s) => done(c ?? (s ? 128 : 1))));
// The Events and statuses the suite left, for the scan of its output (scripts/scan-suite-output.ts).
if (controlPlane && process.env[SUITE_OUTPUT_ENV]) await keepClusterOutput(controlPlane.info.kubeconfig);
await controlPlane?.stop();
process.exit(code);
