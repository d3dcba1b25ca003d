// Policy configuration. Under the Pulumi CLI the stack itself says where its components live:
// the CLI hands the pack the stack's config (PULUMI_CONFIG), and the pack reads the cluster
// domain and the namespaces from it as the program does, so no per-stack file can go stale
// against the stack. A --policy-pack-config file tunes enforcement levels and allowedHosts; the
// settings below it in the schema are for runs without a stack (the offline plan, whose engine
// passes the stack's own, and fixtures). The CLI fills a policy's config defaults from its
// schema, but an offline run (and a pack run without --policy-pack-config) does not, so the
// defaults live here.
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
// The stack's settings, once per process: a pack process judges one stack.
const STACK = stackSettings();

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
    // The stack's own settings win over a file's: the stack is what is deployed.
    const read = { ...readConfig(g), ...STACK };
    READ.set(g, read);
    return read;
}

/** What the stack's own config decides for the pack: where each component lives. */
export type StackSettings = Pick<PlatformPolicyConfig, "clusterDomain" | "namespaces" | "clientNamespaces">;

/**
 * The settings of the stack the pack judges, from its config as the CLI passes it to a pack
 * (PULUMI_CONFIG: `<project>:<key>` to its value, arrays as JSON), read with the program's keys
 * and defaults (components/config-schema.ts; a unit test holds the two together for every stack
 * file). Undefined without a stack: the offline plan, which passes the stack's settings in the
 * policy config. Only these keys are read; no secret is.
 */
export function stackSettings(env: NodeJS.ProcessEnv = process.env): StackSettings | undefined {
    const project = env.PULUMI_NODEJS_PROJECT ?? env.PULUMI_PROJECT;
    if (env.PULUMI_CONFIG === undefined || !project) return undefined;
    let config: unknown;
    try {
        config = JSON.parse(env.PULUMI_CONFIG);
    } catch {
        return undefined;
    }
    if (!isMap(config)) return undefined;
    const get = (key: string): string | undefined => {
        const v = config[`${project}:${key}`];
        return typeof v === "string" && v !== "" ? v : undefined;
    };
    let clients: unknown = [];
    try {
        clients = JSON.parse(get("networkPolicyClientNamespaces") ?? "[]");
    } catch {
        // The program refuses a malformed list before it registers anything.
    }
    return {
        clusterDomain: get("clusterDomain") ?? DEFAULT_CONFIG.clusterDomain,
        namespaces: Object.fromEntries(
            COMPONENTS.map((c) => [c, get(`${c}Namespace`) ?? DEFAULT_CONFIG.namespaces[c]]),
        ) as Record<Component, string>,
        clientNamespaces: Array.isArray(clients) ? clients.filter((n): n is string => typeof n === "string") : [],
    };
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
