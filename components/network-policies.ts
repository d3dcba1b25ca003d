// NetworkPolicies generated from the wiring, the platform's call graph: every platform namespace
// denies ingress except from its own pods, and admits exactly the namespaces and ports the wiring
// says reach it. A new component or edge changes the wiring, and the policies with it.
//
// Egress is restricted where everything a component reaches is known: the wiring, DNS, and a few
// outside ports it needs by design (the Kubernetes API for Garage's discovery, HTTPS for the
// metastore's driver download). Airbyte's connectors and Dagster's runs reach sources the platform
// cannot know, so their egress stays open.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PLATFORM_SERVICES, PlatformService, ServiceId, WiringEdge } from "./addresses";
import { ComponentName } from "./config";
import { childOptions } from "./k8s";
import { platformLabels } from "./labels";

import Input = k8s.types.input.networking.v1;

/** The label every namespace carries (Kubernetes sets it), so a policy can select a namespace by name. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
export const ADMITS_LABEL = "lakehouse-platform/admits";

export interface OutsidePort {
    port: number;
    protocol: "TCP" | "UDP";
    /** Why the component needs it. */
    why: string;
}

/** What a component's pods reach outside the platform: open ports to anywhere, or no restriction. */
export type OutsideEgress = OutsidePort[] | "unrestricted";

const DNS: OutsidePort[] = [
    { port: 53, protocol: "UDP", why: "DNS" },
    { port: 53, protocol: "TCP", why: "DNS" },
];
const KUBERNETES_API: OutsidePort[] = [
    // The API's Service port, and the port most API servers listen on behind it (policies see the latter).
    { port: 443, protocol: "TCP", why: "Kubernetes API" },
    { port: 6443, protocol: "TCP", why: "Kubernetes API" },
];

/**
 * The port the metastore's init container downloads the JDBC driver from: the URL's, or its
 * scheme's (an artifact mirror on plain HTTP inside the cluster is as likely as Maven Central).
 */
export function driverDownloadPort(url: string): OutsidePort {
    const u = new URL(url);
    const port = u.port !== "" ? Number(u.port) : u.protocol === "http:" ? 80 : 443;
    return { port, protocol: "TCP", why: "JDBC driver download (hiveMetastoreJdbcDriverUrl)" };
}

/** Each component's egress beyond the wiring and DNS; `jdbcDriverUrl` empty when the image holds the driver. */
export function outsideEgress(component: ComponentName, opts: { jdbcDriverUrl: string }): OutsideEgress {
    switch (component) {
        case "garage":
            return KUBERNETES_API; // node discovery through its CRD
        case "database":
            return opts.jdbcDriverUrl !== "" ? [driverDownloadPort(opts.jdbcDriverUrl)] : [];
        case "trino":
            return [];
        case "airbyte":
        case "dagster":
            return "unrestricted";
    }
}

export interface NetworkPoliciesArgs {
    environment: string;
    /** Namespace of every component, deployed by this stack or not. */
    namespaces: Record<ComponentName, string>;
    /** Components this stack deploys: each of their namespaces gets its baseline policy. */
    components: ComponentName[];
    /** The connections this stack's components make. */
    wiring: WiringEdge[];
    /** Egress of each deployed component beyond the wiring and DNS. */
    egress: Partial<Record<ComponentName, OutsideEgress>>;
    /** Namespaces admitted to the user-facing services (an ingress controller's). */
    clientNamespaces: string[];
    /** The services that answer clients on their TLS port (Trino with `trinoAuthentication`): clients are admitted there. */
    tls?: ServiceId[];
    /** The services clients reach through their login (Dagster's webserver with `dagsterLogin`): clients are admitted to the proxy's port, not the service's. */
    login?: ServiceId[];
}

function inNamespace(namespace: string): Input.NetworkPolicyPeer {
    return { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } } };
}

function tcp(ports: number[]): Input.NetworkPolicyPort[] {
    return [...new Set(ports)].sort((a, b) => a - b).map((port) => ({ protocol: "TCP", port }));
}

/** Edges grouped by the pair of components they join: one rule per pair admits all its ports. */
export function edgesByPair(
    wiring: WiringEdge[],
): Map<string, { from: ComponentName; to: ComponentName; ports: number[] }> {
    const pairs = new Map<string, { from: ComponentName; to: ComponentName; ports: number[] }>();
    for (const e of wiring) {
        const key = `${e.from}→${e.to}`;
        const pair = pairs.get(key) ?? { from: e.from, to: e.to, ports: [] };
        pair.ports.push(e.port);
        pairs.set(key, pair);
    }
    return pairs;
}

/**
 * The platform's NetworkPolicies. Who owns what, so split stacks work too: the stack that deploys a
 * namespace owns its baseline; the stack that makes a connection owns the rules admitting it, in the
 * target's namespace (ingress) and its own (egress).
 */
export class NetworkPolicies extends pulumi.ComponentResource {
    public readonly policies: k8s.networking.v1.NetworkPolicy[] = [];

    constructor(
        private readonly name: string,
        private readonly args: NetworkPoliciesArgs,
        private readonly opts?: pulumi.ComponentResourceOptions,
    ) {
        super("lakehouse:platform:NetworkPolicies", name, {}, opts);
        this.baselines();
        this.edgeRules();
        this.clientRules();
        this.registerOutputs({});
    }

    private add(
        resourceName: string,
        component: ComponentName,
        policyName: string,
        spec: Input.NetworkPolicySpec,
        extraLabels: Record<string, string> = {},
    ): void {
        this.policies.push(
            // Named after this component (`network-policies-trino-from-dagster`), aliased to the name stacks were deployed with.
            new k8s.networking.v1.NetworkPolicy(
                `${this.name}-${resourceName}`,
                {
                    metadata: {
                        name: policyName,
                        namespace: this.args.namespaces[component],
                        labels: { ...platformLabels(component, this.args.environment), ...extraLabels },
                    },
                    spec,
                },
                childOptions(this, this.opts, { aliases: [{ name: resourceName }] }),
            ),
        );
    }

    /** Each namespace's own: its pods reach each other; egress, when restricted, only to DNS and what it needs outside. */
    private baselines(): void {
        for (const component of this.args.components) {
            const egress = this.args.egress[component] ?? "unrestricted";
            const outside = egress === "unrestricted" ? [] : [...DNS, ...egress];
            this.add(`${component}-baseline`, component, "lakehouse-baseline", {
                podSelector: {},
                policyTypes: egress === "unrestricted" ? ["Ingress"] : ["Ingress", "Egress"],
                // Its own pods reach each other (charts' internal traffic: Trino workers, Airbyte's services, Garage's RPC).
                ingress: [{ from: [{ podSelector: {} }] }],
                ...(egress === "unrestricted"
                    ? {}
                    : {
                          egress: [
                              { to: [{ podSelector: {} }] },
                              // Outside ports to any address: DNS (kube-dns or a node-local cache) and what the component needs by design.
                              { ports: portsOf(outside) },
                          ],
                      }),
            });
        }
    }

    /** One rule per wired pair: ingress in the target's namespace, and egress in the source's when it is restricted. */
    private edgeRules(): void {
        const args = this.args;
        const restricted = (c: ComponentName) =>
            args.components.includes(c) && args.egress[c] !== undefined && args.egress[c] !== "unrestricted";
        for (const { from, to, ports } of edgesByPair(args.wiring).values()) {
            this.add(
                `${to}-from-${from}`,
                to,
                `lakehouse-from-${from}`,
                {
                    podSelector: {},
                    policyTypes: ["Ingress"],
                    ingress: [{ from: [inNamespace(args.namespaces[from])], ports: tcp(ports) }],
                },
                { [ADMITS_LABEL]: from },
            );
            if (restricted(from)) {
                this.add(`${from}-to-${to}`, from, `lakehouse-to-${to}`, {
                    podSelector: {},
                    policyTypes: ["Egress"],
                    egress: [{ to: [inNamespace(args.namespaces[to])], ports: tcp(ports) }],
                });
            }
        }
    }

    /** The configured client namespaces reach the user-facing services only. */
    private clientRules(): void {
        const args = this.args;
        if (args.clientNamespaces.length === 0) return;
        for (const component of args.components) {
            const ports = (Object.entries(PLATFORM_SERVICES) as [ServiceId, PlatformService][])
                .filter(([, s]) => s.component === component && s.userFacing)
                .map(([id, s]) =>
                    s.login && args.login?.includes(id)
                        ? s.login.port
                        : s.tls && args.tls?.includes(id)
                          ? s.tls.port
                          : s.port,
                );
            if (ports.length === 0) continue;
            this.add(
                `${component}-from-clients`,
                component,
                "lakehouse-from-clients",
                {
                    podSelector: {},
                    policyTypes: ["Ingress"],
                    ingress: [{ from: args.clientNamespaces.map(inNamespace), ports: tcp(ports) }],
                },
                { [ADMITS_LABEL]: "clients" },
            );
        }
    }
}

function portsOf(ports: OutsidePort[]): Input.NetworkPolicyPort[] {
    return [...new Map(ports.map((p) => [`${p.protocol}/${p.port}`, { protocol: p.protocol, port: p.port }])).values()];
}
