// The configuration files of the local node (test/support/local-node.ts): containerd's, the CNI network's, the
// kubelet's and kube-proxy's, each rendered from the node's folder and addresses. Pure: they write nothing.
import { join } from 'node:path';

/** The node's network: one bridge, the pods' subnet behind it. */
export const POD_SUBNET = '10.244.0.0/24';
export const BRIDGE = 'iotnode0';

export interface NodeLayout {
  /** Everything the node writes lives under this folder, removed when it stops. */
  dir: string;
  name: string;
  /** The machine's address the node registers with (the pods reach the API server and the host at it). */
  ip: string;
  /** The control plane's admin kubeconfig: the kubelet, the scheduler, the controller-manager and kube-proxy use it. */
  kubeconfig: string;
  /** The CA that signs client certificates, which the kubelet trusts for the API server's calls (logs, exec). */
  clientCAFile: string;
  /** Where the CNI plugins are (Debian's containernetworking-plugins: /usr/lib/cni). */
  cniBinDir: string;
  sandboxImage: string;
}

export const containerdSocket = (node: NodeLayout) => join(node.dir, 'containerd', 'containerd.sock');

/**
 * containerd 1.6's configuration: its root, state and socket in the node's folder, the CRI plugin with the local
 * pause image, runc with cgroupfs (the kubelet's driver here), and the CNI network below.
 */
export function containerdConfig(node: NodeLayout): string {
  const cri = '[plugins."io.containerd.grpc.v1.cri"]';
  return [
    'version = 2',
    `root = "${join(node.dir, 'containerd', 'root')}"`,
    `state = "${join(node.dir, 'containerd', 'state')}"`,
    '[grpc]',
    `  address = "${containerdSocket(node)}"`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${join(node.dir, 'containerd', 'opt')}"`,
    cri,
    `  sandbox_image = "${node.sandboxImage}"`,
    // Some machines (this one) refuse a negative oom_score_adj even to root: runc then fails to start the pause
    // container ("can't get final child's PID from pipe: EOF"). Restricted, containerd never sets a score below
    // its own.
    '  restrict_oom_score_adj = true',
    // The pods' network namespaces in the node's folder rather than /var/run/netns.
    '  netns_mounts_under_state_dir = true',
    `  [plugins."io.containerd.grpc.v1.cri".cni]`,
    `    bin_dir = "${node.cniBinDir}"`,
    `    conf_dir = "${join(node.dir, 'cni')}"`,
    `  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]`,
    '    runtime_type = "io.containerd.runc.v2"',
    `    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]`,
    '      SystemdCgroup = false',
    '',
  ].join('\n');
}

/** The pods' network: a bridge with the node as gateway, addresses from host-local (its leases in the node's folder). */
export function cniConfig(node: NodeLayout): object {
  return {
    cniVersion: '0.4.0',
    name: 'local-node',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: POD_SUBNET }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: join(node.dir, 'cni-leases'),
        },
      },
    ],
  };
}

/**
 * The kubelet's configuration: containerd's socket, cgroupfs, the API server's calls authenticated by client
 * certificate and authorized by the API server (SubjectAccessReview), no eviction or image collection (a test
 * node on a shared disk), and cgroup v1 accepted (Kubernetes 1.34 refuses it unless told).
 */
export function kubeletConfig(node: NodeLayout): object {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: `unix://${containerdSocket(node)}`,
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    address: node.ip,
    readOnlyPort: 0,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: node.clientCAFile },
    },
    authorization: { mode: 'Webhook' },
    resolvConf: '/etc/resolv.conf',
    localStorageCapacityIsolation: false,
    enforceNodeAllocatable: [],
    evictionHard: {},
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
  };
}

/**
 * kube-proxy in iptables mode: what makes the kubernetes Service's address (10.0.0.1:443) reach the API server.
 * It leaves the machine's sysctls alone (conntrack sizes, route_localnet for node ports on localhost) and serves
 * neither health nor metrics.
 */
export function kubeProxyConfig(node: NodeLayout): object {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig: node.kubeconfig },
    hostnameOverride: node.name,
    clusterCIDR: POD_SUBNET,
    conntrack: { maxPerCore: 0 },
    iptables: { localhostNodePorts: false },
    healthzBindAddress: '',
    metricsBindAddress: '',
  };
}
