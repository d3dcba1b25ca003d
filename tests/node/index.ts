// A real Kubernetes node for the suite's control plane (tests/cluster/control-plane.ts), the way
// kind and kwok package theirs: one entry point, RealNode, that starts and stops everything a node
// runs, all of it real: containerd and runc (Debian's) with the CNI bridge, the kubelet 1.34.4 and
// kube-proxy (built like the control plane's binaries), CoreDNS serving the cluster's domain,
// kube-router's firewall enforcing NetworkPolicies, and a registry (Debian's docker-registry) on
// loopback serving the images built from the registries this machine reaches (./images). The
// suite's admission webhook (./webhook.ts) sends the pods whose software exists only as images
// (Airbyte's) to the kwok node beside it. It runs inside the network, mount and PID namespaces of
// ./namespace.ts, never in the machine's own.
import * as fs from "fs";
import * as path from "path";
import { Cert, kubeconfigOf } from "../cluster/control-plane";
import { Kube, KubeObject } from "../cluster/kube";
import { planted } from "../cluster/plants";
import { must, Processes, sleep, tail } from "../e2e/procs";
import {
    containerdConfig,
    cniConfig,
    corefile,
    kubeletConfig,
    kubeProxyConfig,
    kubeRouterArgs,
    NODE_LABEL,
    NODE_NAME,
    NodeDirs,
    nodeDirs,
    REGISTRY,
    REGISTRY_ADDRESS,
    registryConfig,
    registryHosts,
} from "./configs";
import { BuiltImage } from "./images";
import { push } from "./images/oci";
import { NETWORK } from "./namespace";
import { AdmissionWebhook, WEBHOOK } from "./webhook";

export { NETWORK, insideNamespace, runInside, prepareNetwork } from "./namespace";
export { NODE_NAME, REGISTRY_ADDRESS } from "./configs";

/** The node's certificates, made with the cluster's CA by the control plane (its `realNode.certs`). */
export const NODE_CERTS: Cert[] = [
    { name: "kubelet", cn: `system:node:${NODE_NAME}`, org: "system:nodes", ca: "ca" },
    { name: "kubelet-serving", cn: NODE_NAME, san: [`IP:${NETWORK.nodeIp}`, `DNS:${NODE_NAME}`], ca: "ca" },
    { name: "kube-proxy", cn: "system:kube-proxy", ca: "ca" },
    { name: "coredns", cn: "lakehouse:coredns", ca: "ca" },
    { name: "kube-router", cn: "lakehouse:kube-router", ca: "ca" },
    { name: "webhook", cn: "lakehouse-webhook", san: [`IP:${WEBHOOK.host}`], ca: "ca" },
    // It creates PersistentVolumes and its helper pods: cluster-wide rights, as its upstream manifest grants.
    { name: "local-path-provisioner", cn: "lakehouse:local-path-provisioner", org: "system:masters", ca: "ca" },
];

export interface RealNodeOptions {
    /** The built binaries: kubelet, kube-proxy, coredns, kube-router. */
    bin: string;
    /** The node's folder in the run. */
    dir: string;
    /** The cluster's PKI folder (its CA, the node's certificates). */
    pki: string;
    clusterDomain: string;
    /** The registry's storage: a folder that outlives runs. */
    registryStorage: string;
    images: BuiltImage[];
    say: (line: string) => void;
}

/** What a node component may read, as its upstream manifests grant it (CoreDNS's system:coredns, kube-router's). */
function readerRole(name: string, rules: { apiGroups: string[]; resources: string[] }[]): KubeObject[] {
    return [
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRole",
            metadata: { name },
            rules: rules.map((r) => ({ ...r, verbs: ["get", "list", "watch"] })),
        },
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            metadata: { name },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name }],
        },
    ];
}

/** The kernel tunables the kubelet checks (protectKernelDefaults), shown to it as it wants them. */
const KUBELET_TUNABLES: Record<string, string> = {
    "vm/overcommit_memory": "1",
    "vm/panic_on_oom": "0",
    "kernel/panic": "10",
    "kernel/panic_on_oops": "1",
    "kernel/keys/root_maxkeys": "1000000",
    "kernel/keys/root_maxbytes": "25000000",
};

export class RealNode {
    readonly dirs: NodeDirs;
    private readonly procs: Processes;
    private webhook?: AdmissionWebhook;
    private keeper?: NodeJS.Timeout;
    /** Where each component's log is. */
    readonly logs: string;

    get images(): BuiltImage[] {
        return this.o.images;
    }

    constructor(private readonly o: RealNodeOptions) {
        this.dirs = nodeDirs(o.dir);
        this.logs = path.join(o.dir, "logs");
        this.procs = new Processes(this.logs);
    }

    private file(name: string, text: string, mode = 0o644): string {
        const f = path.join(this.o.dir, name);
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, text, { mode });
        return f;
    }

    private kubeconfig(user: string): string {
        return this.file(`${user}.kubeconfig`, kubeconfigOf(this.o.pki, user, [user]), 0o600);
    }

    private fail(step: string, component: string, what: string, todo: string): never {
        throw new Error(
            `the real node's ${step} failed: ${what}\n  ${component}'s log (${this.procs.logOf(component)}), its end:\n${tail(this.procs.read(component), 30)}\n  what to do: ${todo}`,
        );
    }

    /**
     * This mount namespace's view, for the node: the kernel tunables the kubelet checks (their
     * values as it wants them, the machine's untouched), and the folders the kubelet and
     * containerd hard-code (pod log links, shim sockets) bound to the node's own.
     */
    private async mounts(): Promise<void> {
        for (const [key, value] of Object.entries(KUBELET_TUNABLES)) {
            const shown = this.file(path.join("proc-sys", key.replace(/\//g, "_")), `${value}\n`);
            await must("mount", ["--bind", shown, path.join("/proc/sys", key)]);
        }
        for (const [own, fixed] of [
            ["var-log-containers", "/var/log/containers"],
            ["run-containerd", "/run/containerd"],
        ]) {
            const dir = path.join(this.o.dir, own);
            fs.mkdirSync(dir, { recursive: true });
            fs.mkdirSync(fixed, { recursive: true });
            await must("mount", ["--bind", dir, fixed]);
        }
    }

    /** The registry, serving every image the run built under each name the program gives it. */
    private async registry(): Promise<void> {
        fs.mkdirSync(this.o.registryStorage, { recursive: true });
        const config = this.file("registry.yml", registryConfig(this.o.registryStorage));
        const child = this.procs.start("registry", "docker-registry", ["serve", config]);
        await this.procs.waitForPort("registry", child, REGISTRY.host, REGISTRY.port, 30_000);
        let sent = 0;
        let kept = 0;
        for (const image of this.o.images)
            for (const ref of image.spec.refs) {
                const [repo, tag] = ref.split(":");
                const r = await push(image.layout, REGISTRY_ADDRESS, repo, tag);
                sent += r.sent;
                kept += r.kept;
            }
        this.o.say(
            `  registry on ${REGISTRY_ADDRESS}: ${this.o.images.length} images (${sent} blobs pushed, ${kept} already there)`,
        );
    }

    private async containerd(): Promise<void> {
        const d = this.dirs;
        for (const dir of [
            d.containerdRoot,
            d.containerdState,
            d.cniConf,
            d.cniState,
            path.join(d.certsD, REGISTRY_ADDRESS),
        ])
            fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(d.certsD, REGISTRY_ADDRESS, "hosts.toml"), registryHosts());
        fs.writeFileSync(path.join(d.cniConf, "10-lakehouse.conflist"), cniConfig(d));
        const config = this.file("containerd/config.toml", containerdConfig(d));
        this.procs.start("containerd", "containerd", ["--config", config, "--log-level", "warn"]);
        const deadline = Date.now() + 30_000;
        while (!fs.existsSync(d.socket)) {
            if (Date.now() > deadline)
                this.fail(
                    "start",
                    "containerd",
                    "no socket after 30 s",
                    "its log's end (above) says why; containerd and runc are Debian's packages (apt-get install containerd runc), and the kernel must run containers (overlayfs, cgroups)",
                );
            await sleep(200);
        }
    }

    private async kubelet(kube: Kube): Promise<void> {
        const p = (f: string) => path.join(this.o.pki, f);
        const resolv = this.file(
            "resolv.conf",
            "# the node's own resolver: none (pods use the cluster's DNS)\noptions ndots:1\n",
        );
        const kubeconfig = this.kubeconfig("kubelet");
        // Planted (unready-node): the kubelet's kubeconfig names a port the API server does not
        // listen on, as a mistyped kubeconfig would; the node never registers.
        if (planted("unready-node"))
            fs.writeFileSync(kubeconfig, fs.readFileSync(kubeconfig, "utf8").replace(/:6443$/m, ":6444"));
        const config = this.file(
            "kubelet.yaml",
            kubeletConfig(
                this.dirs,
                {
                    kubeconfig,
                    clientCa: p("ca.crt"),
                    tlsCert: p("kubelet-serving.crt"),
                    tlsKey: p("kubelet-serving.key"),
                    resolvConf: resolv,
                },
                this.o.clusterDomain,
            ),
        );
        this.procs.start("kubelet", path.join(this.o.bin, "kubelet"), [
            `--config=${config}`,
            `--kubeconfig=${path.join(this.o.dir, "kubelet.kubeconfig")}`,
            `--root-dir=${this.dirs.kubeletRoot}`,
            `--node-ip=${NETWORK.nodeIp}`,
            `--hostname-override=${NODE_NAME}`,
            `--node-labels=${NODE_LABEL.key}=${NODE_LABEL.real}`,
            "--v=1",
        ]);
        const deadline = Date.now() + 180_000;
        for (;;) {
            const node = await kube.get("Node", NODE_NAME).catch(() => undefined);
            const ready = (
                (node?.status as { conditions?: { type: string; status: string; message?: string }[] })?.conditions ??
                []
            ).find((c) => c.type === "Ready");
            if (ready?.status === "True") return;
            if (Date.now() > deadline)
                this.fail(
                    "registration",
                    "kubelet",
                    `node ${NODE_NAME} not Ready after 180 s (${ready?.message ?? "not registered"})`,
                    `the kubelet's log's end (above) says why: "connection refused" or a certificate error is its kubeconfig (${path.join(this.o.dir, "kubelet.kubeconfig")}) not reaching the API server from the node's namespace; a runtime or cgroup error is containerd's or the kernel's (containerd's log: ${this.procs.logOf("containerd")}); "network plugin not ready" is the CNI configuration (${this.dirs.cniConf})`,
                );
            await sleep(500);
        }
    }

    private async services(kube: Kube): Promise<void> {
        // kube-proxy: the Services' addresses, in iptables.
        this.procs.start("kube-proxy", path.join(this.o.bin, "kube-proxy"), [
            `--config=${this.file("kube-proxy.yaml", kubeProxyConfig(this.kubeconfig("kube-proxy")))}`,
            "--v=1",
        ]);
        // CoreDNS: the cluster's domain, from the API server, on the node's address; the kube-dns
        // Service (the kubelet's clusterDNS) routes to it.
        for (const o of [
            ...readerRole("lakehouse:coredns", [
                { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"] },
                { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"] },
            ]),
            ...readerRole("lakehouse:kube-router", [
                { apiGroups: [""], resources: ["namespaces", "pods", "services", "nodes", "endpoints"] },
                { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"] },
                { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"] },
            ]),
        ])
            await kube.apply(o);
        await kube.apply({
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "kube-dns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
            spec: {
                clusterIP: NETWORK.dnsServiceIp,
                ports: [
                    { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
                    { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
                ],
            },
        });
        await kube.apply({
            apiVersion: "discovery.k8s.io/v1",
            kind: "EndpointSlice",
            metadata: {
                name: "kube-dns-node",
                namespace: "kube-system",
                labels: {
                    "kubernetes.io/service-name": "kube-dns",
                    "endpointslice.kubernetes.io/managed-by": "lakehouse-suite",
                },
            },
            addressType: "IPv4",
            endpoints: [{ addresses: [NETWORK.nodeIp], conditions: { ready: true }, nodeName: NODE_NAME }],
            ports: [
                { name: "dns", port: 53, protocol: "UDP" },
                { name: "dns-tcp", port: 53, protocol: "TCP" },
            ],
        });
        const coredns = this.procs.start("coredns", path.join(this.o.bin, "coredns"), [
            "-conf",
            this.file("Corefile", corefile(this.o.clusterDomain, this.kubeconfig("coredns"))),
        ]);
        await this.procs.waitForPort("coredns", coredns, NETWORK.nodeIp, 53, 30_000);
        // kube-router: NetworkPolicies, as written, in iptables and ipsets.
        this.procs.start(
            "kube-router",
            path.join(this.o.bin, "kube-router"),
            kubeRouterArgs(this.kubeconfig("kube-router")),
            {
                env: { ...process.env, NODE_NAME },
            },
        );
    }

    /**
     * Volumes: local-path-provisioner (what kind ships), its class the cluster's default. A claim
     * becomes a folder of the node's (under the run's own), made by a helper pod with mode 0777, as
     * its upstream setup script makes it.
     */
    private async storage(kube: Kube): Promise<void> {
        const ns = "local-path-storage";
        const root = path.join(this.o.dir, "local-path");
        fs.mkdirSync(root, { recursive: true });
        const busybox = `${REGISTRY_ADDRESS}/library/busybox:1.37.0-musl`;
        const config = this.file(
            "local-path/config.json",
            JSON.stringify({ nodePathMap: [{ node: "DEFAULT_PATH_FOR_NON_LISTED_NODES", paths: [root] }] }),
        );
        const helper = {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "helper-pod" },
            spec: { containers: [{ name: "helper-pod", image: busybox, imagePullPolicy: "IfNotPresent" }] },
        };
        const helperFile = this.file("local-path/helperPod.yaml", JSON.stringify(helper));
        await kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
        await kube.apply({
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name: "local-path-provisioner-service-account", namespace: ns },
        });
        await kube.apply({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "local-path-config", namespace: ns },
            data: {
                "config.json": fs.readFileSync(config, "utf8"),
                setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
                teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
                "helperPod.yaml": fs.readFileSync(helperFile, "utf8"),
            },
        });
        await kube.apply({
            apiVersion: "storage.k8s.io/v1",
            kind: "StorageClass",
            metadata: { name: "local-path", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
            provisioner: "rancher.io/local-path",
            volumeBindingMode: "WaitForFirstConsumer",
            reclaimPolicy: "Delete",
        });
        this.procs.start("local-path-provisioner", path.join(this.o.bin, "local-path-provisioner"), [
            "--debug",
            "start",
            `--config=${config}`,
            `--kubeconfig=${this.kubeconfig("local-path-provisioner")}`,
            `--namespace=${ns}`,
            "--service-account-name=local-path-provisioner-service-account",
            "--configmap-name=local-path-config",
            `--helper-image=${busybox}`,
            `--helper-pod-file=${helperFile}`,
            "--provisioner-name=rancher.io/local-path",
        ]);
    }

    /** Everything, in order; the node Ready, CoreDNS answering, the webhook registered. */
    async start(kube: Kube): Promise<number> {
        const started = Date.now();
        fs.mkdirSync(this.o.dir, { recursive: true });
        await this.mounts();
        await this.registry();
        await this.containerd();
        await this.kubelet(kube);
        await this.services(kube);
        await this.storage(kube);
        this.webhook = new AdmissionWebhook(
            this.o.pki,
            this.o.images.flatMap((i) => i.spec.refs),
            this.o.say,
        );
        await this.webhook.start(kube);
        this.keepPodLogs();
        return (Date.now() - started) / 1000;
    }

    /**
     * Every container's log, kept after its pod is gone (`pod-logs-kept/`): the kubelet deletes a
     * deleted pod's logs, and a fault's cause is often in the log of the pod the recovery replaced.
     * Hard links, every 2 s: the kubelet appends to the same file, so the link sees every line.
     */
    private keepPodLogs(): void {
        const from = path.join(this.o.dir, "pod-logs");
        const to = path.join(this.o.dir, "pod-logs-kept");
        const link = (dir: string) => {
            for (const e of fs.readdirSync(path.join(from, dir), { withFileTypes: true })) {
                const rel = path.join(dir, e.name);
                if (e.isDirectory()) {
                    fs.mkdirSync(path.join(to, rel), { recursive: true });
                    link(rel);
                } else if (e.isFile() && !fs.existsSync(path.join(to, rel)))
                    fs.linkSync(path.join(from, rel), path.join(to, rel));
            }
        };
        this.keeper = setInterval(() => {
            try {
                link("");
            } catch {
                // A pod's folder went while it was read: the next pass sees the rest.
            }
        }, 2000);
        this.keeper.unref();
    }

    /**
     * Resident memory (MiB, VmRSS) of the node's own processes: those it started (the registry,
     * containerd, the kubelet, kube-proxy, CoreDNS, kube-router, the volume provisioner) and the
     * containerd shims the pods run under. The pods' own memory is their cgroup's (kubepods).
     */
    residentMib(): number {
        const rss = (pid: number) => {
            try {
                return Number(/^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
            } catch {
                return 0; // gone meanwhile
            }
        };
        const shims = fs
            .readdirSync("/proc")
            .filter((p) => /^\d+$/.test(p))
            .filter((p) => {
                try {
                    return fs.readFileSync(`/proc/${p}/comm`, "utf8").startsWith("containerd-shim");
                } catch {
                    return false;
                }
            })
            .map(Number);
        const kb = [...this.procs.running().map((p) => p.pid), ...shims].reduce((sum, pid) => sum + rss(pid), 0);
        return Math.round(kb / 1024);
    }

    /** Pods the webhook sent to the kwok node, for the report. */
    simulated(): string[] {
        return this.webhook?.sentToKwok ?? [];
    }

    logOf(component: string): string {
        return this.procs.logOf(component);
    }

    /** Stops the node's processes (the kubelet first, so that it starts nothing more); the PID namespace ends whatever is left. */
    async stop(): Promise<void> {
        clearInterval(this.keeper);
        await this.webhook?.stop();
        for (const name of ["local-path-provisioner", "kube-router", "coredns", "kube-proxy", "kubelet"])
            await this.procs.stop(name);
        await this.procs.stopAll();
    }
}
