// The real-engine suite's usage, apart from the suite: `--help` answers without loading it.
export const USAGE = `usage: npm run test:cluster -- [--stack dev|staging|split|faults] [--node kwok|real] [--report FILE] [--keep] [--write-docs] [--prepare]

Runs the platform under the real Pulumi CLI 3.248.0 (with its Node.js language host) and the
Kubernetes and Random providers against a Kubernetes 1.34 control plane (etcd, kube-apiserver,
controller-manager, scheduler), all built into a cache of the suite's own the first time
(LAKEHOUSE_CLUSTER_CACHE, default ~/.cache/lakehouse-platform-cluster; about 40 minutes on two
cores, then seconds).

  --stack    dev (default), staging, split (prod's four split stacks, in order), or faults
             (staging killed, restarted and changed in ways that risk its data)
  --node     kwok (default): pods are simulated, nothing runs; real: a real node (containerd,
             runc, the kubelet, kube-proxy, CoreDNS, kube-router) runs the platform's pods, from
             images built from the registries (LAKEHOUSE_IMAGE_CACHE), in network, mount and PID
             namespaces of the run's own; needs root and Debian's containerd, runc,
             containernetworking-plugins, iptables, ipset, mmdebstrap and docker-registry
  --report   where to write the JSON report (default cluster-report.json)
  --keep     keep the run's folder (logs, event logs, the control plane's data) after a pass
  --write-docs  with dev: write the README's captured preview and up from this run's output
             (without it, the run checks that block against what the CLI printed)
  --prepare  with --node real: only build the images (what .ci/warm does), then stop

Exit status: 0 every check passed, 1 a check failed, 2 bad input, 3 a failure of the suite.`;
