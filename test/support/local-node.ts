// A real Kubernetes node on this machine, for a local control plane started with an advertise address: Debian's
// containerd and runc run the pods, with the CNI bridge of Debian's containernetworking-plugins; the kubelet,
// kube-proxy, kube-scheduler and kube-controller-manager are built by `make node` from the control plane's own Go
// module. Everything it starts runs from one folder and is stopped and removed by stop(): the node's pods, its
// processes, mounts, network bridge, iptables chains and cgroups. Needs root.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { controlPlaneBin } from '../../src/demo/local-control-plane.js';
import { type ControlPlaneInfo, kubectl } from './control-plane.js';
import {
  BRIDGE,
  cniConfig,
  containerdConfig,
  containerdSocket,
  kubeletConfig,
  kubeProxyConfig,
  type NodeLayout,
} from './local-node-config.js';
import { pauseImageArchive } from './pause-image.js';
import { until } from './until.js';

const NODE_BINARIES = ['kubelet', 'kube-scheduler', 'kube-controller-manager', 'kube-proxy', 'pause'];
const CNI_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
const COMPONENTS = ['kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubelet'] as const;
type Component = 'containerd' | (typeof COMPONENTS)[number];

const exec = promisify(execFile);

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    await exec(command, args, { maxBuffer: 16 << 20 });
    return true;
  } catch {
    return false;
  }
}

/** Why a node cannot run here, or undefined when it can: root, containerd, runc, the CNI plugins, `make node`. */
export async function nodeUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'a node needs root (containerd, the kubelet, kube-proxy)';
  for (const [command, pkg] of [
    ['containerd', 'containerd'],
    ['runc', 'runc'],
  ])
    if (!(await succeeds(command!, ['--version'])))
      return `${command} is not installed (apt-get install ${pkg})`;
  if (!cniBinDir()) return 'the CNI plugins are not installed (apt-get install containernetworking-plugins)';
  const bin = controlPlaneBin();
  const missing = NODE_BINARIES.filter((b) => !bin || !existsSync(join(bin, b)));
  if (missing.length > 0) return `${missing.join(', ')} not built: run make node`;
  if (!nodeAddress()) return 'this machine has no IPv4 address besides loopback for the node';
  return undefined;
}

function cniBinDir(): string | undefined {
  return CNI_BIN_DIRS.find((d) => existsSync(join(d, 'bridge')) && existsSync(join(d, 'host-local')));
}

/** The machine's first IPv4 address besides loopback (and the node's own bridge): the node's address. */
export function nodeAddress(): string | undefined {
  for (const [name, addresses] of Object.entries(networkInterfaces()))
    for (const a of addresses ?? [])
      if (name !== BRIDGE && a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

export interface RunningNode {
  layout: NodeLayout;
  /** Copies a podman image into containerd's k8s.io namespace, where the kubelet finds it. */
  importImage(podmanImage: string): Promise<void>;
  /** The last lines of a component's log, for a failing test's message. */
  logTail(component: Component, lines?: number): string;
  /** Deletes the node's pods, stops every process and removes all it made. */
  stop(): Promise<void>;
}

/** Starts the node against `cp` (started with advertiseAddress: `ip`) and resolves when it is Ready. */
export async function startLocalNode(
  cp: ControlPlaneInfo,
  options: { ip: string; name?: string },
): Promise<RunningNode> {
  const bin = controlPlaneBin()!;
  const dir = mkdtempSync(join(tmpdir(), 'local-node-'));
  const layout: NodeLayout = {
    dir,
    name: options.name ?? 'local-node',
    ip: options.ip,
    kubeconfig: cp.kubeconfig,
    clientCAFile: join(dirname(cp.caFile), 'client-ca.crt'),
    cniBinDir: cniBinDir()!,
    sandboxImage: 'localhost/pause:local',
  };
  for (const sub of ['cni', 'containerd', 'logs', 'kubelet']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'cni', '10-local-node.conflist'), JSON.stringify(cniConfig(layout)));
  writeFileSync(join(dir, 'containerd.toml'), containerdConfig(layout));
  writeFileSync(join(dir, 'kubelet.yaml'), JSON.stringify(kubeletConfig(layout)));
  writeFileSync(join(dir, 'kube-proxy.yaml'), JSON.stringify(kubeProxyConfig(layout)));

  const processes = new Map<Component, ChildProcess>();
  const logFile = (c: Component) => join(dir, 'logs', `${c}.log`);
  const launch = (c: Component, command: string, args: string[]) => {
    const log = openSync(logFile(c), 'a');
    processes.set(c, spawn(command, args, { stdio: ['ignore', log, log] }));
  };
  const ctr = (args: string[]) => ['--address', containerdSocket(layout), '--namespace', 'k8s.io', ...args];
  const logTail = (c: Component, lines = 30) => {
    try {
      return readFileSync(logFile(c), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const waitFor = async (what: string, component: Component, condition: () => Promise<boolean>) => {
    try {
      await until(condition, 90_000, what, 250);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- ${component}\n${logTail(component)}`);
    }
  };

  const node: RunningNode = {
    layout,
    async importImage(podmanImage) {
      const archive = join(dir, 'image.tar');
      await exec('podman', ['save', '--output', archive, podmanImage]);
      await exec('ctr', ctr(['images', 'import', archive]), { maxBuffer: 16 << 20 });
      rmSync(archive, { force: true });
    },
    logTail,
    stop: () => stopLocalNode(layout, processes, ctr),
  };
  try {
    launch('containerd', 'containerd', ['--config', join(dir, 'containerd.toml')]);
    await waitFor('containerd', 'containerd', () => succeeds('ctr', ctr(['version'])));
    const pause = pauseImageArchive(join(bin, 'pause'), layout.sandboxImage, join(dir, 'pause-image'));
    await exec('ctr', ctr(['images', 'import', pause]));

    launch('kube-controller-manager', join(bin, 'kube-controller-manager'), [
      `--kubeconfig=${cp.kubeconfig}`,
      '--leader-elect=false',
      '--secure-port=0',
      '--use-service-account-credentials=false',
      // Published into every namespace as kube-root-ca.crt, which the pods' projected volume mounts as ca.crt.
      `--root-ca-file=${cp.caFile}`,
    ]);
    launch('kube-scheduler', join(bin, 'kube-scheduler'), [
      `--kubeconfig=${cp.kubeconfig}`,
      '--leader-elect=false',
      '--secure-port=0',
    ]);
    launch('kube-proxy', join(bin, 'kube-proxy'), [`--config=${join(dir, 'kube-proxy.yaml')}`]);
    launch('kubelet', join(bin, 'kubelet'), [
      `--config=${join(dir, 'kubelet.yaml')}`,
      `--kubeconfig=${cp.kubeconfig}`,
      `--hostname-override=${layout.name}`,
      `--node-ip=${layout.ip}`,
      `--root-dir=${join(dir, 'kubelet')}`,
      `--cert-dir=${join(dir, 'kubelet', 'pki')}`,
    ]);
    await waitFor('the node Ready', 'kubelet', async () => {
      const ready = await kubectl(cp.kubeconfig, [
        'get',
        'node',
        layout.name,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return ready.stdout === 'True';
    });
    for (const c of COMPONENTS) {
      const exited = processes.get(c)!.exitCode;
      if (exited !== null) throw new Error(`${c} exited with ${exited}\n${logTail(c)}`);
    }
    return node;
  } catch (error) {
    await node.stop();
    throw error;
  }
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(killer);
}

async function stopLocalNode(
  layout: NodeLayout,
  processes: Map<Component, ChildProcess>,
  ctr: (args: string[]) => string[],
): Promise<void> {
  // Nothing recreates or reschedules pods once the controllers stop; the kubelet then stops the node's pods as a
  // deletion asks (their grace period, the CNI plugin releasing their addresses).
  await stopProcess(processes.get('kube-controller-manager'));
  await stopProcess(processes.get('kube-scheduler'));
  const kubelet = processes.get('kubelet');
  if (kubelet && kubelet.exitCode === null) {
    await kubectl(layout.kubeconfig, [
      'delete',
      'pods',
      '--all-namespaces',
      `--field-selector=spec.nodeName=${layout.name}`,
      '--wait=false',
    ]);
    const tasks = async () => (await exec('ctr', ctr(['tasks', 'ls', '--quiet']))).stdout.trim();
    await until(async () => (await tasks().catch(() => '')) === '', 90_000, 'the pods stopped', 250).catch(
      () => {},
    );
  }
  await stopProcess(kubelet);
  await stopProcess(processes.get('kube-proxy'));
  const bin = controlPlaneBin()!;
  // kube-proxy's own cleanup of its iptables chains (KUBE-SERVICES and the rest).
  await exec(join(bin, 'kube-proxy'), ['--cleanup']).catch(() => {});
  // Whatever outlived the kubelet: its tasks killed, so that no shim stays behind containerd.
  const left = await exec('ctr', ctr(['tasks', 'ls', '--quiet'])).catch(() => ({ stdout: '' }));
  for (const id of left.stdout.split('\n').filter(Boolean)) {
    await exec('ctr', ctr(['tasks', 'kill', '--signal', 'SIGKILL', id])).catch(() => {});
    await exec('ctr', ctr(['tasks', 'delete', '--force', id])).catch(() => {});
  }
  await stopProcess(processes.get('containerd'));
  killShims(containerdSocket(layout));
  await unmountUnder(layout.dir);
  rmSync(layout.dir, { recursive: true, force: true });
  await exec('ip', ['link', 'delete', BRIDGE]).catch(() => {});
  await removeKubeletChains();
  removeKubepodsCgroups();
  await kubectl(layout.kubeconfig, ['delete', 'node', layout.name, '--ignore-not-found']);
}

/**
 * The kubelet's own iptables chains: KUBE-FIREWALL (it drops packets to 127.0.0.0/8 from elsewhere) with its jumps
 * from INPUT and OUTPUT, KUBE-IPTABLES-HINT, and the canaries it probes to see whether something flushed iptables.
 */
async function removeKubeletChains(): Promise<void> {
  const run = (iptables: string, args: string[]) => exec(iptables, args).catch(() => {});
  for (const iptables of ['iptables', 'ip6tables']) {
    for (const from of ['INPUT', 'OUTPUT'])
      await run(iptables, ['-t', 'filter', '-D', from, '-j', 'KUBE-FIREWALL']);
    await run(iptables, ['-t', 'filter', '-F', 'KUBE-FIREWALL']);
    await run(iptables, ['-t', 'filter', '-X', 'KUBE-FIREWALL']);
    await run(iptables, ['-t', 'mangle', '-X', 'KUBE-IPTABLES-HINT']);
    for (const table of ['mangle', 'nat', 'filter'])
      await run(iptables, ['-t', table, '-X', 'KUBE-KUBELET-CANARY']);
  }
}

/** containerd's shims for this node (their command line names its socket), which outlive containerd itself. */
function killShims(socket: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline: string[];
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (cmdline[0]?.includes('containerd-shim') && cmdline.includes(socket)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
  }
}

/** Unmounts what the kubelet and containerd mounted under `dir` (volumes, rootfs overlays, network namespaces). */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await exec('umount', ['--lazy', point]).catch(() => {});
}

/** The kubelet's cgroups (kubepods under each cgroup v1 controller, or the v2 root), children first. */
function removeKubepodsCgroups(): void {
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? ['/sys/fs/cgroup/kubepods']
    : readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c, 'kubepods'));
  const remove = (path: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(path, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) remove(join(path, e));
    try {
      rmdirSync(path);
    } catch {}
  };
  for (const root of roots) remove(root);
}
