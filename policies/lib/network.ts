// NetworkPolicies as the policies read them, and the connections a stack's configuration makes
// between namespaces: the raw material of `network-policy-coverage`.
import { defaultPort } from "./hosts";
import { PlatformPolicyConfig } from "./config";
import { platformService, tlsServices } from "./platform";
import { references } from "./references";
import { dig, isMap, namespaceOf } from "./strings";

export const NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";
const NAME_LABEL = "kubernetes.io/metadata.name";

export type Peer =
    /** Pods of the policy's own namespace (`podSelector` alone). */
    | { kind: "own" }
    /** Pods of the namespaces a `namespaceSelector` selects. */
    | { kind: "namespaces"; matchLabels: Record<string, string>; any: boolean }
    /** An address range. */
    | { kind: "ipBlock"; cidr: string };

export interface Rule {
    /** `undefined`: every source (ingress) or destination (egress). */
    peers?: Peer[];
    /** `undefined`: every port. */
    ports?: { port: number | string; protocol: string }[];
    index: number;
}

export interface ParsedNetworkPolicy {
    urn?: string;
    name: string;
    namespace: string;
    /** Selects every pod of its namespace. */
    allPods: boolean;
    ingress?: Rule[];
    egress?: Rule[];
}

type ResourceLike = { type: string; name: string; props: unknown; urn?: string };

function rulesOf(list: unknown, peerKey: "from" | "to"): Rule[] {
    if (!Array.isArray(list)) return [];
    return list.map((rule, index) => {
        const r = isMap(rule) ? rule : {};
        const peersRaw = r[peerKey];
        const peers = Array.isArray(peersRaw) && peersRaw.length > 0 ? peersRaw.map(peerOf) : undefined;
        const portsRaw = r.ports;
        const ports =
            Array.isArray(portsRaw) && portsRaw.length > 0
                ? portsRaw.filter(isMap).map((p) => ({
                      port: typeof p.port === "number" || typeof p.port === "string" ? p.port : "*",
                      protocol: typeof p.protocol === "string" ? p.protocol : "TCP",
                  }))
                : undefined;
        return { peers, ports, index };
    });
}

function peerOf(peer: unknown): Peer {
    if (isMap(peer) && isMap(peer.ipBlock)) return { kind: "ipBlock", cidr: String(peer.ipBlock.cidr) };
    if (isMap(peer) && isMap(peer.namespaceSelector)) {
        const labels = isMap(peer.namespaceSelector.matchLabels)
            ? (peer.namespaceSelector.matchLabels as Record<string, string>)
            : {};
        const expressions = peer.namespaceSelector.matchExpressions;
        return {
            kind: "namespaces",
            matchLabels: labels,
            any: Object.keys(labels).length === 0 && !(Array.isArray(expressions) && expressions.length > 0),
        };
    }
    return { kind: "own" };
}

export function parseNetworkPolicies(resources: ResourceLike[]): ParsedNetworkPolicy[] {
    return resources
        .filter((r) => r.type === NETWORK_POLICY_TYPE && isMap(r.props))
        .map((r) => {
            const spec = isMap(dig(r.props, ["spec"])) ? (dig(r.props, ["spec"]) as Record<string, unknown>) : {};
            const selector = isMap(spec.podSelector) ? spec.podSelector : {};
            const types = Array.isArray(spec.policyTypes)
                ? spec.policyTypes
                : spec.egress !== undefined
                  ? ["Ingress", "Egress"]
                  : ["Ingress"];
            return {
                urn: r.urn,
                name:
                    typeof dig(r.props, ["metadata", "name"]) === "string"
                        ? (dig(r.props, ["metadata", "name"]) as string)
                        : r.name,
                namespace: namespaceOf(r.type, r.props) ?? "default",
                allPods:
                    Object.keys(selector).every(
                        (k) => !isMap(selector[k]) || Object.keys(selector[k] as object).length === 0,
                    ) && !Array.isArray(selector.matchExpressions),
                ingress: types.includes("Ingress") ? rulesOf(spec.ingress, "from") : undefined,
                egress: types.includes("Egress") ? rulesOf(spec.egress, "to") : undefined,
            };
        });
}

/** Labels of each namespace the stack declares, plus the name label Kubernetes gives every namespace. */
export function namespaceLabels(resources: ResourceLike[]): (namespace: string) => Record<string, string> {
    const declared = new Map<string, Record<string, string>>();
    for (const r of resources) {
        if (r.type !== NAMESPACE_TYPE) continue;
        const name = dig(r.props, ["metadata", "name"]);
        const labels = dig(r.props, ["metadata", "labels"]);
        if (typeof name === "string") declared.set(name, isMap(labels) ? (labels as Record<string, string>) : {});
    }
    return (ns) => ({ ...(declared.get(ns) ?? {}), [NAME_LABEL]: ns });
}

function peerAdmits(
    peer: Peer,
    policyNamespace: string,
    otherNamespace: string,
    labelsOf: (ns: string) => Record<string, string>,
): boolean {
    if (peer.kind === "own") return otherNamespace === policyNamespace;
    if (peer.kind === "ipBlock") return false;
    const labels = labelsOf(otherNamespace);
    return peer.any || Object.entries(peer.matchLabels).every(([k, v]) => labels[k] === v);
}

function portAdmits(rule: Rule, port: number): boolean {
    return (
        rule.ports === undefined || rule.ports.some((p) => p.protocol === "TCP" && (p.port === port || p.port === "*"))
    );
}

// Policies by namespace, built once per list: a stack's connections are looked up one by one.
const BY_NAMESPACE = new WeakMap<ParsedNetworkPolicy[], Map<string, ParsedNetworkPolicy[]>>();

function inNamespace(policies: ParsedNetworkPolicy[], namespace: string): ParsedNetworkPolicy[] {
    let index = BY_NAMESPACE.get(policies);
    if (!index) {
        index = new Map();
        for (const p of policies) index.set(p.namespace, [...(index.get(p.namespace) ?? []), p]);
        BY_NAMESPACE.set(policies, index);
    }
    return index.get(namespace) ?? [];
}

/** The rules of `owner`'s policies in `direction` that admit TCP `port` to or from namespace `other`. */
function rulesAdmitting(
    direction: "ingress" | "egress",
    policies: ParsedNetworkPolicy[],
    owner: string,
    other: string,
    port: number,
    labelsOf: (ns: string) => Record<string, string>,
): { policy: ParsedNetworkPolicy; rule: Rule }[] {
    const out: { policy: ParsedNetworkPolicy; rule: Rule }[] = [];
    for (const policy of inNamespace(policies, owner)) {
        const rules = policy[direction];
        if (!policy.allPods || rules === undefined) continue;
        for (const rule of rules) {
            const peerOk = rule.peers === undefined || rule.peers.some((p) => peerAdmits(p, owner, other, labelsOf));
            if (peerOk && portAdmits(rule, port)) out.push({ policy, rule });
        }
    }
    return out;
}

/** The ingress rules of `to`'s policies that admit TCP `port` from pods of namespace `from`. */
export function ingressRulesAdmitting(
    policies: ParsedNetworkPolicy[],
    from: string,
    to: string,
    port: number,
    labelsOf: (ns: string) => Record<string, string>,
) {
    return rulesAdmitting("ingress", policies, to, from, port, labelsOf);
}

/** The egress rules of `from`'s policies that let its pods reach TCP `port` in namespace `to`. */
export function egressRulesAdmitting(
    policies: ParsedNetworkPolicy[],
    from: string,
    to: string,
    port: number,
    labelsOf: (ns: string) => Record<string, string>,
) {
    return rulesAdmitting("egress", policies, from, to, port, labelsOf);
}

/** Namespaces whose ingress (or egress) the stack's policies isolate. */
export function isolated(policies: ParsedNetworkPolicy[], direction: "ingress" | "egress"): Set<string> {
    return new Set(policies.filter((p) => p.allPods && p[direction] !== undefined).map((p) => p.namespace));
}

export interface Connection {
    from: string;
    to: string;
    port: number;
    /** The resource that makes it and the value's path, for messages. */
    type: string;
    name: string;
    path: string;
}

export function connectionSource(c: Connection): string {
    return `${c.type.split(":").pop()} ${c.name}: ${c.path}`;
}

/**
 * The connections between platform namespaces the stack's configuration makes: every
 * `<service>.<namespace>.svc.<domain>` address a resource in one namespace hands its software,
 * pointing into another platform namespace.
 */
export function connections(resources: ResourceLike[], config: PlatformPolicyConfig): Connection[] {
    const platform = new Set(Object.values(config.namespaces));
    const tls = tlsServices(resources);
    const out: Connection[] = [];
    for (const r of resources) {
        const ns = namespaceOf(r.type, r.props);
        if (ns === undefined || !platform.has(ns)) continue;
        for (const { ref, form, found } of references(r.type, r.props, config)) {
            if (form.form !== "fqdn" || form.namespace === ns || !platform.has(form.namespace)) continue;
            // A bare host (`TRINO_HOST`, `postgresqlHost`) is used on the Service's port.
            const explicit = ref.port ?? defaultPort(ref.scheme);
            const known = platformService(form.service);
            // ... its TLS port when the stack serves it over TLS.
            const tlsPort = tls.has(`${form.namespace}/${form.service}`) ? known?.tlsPort : undefined;
            const ports =
                explicit !== undefined ? [explicit] : tlsPort !== undefined ? [tlsPort] : (known?.ports ?? []);
            for (const port of ports)
                out.push({ from: ns, to: form.namespace, port, type: r.type, name: r.name, path: found.path });
        }
    }
    return out;
}
