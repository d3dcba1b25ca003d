// The usage of npm run up:local and down:local, apart from them: `--help` answers without loading anything.
export const UP_USAGE = `usage: npm run up:local

Starts a Kubernetes 1.34 control plane on loopback (etcd, kube-apiserver, controller-manager,
scheduler, kwok; built into ~/.cache/lakehouse-platform-cluster the first time: about 30 minutes
on two cores, then seconds), then runs the real \`pulumi preview --policy-pack policies\` and
\`pulumi up\` of the dev stack on it and prints the stack outputs and the wiring. Pods become Ready
without containers running (kwok). \`npm run down:local\` destroys the stack and stops the cluster.`;

export const DOWN_USAGE = `usage: npm run down:local

Destroys the dev stack that \`npm run up:local\` deployed and stops the local control plane.`;
