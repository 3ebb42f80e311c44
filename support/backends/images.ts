/**
 * Which programs each container image of the kind and existing backends has, with the public
 * source of each list (facts: ../shared/notes/real-cilium-facts.md, "Where each tool lives").
 * A command routed into a container must name a program its image has; the inventory test
 * (test/unit/executables.test.ts) checks every probe's command against these lists.
 */
export interface ImageTools {
  /** The image (pinned where Hookpoint pins it). */
  image: string;
  /** Programs it has (only those Hookpoint could call). */
  has: readonly string[];
  /** Programs it lacks that a reader might expect. */
  lacks: readonly string[];
  source: string;
}

export type ImageName = 'kind-node' | 'cilium-agent' | 'probe' | 'workload';

export const IMAGES: Record<ImageName, ImageTools> = {
  'kind-node': {
    image: 'kindest/node:v1.27.3 (kind v0.20.0)',
    has: [
      'sh',
      'bash',
      'mkdir',
      'rm',
      'cat',
      'base64',
      'grep',
      'iptables',
      'iptables-save',
      'iptables-nft',
      'iptables-nft-save',
      'iptables-legacy',
      'iptables-legacy-save',
      'ip',
      'ss',
      'conntrack',
      'ethtool',
      'nsenter',
      'mount',
      'umount',
      'curl',
      'jq',
      'ps',
      // coreutils, grep and procps of the Debian base: what bounds a window's process inside (k8s/in-container.ts).
      'env',
      'timeout',
      'tr',
      'kill',
    ],
    lacks: ['bpftool', 'tcpdump'],
    source: 'kubernetes-sigs/kind images/base/Dockerfile (v0.20.0 and HEAD)',
  },
  'cilium-agent': {
    image: 'quay.io/cilium/cilium (container cilium-agent of the cilium DaemonSet)',
    // Ubuntu base: coreutils (env, timeout, tr), grep and procps (kill) bound in-container processes.
    has: [
      'cilium-dbg',
      'cilium',
      'bpftool',
      'ip',
      'tc',
      'ss',
      'iptables',
      'iptables-save',
      'sh',
      'bash',
      'env',
      'timeout',
      'tr',
      'grep',
      'kill',
    ],
    lacks: ['tcpdump'],
    source:
      'cilium/cilium images/runtime/Dockerfile (bpftool from bpftool-dist, iproute2, iptables); `cilium` renamed `cilium-dbg` in 1.15',
  },
  probe: {
    image: 'nicolaka/netshoot:v0.13',
    // BusyBox provides env, timeout, tr and kill on Alpine.
    has: [
      'tcpdump',
      'nsenter',
      'curl',
      'socat',
      'ping',
      'ip',
      'ss',
      'sh',
      'bash',
      'base64',
      'grep',
      'rm',
      'mkdir',
      'cat',
      'env',
      'timeout',
      'tr',
      'kill',
    ],
    lacks: [],
    source: 'nicolaka/netshoot Dockerfile (v0.13, Alpine 3.19.1)',
  },
  workload: {
    image: 'registry.k8s.io/e2e-test-images/agnhost:2.45',
    has: ['curl', 'ip', 'ss', 'sh', 'rm', 'cat'],
    lacks: ['tcpdump'],
    source: 'kubernetes/kubernetes test/images/agnhost (curl, iproute2)',
  },
};
