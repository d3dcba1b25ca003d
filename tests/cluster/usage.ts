// The real-engine suite's usage, apart from the suite: `--help` answers without loading it.
export const USAGE = `usage: npm run test:cluster -- [--stack dev|staging|split|faults] [--report FILE] [--keep] [--write-docs]

Runs the platform under the real Pulumi CLI 3.248.0 with the Kubernetes and Random providers
against a Kubernetes 1.34 control plane on loopback (etcd, kube-apiserver, controller-manager,
scheduler, kwok), all built into a cache of the suite's own the first time (LAKEHOUSE_CLUSTER_CACHE,
default ~/.cache/lakehouse-platform-cluster; about 30 minutes on two cores, then seconds).

  --stack    dev (default), staging, split (prod's four split stacks, in order), or faults
             (staging killed, restarted and changed in ways that risk its data)
  --report   where to write the JSON report (default cluster-report.json)
  --keep     keep the run's folder (logs, event logs, the control plane's data) after a pass
  --write-docs  with dev: write the README's captured preview and up from this run's output
             (without it, the run checks that block against what the CLI printed)

Exit status: 0 every check passed, 1 a check failed, 2 bad input, 3 a failure of the suite.`;
