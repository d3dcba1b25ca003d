// The usage of npm run up:local and down:local, apart from them: `--help` answers without loading anything.
export const UP_USAGE = `usage: npm run up:local [-- --cluster kind|loopback]

Deploys the dev stack on this machine with the real \`pulumi preview --policy-pack policies\` and
\`pulumi up\`, and prints every service's address. It uses the \`pulumi\` on your PATH (the
Pulumi CLI with its Node.js language host; the providers are downloaded by it, as always) and a
file backend of its own in ~/.cache/lakehouse-platform-cluster/local (no \`pulumi login\`).

The cluster:
  kind       where Docker runs and \`kind\` is on PATH (the default there): the kind cluster
             "lakehouse" (dev's kubeContext, kind-lakehouse), created unless it exists; real pods,
             images pulled from their public registries. Dev requests about 3.7 CPUs and 14 GiB.
  loopback   elsewhere: a Kubernetes 1.34 control plane on loopback (etcd, kube-apiserver,
             controller-manager, scheduler, kwok; built from the Go module proxy the first time,
             about 25 minutes on two cores, then seconds). Pods become Ready without containers
             running (kwok): the preview, the verdicts and the update are real, the pods are not.

\`npm run down:local\` destroys the stack, then deletes the kind cluster if up:local created it,
or stops the control plane.`;

export const DOWN_USAGE = `usage: npm run down:local

Destroys the dev stack that \`npm run up:local\` deployed, then deletes the kind cluster it created
(a cluster that was already there stays) or stops the local control plane.`;
