// Policy configuration. The Pulumi CLI fills a policy's config defaults from its schema, but an
// offline run (and a pack run without --policy-pack-config) does not, so the defaults live here.
import type { PolicyConfigSchema } from "@pulumi/policy";
import { COMPONENTS, Component } from "./platform";
import { isMap } from "./strings";

export interface PlatformPolicyConfig {
    /** The cluster's Service DNS domain. */
    clusterDomain: string;
    /** Namespace of each component in the stack being checked. */
    namespaces: Record<Component, string>;
    /**
     * Hosts never flagged: outside hosts, or in-cluster names the stack does not declare (such as
     * `kube-dns.kube-system.svc.cluster.local`). A leading `*.` matches any subdomain.
     */
    allowedHosts: string[];
    /** Namespaces outside the platform admitted to its user-facing services (an ingress controller's). */
    clientNamespaces: string[];
}

export const DEFAULT_CONFIG: PlatformPolicyConfig = {
    clusterDomain: "cluster.local",
    namespaces: { garage: "garage", database: "database", trino: "trino", airbyte: "airbyte", dagster: "dagster" },
    allowedHosts: [],
    clientNamespaces: [],
};

export const CONFIG_SCHEMA: PolicyConfigSchema = {
    properties: {
        clusterDomain: {
            type: "string",
            default: DEFAULT_CONFIG.clusterDomain,
            description: "The cluster's Service DNS domain.",
        },
        namespaces: {
            type: "object",
            default: DEFAULT_CONFIG.namespaces,
            description:
                "Namespace of each platform component in the stack (garage, database, trino, airbyte, dagster).",
            properties: Object.fromEntries(COMPONENTS.map((c) => [c, { type: "string" }])),
        },
        allowedHosts: {
            type: "array",
            default: DEFAULT_CONFIG.allowedHosts,
            items: { type: "string" },
            description:
                "Hosts never flagged (outside hosts, or in-cluster names the stack does not declare); '*.' matches subdomains.",
        },
        clientNamespaces: {
            type: "array",
            default: DEFAULT_CONFIG.clientNamespaces,
            items: { type: "string" },
            description:
                "Namespaces outside the platform that NetworkPolicies may admit to its user-facing services (an ingress controller's).",
        },
    },
};

// Read once per configuration object: a policy asks for it on every resource.
const READ = new WeakMap<object, PlatformPolicyConfig>();

/** The configuration given to a policy, over the defaults; anything malformed falls back to them. */
export function policyConfig(args: { getConfig<T extends object>(): T }): PlatformPolicyConfig {
    let given: unknown;
    try {
        given = args.getConfig<Record<string, unknown>>();
    } catch {
        given = {};
    }
    const g = isMap(given) ? given : {};
    const cached = READ.get(g);
    if (cached) return cached;
    const read = readConfig(g);
    READ.set(g, read);
    return read;
}

function readConfig(g: Record<string, unknown>): PlatformPolicyConfig {
    const namespaces = { ...DEFAULT_CONFIG.namespaces };
    if (isMap(g.namespaces)) {
        for (const c of COMPONENTS) if (typeof g.namespaces[c] === "string") namespaces[c] = g.namespaces[c];
    }
    return {
        clusterDomain:
            typeof g.clusterDomain === "string" && g.clusterDomain !== ""
                ? g.clusterDomain.replace(/^\.|\.$/g, "")
                : DEFAULT_CONFIG.clusterDomain,
        namespaces,
        allowedHosts: Array.isArray(g.allowedHosts)
            ? g.allowedHosts.filter((h): h is string => typeof h === "string")
            : DEFAULT_CONFIG.allowedHosts,
        clientNamespaces: Array.isArray(g.clientNamespaces)
            ? g.clientNamespaces.filter((h): h is string => typeof h === "string")
            : DEFAULT_CONFIG.clientNamespaces,
    };
}

export function isAllowedHost(host: string, config: PlatformPolicyConfig): boolean {
    const h = host.toLowerCase();
    return config.allowedHosts.some((a) => {
        const pattern = a.toLowerCase();
        return pattern.startsWith("*.") ? h.endsWith(pattern.slice(1)) : h === pattern;
    });
}
