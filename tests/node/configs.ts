// The real node's configuration files, as a node of this kind is configured (containerd's CRI,
// the CNI bridge, the kubelet, kube-proxy, CoreDNS, kube-router's firewall, the registry): pure
// functions of the node's folder and the cluster's settings, so a test reads what the node runs.
import { dump } from "js-yaml";
import { stringify } from "smol-toml";
import { NETWORK } from "./namespace";

/** The node's name, and the label the suite's admission webhook keeps pods apart with. */
export const NODE_NAME = "lakehouse-node";
export const NODE_LABEL = { key: "lakehouse.test/node", real: "real", simulated: "kwok" } as const;

/** The registry inside the namespace: loopback, plain HTTP (containerd speaks HTTP to a loopback registry). */
export const REGISTRY = { host: "127.0.10.20", port: 5000 } as const;
export const REGISTRY_ADDRESS = `${REGISTRY.host}:${REGISTRY.port}`;

/** The sandbox image every pod starts with; built here (tests/node/images), served by the registry. */
export const PAUSE_IMAGE = `${REGISTRY_ADDRESS}/pause:3.10.1`;

export interface NodeDirs {
    /** The node's folder in the run: everything the node writes lives below. */
    root: string;
    containerdRoot: string;
    containerdState: string;
    socket: string;
    runcRoot: string;
    certsD: string;
    cniConf: string;
    cniState: string;
    kubeletRoot: string;
}

export function nodeDirs(root: string): NodeDirs {
    return {
        root,
        containerdRoot: `${root}/containerd/root`,
        containerdState: `${root}/containerd/state`,
        socket: `${root}/containerd/containerd.sock`,
        runcRoot: `${root}/containerd/runc`,
        certsD: `${root}/containerd/certs.d`,
        cniConf: `${root}/cni/net.d`,
        cniState: `${root}/cni/state`,
        kubeletRoot: `${root}/kubelet`,
    };
}

/**
 * containerd's configuration: its own root, state and socket; the CRI plugin with runc (cgroupfs:
 * no systemd here), the pause image from the registry, the CNI plugins Debian ships, and the
 * registry's hosts. `restrict_oom_score_adj`: without cap_sys_resource a sandbox asking for
 * oom_score_adj -998 fails in runc (../shared/real-node.md).
 */
export function containerdConfig(d: NodeDirs): string {
    return stringify({
        version: 2,
        root: d.containerdRoot,
        state: d.containerdState,
        grpc: { address: d.socket },
        plugins: {
            "io.containerd.grpc.v1.cri": {
                sandbox_image: PAUSE_IMAGE,
                // The pods' network namespaces as files in the run's folder, not the machine's /run/netns.
                netns_mounts_under_state_dir: true,
                restrict_oom_score_adj: true,
                // As containerd 2 does by default: a pod binds ports below 1024 without a capability
                // (net.ipv4.ip_unprivileged_port_start=0 in its network namespace); Dagster's webserver listens on 80.
                enable_unprivileged_ports: true,
                enable_unprivileged_icmp: true,
                containerd: {
                    snapshotter: "overlayfs",
                    default_runtime_name: "runc",
                    runtimes: {
                        runc: {
                            runtime_type: "io.containerd.runc.v2",
                            options: { SystemdCgroup: false, Root: d.runcRoot },
                        },
                    },
                },
                cni: { bin_dir: "/usr/lib/cni", conf_dir: d.cniConf, max_conf_num: 1 },
                registry: { config_path: d.certsD },
            },
            "io.containerd.internal.v1.opt": { path: `${d.root}/containerd/opt` },
        },
    });
}

/** The registry's hosts.toml: plain HTTP, pull and resolve. */
export function registryHosts(): string {
    return stringify({
        server: `http://${REGISTRY_ADDRESS}`,
        host: { [`http://${REGISTRY_ADDRESS}`]: { capabilities: ["pull", "resolve"] } },
    });
}

/** The pods' network: one bridge (the node's gateway), addresses from host-local, hostPort through portmap. */
export function cniConfig(d: NodeDirs): string {
    return JSON.stringify(
        {
            cniVersion: "1.0.0",
            name: "lakehouse-pods",
            plugins: [
                {
                    type: "bridge",
                    bridge: NETWORK.bridge,
                    isGateway: true,
                    ipMasq: false,
                    hairpinMode: true,
                    ipam: {
                        type: "host-local",
                        dataDir: d.cniState,
                        ranges: [[{ subnet: NETWORK.podCidr }]],
                        routes: [{ dst: "0.0.0.0/0" }],
                    },
                },
                { type: "portmap", capabilities: { portMappings: true } },
            ],
        },
        null,
        2,
    );
}

export interface KubeletFiles {
    kubeconfig: string;
    clientCa: string;
    tlsCert: string;
    tlsKey: string;
    resolvConf: string;
}

/**
 * The kubelet's configuration: cgroupfs, no swap check (the machine has none), the cluster's DNS
 * (the kube-dns Service, kube-proxy routes it to CoreDNS on the node) and domain, client
 * certificates verified against the cluster's CA and every request authorized by the API server.
 * `protectKernelDefaults`: the kubelet only checks the kernel tunables it wants and never writes
 * them (they are the machine's, not the run's; tests/node/index.ts shows it the values in the
 * suite's mount namespace). Evictions and image garbage collection are off: the machine's disk is
 * shared with other work, and nothing could pull an image back from outside.
 */
export function kubeletConfig(d: NodeDirs, f: KubeletFiles, clusterDomain: string): string {
    return dump({
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        address: NETWORK.nodeIp,
        port: 10250,
        readOnlyPort: 0,
        healthzBindAddress: "127.0.0.1",
        healthzPort: 10248,
        containerRuntimeEndpoint: `unix://${d.socket}`,
        cgroupDriver: "cgroupfs",
        failSwapOn: false,
        protectKernelDefaults: true,
        clusterDNS: [NETWORK.dnsServiceIp],
        clusterDomain,
        resolvConf: f.resolvConf,
        authentication: {
            anonymous: { enabled: false },
            webhook: { enabled: true },
            x509: { clientCAFile: f.clientCa },
        },
        authorization: { mode: "Webhook" },
        tlsCertFile: f.tlsCert,
        tlsPrivateKeyFile: f.tlsKey,
        rotateCertificates: false,
        serverTLSBootstrap: false,
        registerNode: true,
        evictionHard: {
            "memory.available": "50Mi",
            "nodefs.available": "0%",
            "imagefs.available": "0%",
            "nodefs.inodesFree": "0%",
        },
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
        serializeImagePulls: false,
        maxParallelImagePulls: 4,
        maxPods: 110,
        podLogsDir: `${d.root}/pod-logs`,
        // The logs of the Job pods the suite reads stay as long as the run.
        containerLogMaxFiles: 2,
        containerLogMaxSize: "10Mi",
    });
}

/** kube-proxy in iptables mode, touching no sysctl the network namespace does not own. */
export function kubeProxyConfig(kubeconfig: string): string {
    return dump({
        apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
        kind: "KubeProxyConfiguration",
        clientConnection: { kubeconfig },
        mode: "iptables",
        hostnameOverride: NODE_NAME,
        bindAddress: NETWORK.nodeIp,
        clusterCIDR: NETWORK.podCidr,
        detectLocalMode: "ClusterCIDR",
        healthzBindAddress: "127.0.0.1:10256",
        metricsBindAddress: "127.0.0.1:10249",
        nodePortAddresses: ["primary"],
        // nf_conntrack_max is the machine's; the timeouts are left as they are.
        conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
        iptables: { localhostNodePorts: false, masqueradeAll: false },
    });
}

/**
 * CoreDNS for the cluster's one domain (and reverse lookups): names of the domain from the API
 * server, nothing else (a name outside it is refused: no upstream is reachable, and a short name
 * that the search list does not complete fails, as it does on any cluster).
 */
export function corefile(clusterDomain: string, kubeconfig: string): string {
    return [
        `${clusterDomain}:53 in-addr.arpa:53 {`,
        `    bind ${NETWORK.nodeIp}`,
        "    errors",
        `    kubernetes ${clusterDomain} in-addr.arpa {`,
        `        kubeconfig ${kubeconfig}`,
        "        pods insecure",
        "        ttl 5",
        "    }",
        "    cache 5",
        "}",
        "",
    ].join("\n");
}

/** kube-router's arguments: its NetworkPolicy firewall only (no routing, no service proxy, no listening ports). */
export function kubeRouterArgs(kubeconfig: string): string[] {
    return [
        `--kubeconfig=${kubeconfig}`,
        `--hostname-override=${NODE_NAME}`,
        "--run-firewall=true",
        "--run-router=false",
        "--run-service-proxy=false",
        `--service-cluster-ip-range=${NETWORK.serviceCidr}`,
        "--health-port=0",
        "--metrics-port=0",
        "--iptables-sync-period=1m",
        "--v=1",
    ];
}

/** The registry (distribution) on loopback, its storage a folder that outlives runs (the image cache). */
export function registryConfig(storage: string): string {
    return dump({
        version: 0.1,
        log: { level: "warn", accesslog: { disabled: true } },
        storage: { filesystem: { rootdirectory: storage }, delete: { enabled: false } },
        http: { addr: REGISTRY_ADDRESS, headers: { "X-Content-Type-Options": ["nosniff"] } },
    });
}
