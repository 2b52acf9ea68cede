// Runs a command against a local Kubernetes cluster with a real node (docs/container-image.md, On a real node):
// starts a local control plane reachable from pods, the node of test/support/local-node.ts (containerd, kubelet,
// kube-proxy, kube-scheduler, kube-controller-manager), imports the images --image names from podman into the
// node's containerd, runs COMMAND with KUBECONFIG set (without one: waits for Ctrl-C, printing the kubeconfig),
// then stops and removes it all and exits with the command's status. Needs root, `make control-plane node`.
//   npx tsx scripts/with-local-node.ts [--image IMAGE]... [COMMAND [ARG...]]
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startControlPlane } from '../src/demo/local-control-plane.js';
import { nodeAddress, nodeUnavailable, startLocalNode } from '../test/support/local-node.js';

const args = process.argv.slice(2);
const images: string[] = [];
while (args[0] === '--image' && args[1]) images.push(args.splice(0, 2)[1]!);
const [command, ...commandArgs] = args;

const unavailable = await nodeUnavailable();
if (unavailable) {
  console.error(`with-local-node: ${unavailable}`);
  process.exit(1);
}
const ip = nodeAddress()!;
const controlPlane = await startControlPlane({ advertiseAddress: ip });
const { kubeconfig } = controlPlane.info;
let code = 1;
try {
  const started = Date.now();
  const node = await startLocalNode(controlPlane.info, { ip });
  try {
    for (const image of images) await node.importImage(image);
    console.error(
      `node ${node.layout.name} (${ip}) Ready, images imported, in ${((Date.now() - started) / 1000).toFixed(1)}s; KUBECONFIG=${kubeconfig}`,
    );
    const child = command
      ? spawn(command, commandArgs, { stdio: 'inherit', env: { ...process.env, KUBECONFIG: kubeconfig } })
      : undefined;
    const signalled = new Promise<number>((done) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const)
        process.on(signal, () => (child ? child.kill(signal) : done(0)));
    });
    code = child
      ? await new Promise<number>((done) => child.once('exit', (c, s) => done(c ?? (s ? 128 : 1))))
      : await signalled;
  } finally {
    await node.stop();
  }
} finally {
  await controlPlane.stop();
  rmSync(controlPlane.info.dataDir, { recursive: true, force: true });
}
process.exit(code);
