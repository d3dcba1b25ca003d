// A Kubernetes control plane on loopback, the real binaries: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler, with kwok standing in for the kubelet of one node
// (pods become Ready and Job pods Succeed without a container running; PVCs bind). Every server
// has a loopback address of its own. Certificates are made with openssl on first start and kept in
// the state folder, so a stopped cluster starts again with its data (etcd's folder) and the same
// kubeconfig: `start` after `stop` is an API server restart, not a new cluster.
import * as fs from "fs";
import * as path from "path";
import { dump, load } from "js-yaml";
import { must, Processes, sleep, stopGroups } from "../e2e/procs";
import { Kube, KubeObject } from "./kube";

/** Loopback addresses of the servers (127.0.10.0/24 is the suite's; the end-to-end suite uses others). */
export const ADDRESSES = {
    etcd: "127.0.10.1",
    apiserver: "127.0.10.2",
    controllerManager: "127.0.10.3",
    scheduler: "127.0.10.4",
    kwok: "127.0.10.5",
} as const;
const API_PORT = 6443;
const SERVICE_CIDR = "10.96.0.0/16";
export const NODE_NAME = "kwok-node-0";
/** The contexts of the shipped stacks (their `kubeContext`), all naming this cluster, plus its own. */
export const CONTEXTS = ["lakehouse-local", "kind-lakehouse", "lakehouse-nonprod", "lakehouse-prod"];

/**
 * Beside a real node (tests/node): the API server listens on the node's address too and publishes
 * it as the `kubernetes` Service's endpoint (pods reach it there), reaches kubelets by their
 * InternalIP with a client certificate of its own, and calls the suite's admission webhook; kwok
 * plays only the nodes annotated as its own (the one Airbyte's images run on).
 */
export interface RealNodeSettings {
    nodeIp: string;
    /** Certificates the node's parts need (the kubelet's, kube-proxy's, ...), made with the cluster's CA. */
    certs: Cert[];
}

export interface ControlPlaneOptions {
    /** When set, a real node joins this control plane (tests/node); kwok plays only its own node. */
    realNode?: RealNodeSettings;
    /** Where the binaries are (`etcd`, `kube-apiserver`, ..., `kwok`) and kwok's stages. */
    bin: string;
    stages: string;
    /** The cluster's own folder: certificates, kubeconfigs, etcd's data, logs. */
    state: string;
    say: (line: string) => void;
}

/** The files a client of the cluster uses. */
export interface ClusterFiles {
    /** kubeconfig of the admin (system:masters), one context per entry of CONTEXTS. */
    kubeconfig: string;
    server: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
    await must("openssl", args, { cwd });
}

export interface Cert {
    name: string;
    cn: string;
    org?: string;
    /** Subject alternative names (serving certificates). */
    san?: string[];
    ca: "ca" | "front-proxy-ca";
}

const CERTS: Cert[] = [
    {
        name: "apiserver",
        cn: "kube-apiserver",
        san: [
            `IP:${ADDRESSES.apiserver}`,
            "IP:127.0.0.1",
            "IP:10.96.0.1",
            "DNS:localhost",
            "DNS:kubernetes",
            "DNS:kubernetes.default",
            "DNS:kubernetes.default.svc",
            "DNS:kubernetes.default.svc.cluster.local",
        ],
        ca: "ca",
    },
    { name: "apiserver-etcd-client", cn: "kube-apiserver-etcd-client", ca: "ca" },
    { name: "etcd-server", cn: "etcd", san: [`IP:${ADDRESSES.etcd}`, "DNS:localhost"], ca: "ca" },
    { name: "admin", cn: "lakehouse-admin", org: "system:masters", ca: "ca" },
    { name: "controller-manager", cn: "system:kube-controller-manager", ca: "ca" },
    { name: "scheduler", cn: "system:kube-scheduler", ca: "ca" },
    // kwok plays every node's kubelet and the volume provisioner: it needs to write what both write.
    { name: "kwok", cn: "kwok", org: "system:masters", ca: "ca" },
    { name: "front-proxy-client", cn: "front-proxy-client", ca: "front-proxy-ca" },
];

/** A CA, the serving and client certificates, and the service-account key pair: each made once per state folder. */
export async function makePki(dir: string, certs: Cert[] = CERTS): Promise<void> {
    fs.mkdirSync(dir, { recursive: true });
    const has = (f: string) => fs.existsSync(path.join(dir, f));
    for (const ca of ["ca", "front-proxy-ca"]) {
        if (has(`${ca}.crt`)) continue;
        await openssl(["genrsa", "-out", `${ca}.key`, "2048"], dir);
        await openssl(
            ["req", "-x509", "-new", "-key", `${ca}.key`, "-subj", `/CN=${ca}`, "-days", "3650", "-out", `${ca}.crt`],
            dir,
        );
    }
    for (const c of certs) {
        if (has(`${c.name}.crt`)) continue;
        await openssl(["genrsa", "-out", `${c.name}.key`, "2048"], dir);
        const subject = `/CN=${c.cn}${c.org ? `/O=${c.org}` : ""}`;
        await openssl(["req", "-new", "-key", `${c.name}.key`, "-subj", subject, "-out", `${c.name}.csr`], dir);
        const ext = [
            "basicConstraints=CA:FALSE",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            `extendedKeyUsage=${c.san ? "serverAuth,clientAuth" : "clientAuth"}`,
            ...(c.san ? [`subjectAltName=${c.san.join(",")}`] : []),
        ].join("\n");
        fs.writeFileSync(path.join(dir, `${c.name}.ext`), ext + "\n");
        await openssl(
            [
                "x509",
                "-req",
                "-in",
                `${c.name}.csr`,
                "-CA",
                `${c.ca}.crt`,
                "-CAkey",
                `${c.ca}.key`,
                "-CAcreateserial",
                "-days",
                "3650",
                "-extfile",
                `${c.name}.ext`,
                "-out",
                `${c.name}.crt`,
            ],
            dir,
        );
    }
    if (!has("sa.key")) {
        await openssl(["genrsa", "-out", "sa.key", "2048"], dir);
        await openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
    }
}

/** A kubeconfig with the certificates embedded, one context per name, all on this cluster and user. */
export function kubeconfigOf(pki: string, user: string, contexts: string[]): string {
    const b64 = (f: string) => fs.readFileSync(path.join(pki, f)).toString("base64");
    return dump({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            {
                name: "lakehouse-local",
                cluster: {
                    server: `https://${ADDRESSES.apiserver}:${API_PORT}`,
                    "certificate-authority-data": b64("ca.crt"),
                },
            },
        ],
        users: [
            {
                name: user,
                user: { "client-certificate-data": b64(`${user}.crt`), "client-key-data": b64(`${user}.key`) },
            },
        ],
        contexts: contexts.map((name) => ({ name, context: { cluster: "lakehouse-local", user } })),
        "current-context": contexts[0],
    });
}

/** kwok's configuration: every option set (v0.8.0 defaults none read from --config) and the stages. */
function kwokConfig(stagesDir: string, extraStages: string, onlyItsOwnNodes: boolean): string {
    const options = {
        apiVersion: "config.kwok.x-k8s.io/v1alpha1",
        kind: "KwokConfiguration",
        options: {
            cidr: "10.0.0.1/16",
            nodeIP: ADDRESSES.kwok,
            manageAllNodes: !onlyItsOwnNodes,
            ...(onlyItsOwnNodes ? { manageNodesWithAnnotationSelector: "kwok.x-k8s.io/node=fake" } : {}),
            serverAddress: `${ADDRESSES.kwok}:10247`,
            enableDebuggingHandlers: false,
            enableContentionProfiling: false,
            enableProfilingHandler: false,
            podPlayStageParallelism: 8,
            nodePlayStageParallelism: 4,
            nodeLeaseDurationSeconds: 40,
            nodeLeaseParallelism: 4,
            podsOnNodeSyncParallelism: 2,
            enablePodsOnNodeSyncListPager: true,
            enablePodsOnNodeSyncStreamWatch: false,
        },
    };
    const stages = [
        "node/fast/node-initialize.yaml",
        "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
        "pod/fast/pod-ready.yaml",
        "pod/fast/pod-complete.yaml",
        "pod/fast/pod-delete.yaml",
        "volume/fast/pv-bind.yaml",
        "volume/fast/pv-delete.yaml",
        "volume/fast/pvc-provision.yaml",
        "volume/fast/pvc-delete.yaml",
    ].map((f) => fs.readFileSync(path.join(stagesDir, f), "utf8").trim());
    return [dump(options).trim(), ...stages, extraStages.trim()].join("\n---\n") + "\n";
}

/**
 * kwok completes only the pods Jobs own. A bare pod that runs to completion (restartPolicy Never,
 * no owner: Airbyte's Helm hook bootloader) would stay Running forever and its release would wait
 * for its timeout; here it Succeeds like a Job's pod. (A substitution the report names.)
 */
const BARE_POD_COMPLETE = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: bare-pod-complete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Running'
    - key: '.spec.restartPolicy'
      operator: 'In'
      values:
      - 'Never'
    - key: '.metadata.ownerReferences'
      operator: 'DoesNotExist'
  next:
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Succeeded
`;

/**
 * The one node kwok plays: room for prod's requests (4 Trino workers of 16Gi, ...). Beside a real
 * node it is tainted: only the pods the suite's admission webhook sends there (those whose
 * software exists only as images) tolerate it.
 */
export const SIMULATED_TAINT = { key: "lakehouse.test/simulated", value: "true", effect: "NoSchedule" } as const;

function nodeObject(besideRealNode: boolean): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
            name: NODE_NAME,
            labels: {
                "kubernetes.io/hostname": NODE_NAME,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                type: "kwok",
                "lakehouse.test/node": "kwok",
            },
            annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
        },
        spec: besideRealNode ? { taints: [SIMULATED_TAINT] } : {},
        status: {
            allocatable: { cpu: "512", memory: "4Ti", pods: "1000", "ephemeral-storage": "10Ti" },
            capacity: { cpu: "512", memory: "4Ti", pods: "1000", "ephemeral-storage": "10Ti" },
            nodeInfo: {
                architecture: "amd64",
                operatingSystem: "linux",
                kubeletVersion: "fake",
                kubeProxyVersion: "fake",
            },
        },
    };
}

/** The default StorageClass, served by kwok's volume stages (it binds claims of this class only). */
function storageClass(stagesDir: string): KubeObject {
    const sc = fs.readFileSync(path.join(stagesDir, "volume/fast/storage-class.yaml"), "utf8");
    const obj = load(sc) as KubeObject;
    return { ...obj, apiVersion: "storage.k8s.io/v1", kind: "StorageClass" };
}

export class ControlPlane {
    readonly files: ClusterFiles;
    private readonly procs: Processes;
    readonly pki: string;

    constructor(private readonly opts: ControlPlaneOptions) {
        this.pki = path.join(opts.state, "pki");
        this.procs = new Processes(path.join(opts.state, "logs"));
        this.files = {
            kubeconfig: path.join(opts.state, "admin.kubeconfig"),
            server: `https://${ADDRESSES.apiserver}:${API_PORT}`,
        };
    }

    private bin(name: string): string {
        return path.join(this.opts.bin, name);
    }

    /** Certificates and kubeconfigs (first start only). */
    async prepare(): Promise<void> {
        const real = this.opts.realNode;
        await makePki(
            this.pki,
            real
                ? [
                      ...CERTS.map((c) =>
                          c.name === "apiserver" ? { ...c, san: [...c.san!, `IP:${real.nodeIp}`] } : c,
                      ),
                      // The API server's identity towards kubelets (logs, exec, port-forward).
                      {
                          name: "apiserver-kubelet-client",
                          cn: "kube-apiserver-kubelet-client",
                          org: "system:masters",
                          ca: "ca",
                      },
                      ...real.certs,
                  ]
                : CERTS,
        );
        fs.writeFileSync(this.files.kubeconfig, kubeconfigOf(this.pki, "admin", CONTEXTS), { mode: 0o600 });
        for (const user of ["controller-manager", "scheduler", "kwok"])
            fs.writeFileSync(path.join(this.opts.state, `${user}.kubeconfig`), kubeconfigOf(this.pki, user, [user]), {
                mode: 0o600,
            });
        fs.writeFileSync(
            path.join(this.opts.state, "kwok.yaml"),
            kwokConfig(this.opts.stages, BARE_POD_COMPLETE, this.opts.realNode !== undefined),
        );
    }

    /** Starts every server and waits for the node to be Ready and the default StorageClass to exist. */
    async start(): Promise<number> {
        const started = Date.now();
        await this.prepare();
        await this.startEtcd();
        await this.startApiServer();
        this.startControllers();
        await this.startKwok();
        const kube = new Kube(this.files.kubeconfig);
        try {
            const sc = storageClass(this.opts.stages);
            // Beside a real node, its own provisioner's class is the default (kwok's binds no real volume).
            if (this.opts.realNode) delete sc.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"];
            await kube.apply(sc);
            await this.applyNode(kube);
            await this.waitReady(kube);
        } finally {
            kube.close();
        }
        return (Date.now() - started) / 1000;
    }

    private pkiFile(f: string): string {
        return path.join(this.pki, f);
    }

    async startEtcd(): Promise<void> {
        const a = ADDRESSES.etcd;
        const data = path.join(this.opts.state, "etcd");
        const child = this.procs.start("etcd", this.bin("etcd"), [
            "--name=lakehouse-local",
            `--data-dir=${data}`,
            `--listen-client-urls=https://${a}:2379`,
            `--advertise-client-urls=https://${a}:2379`,
            `--listen-peer-urls=http://${a}:2380`,
            `--initial-advertise-peer-urls=http://${a}:2380`,
            `--initial-cluster=lakehouse-local=http://${a}:2380`,
            `--listen-metrics-urls=http://${a}:2381`,
            `--cert-file=${this.pkiFile("etcd-server.crt")}`,
            `--key-file=${this.pkiFile("etcd-server.key")}`,
            `--trusted-ca-file=${this.pkiFile("ca.crt")}`,
            "--client-cert-auth",
            "--quota-backend-bytes=2147483648",
            "--log-level=warn",
        ]);
        await this.procs.waitForPort("etcd", child, a, 2379, 60_000);
    }

    async startApiServer(): Promise<void> {
        const p = (f: string) => this.pkiFile(f);
        const child = this.procs.start("kube-apiserver", this.bin("kube-apiserver"), [
            ...this.apiServerAddressing(),
            `--secure-port=${API_PORT}`,
            `--etcd-servers=https://${ADDRESSES.etcd}:2379`,
            `--etcd-cafile=${p("ca.crt")}`,
            `--etcd-certfile=${p("apiserver-etcd-client.crt")}`,
            `--etcd-keyfile=${p("apiserver-etcd-client.key")}`,
            `--tls-cert-file=${p("apiserver.crt")}`,
            `--tls-private-key-file=${p("apiserver.key")}`,
            `--client-ca-file=${p("ca.crt")}`,
            `--service-account-key-file=${p("sa.pub")}`,
            `--service-account-signing-key-file=${p("sa.key")}`,
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-cluster-ip-range=${SERVICE_CIDR}`,
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",
            `--requestheader-client-ca-file=${p("front-proxy-ca.crt")}`,
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-username-headers=X-Remote-User",
            `--proxy-client-cert-file=${p("front-proxy-client.crt")}`,
            `--proxy-client-key-file=${p("front-proxy-client.key")}`,
            "--enable-admission-plugins=NodeRestriction",
            "--profiling=false",
            "--v=1",
        ]);
        await this.procs.waitForPort("kube-apiserver", child, ADDRESSES.apiserver, API_PORT, 120_000);
        // Listening is not serving: wait until /readyz says every post-start hook ran.
        const kube = new Kube(this.files.kubeconfig);
        try {
            const deadline = Date.now() + 120_000;
            for (;;) {
                try {
                    await kube.request("GET", "/readyz");
                    break;
                } catch (e) {
                    if (Date.now() > deadline)
                        throw new Error(`kube-apiserver never became ready: ${String(e)}`, { cause: e });
                    await sleep(500);
                }
            }
        } finally {
            kube.close();
        }
    }

    /** Where the API server listens and what it publishes as the `kubernetes` Service's endpoint. */
    private apiServerAddressing(): string[] {
        const real = this.opts.realNode;
        if (!real)
            return [
                `--bind-address=${ADDRESSES.apiserver}`,
                `--advertise-address=${ADDRESSES.apiserver}`,
                // On loopback the apiserver cannot publish its own address as the kubernetes Service's endpoint.
                "--endpoint-reconciler-type=none",
            ];
        const p = (f: string) => this.pkiFile(f);
        return [
            // Inside the suite's network namespace: loopback for the suite and the CLI, the node's address for pods.
            "--bind-address=0.0.0.0",
            `--advertise-address=${real.nodeIp}`,
            "--kubelet-preferred-address-types=InternalIP",
            `--kubelet-client-certificate=${p("apiserver-kubelet-client.crt")}`,
            `--kubelet-client-key=${p("apiserver-kubelet-client.key")}`,
            `--kubelet-certificate-authority=${p("ca.crt")}`,
        ];
    }

    private startControllers(): void {
        const p = (f: string) => this.pkiFile(f);
        const kc = (u: string) => path.join(this.opts.state, `${u}.kubeconfig`);
        this.procs.start("kube-controller-manager", this.bin("kube-controller-manager"), [
            `--kubeconfig=${kc("controller-manager")}`,
            `--authentication-kubeconfig=${kc("controller-manager")}`,
            `--authorization-kubeconfig=${kc("controller-manager")}`,
            `--bind-address=${ADDRESSES.controllerManager}`,
            "--controllers=*",
            "--use-service-account-credentials=true",
            `--service-account-private-key-file=${p("sa.key")}`,
            `--root-ca-file=${p("ca.crt")}`,
            `--cluster-signing-cert-file=${p("ca.crt")}`,
            `--cluster-signing-key-file=${p("ca.key")}`,
            `--requestheader-client-ca-file=${p("front-proxy-ca.crt")}`,
            `--service-cluster-ip-range=${SERVICE_CIDR}`,
            "--leader-elect=false",
            "--profiling=false",
            "--v=1",
        ]);
        this.procs.start("kube-scheduler", this.bin("kube-scheduler"), [
            `--kubeconfig=${kc("scheduler")}`,
            `--authentication-kubeconfig=${kc("scheduler")}`,
            `--authorization-kubeconfig=${kc("scheduler")}`,
            `--bind-address=${ADDRESSES.scheduler}`,
            `--requestheader-client-ca-file=${p("front-proxy-ca.crt")}`,
            "--leader-elect=false",
            "--profiling=false",
            "--v=1",
        ]);
    }

    private async startKwok(): Promise<void> {
        this.procs.start("kwok", this.bin("kwok"), [
            `--kubeconfig=${path.join(this.opts.state, "kwok.kubeconfig")}`,
            `--config=${path.join(this.opts.state, "kwok.yaml")}`,
            `--manage-all-nodes=${this.opts.realNode === undefined}`,
            "--v=INFO",
        ]);
        await sleep(200);
    }

    private async applyNode(kube: Kube): Promise<void> {
        const node = nodeObject(this.opts.realNode !== undefined);
        if (!(await kube.get("Node", NODE_NAME))) {
            const { status, ...spec } = node;
            await kube.request("POST", Kube.path("Node"), spec);
            await kube.request(
                "PATCH",
                `${Kube.path("Node", undefined, NODE_NAME)}/status`,
                { status },
                "application/merge-patch+json",
            );
        }
    }

    private async waitReady(kube: Kube): Promise<void> {
        const deadline = Date.now() + 120_000;
        for (;;) {
            const node = await kube.get("Node", NODE_NAME);
            const conditions = ((node?.status as { conditions?: { type: string; status: string }[] })?.conditions ??
                []) as { type: string; status: string }[];
            const sa = await kube.get("ServiceAccount", "default", "default");
            if (conditions.some((c) => c.type === "Ready" && c.status === "True") && sa) return;
            if (Date.now() > deadline)
                throw new Error(
                    `node ${NODE_NAME} not Ready after 120 s (kwok log: ${this.procs.logOf("kwok")}; controller-manager: ${this.procs.logOf("kube-controller-manager")})`,
                );
            await sleep(300);
        }
    }

    /** Deals one server a signal and waits until it is gone (the fault runs kill the API server and etcd). */
    async killServer(name: "kube-apiserver" | "etcd", signal: NodeJS.Signals): Promise<void> {
        await this.procs.kill(name, signal);
    }

    async stop(): Promise<void> {
        await this.procs.stopAll();
    }

    /** Leaves the servers running after this process exits (`npm run up:local`); `stopDetached` ends them. */
    detach(): void {
        fs.writeFileSync(path.join(this.opts.state, "pids.json"), JSON.stringify(this.procs.detach()));
    }

    /** Whether a detached control plane of this state folder is running (its API server answers). */
    static async running(state: string): Promise<boolean> {
        const kubeconfig = path.join(state, "admin.kubeconfig");
        if (!fs.existsSync(path.join(state, "pids.json")) || !fs.existsSync(kubeconfig)) return false;
        const kube = new Kube(kubeconfig);
        try {
            await kube.request("GET", "/readyz");
            return true;
        } catch {
            return false;
        } finally {
            kube.close();
        }
    }

    /** Stops the servers a detached control plane left running. */
    static async stopDetached(state: string): Promise<void> {
        const file = path.join(state, "pids.json");
        if (!fs.existsSync(file)) return;
        const pids = Object.values(JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, number>);
        await stopGroups(pids);
        fs.rmSync(file);
    }
}
