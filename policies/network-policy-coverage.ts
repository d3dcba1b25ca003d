import { StackValidationPolicy } from "@pulumi/policy";
import { CONFIG_SCHEMA, PlatformPolicyConfig, policyConfig } from "./lib/config";
import {
    Connection,
    connections,
    connectionSource,
    egressRulesAdmitting,
    ingressRulesAdmitting,
    isolated,
    namespaceLabels,
    parseNetworkPolicies,
    ParsedNetworkPolicy,
    Rule,
} from "./lib/network";
import { resourceLabel } from "./lib/report";

type ResourceLike = { type: string; name: string; props: unknown; urn?: string };

export interface CoverageProblem {
    urn?: string;
    message: string;
}

function admitsOwnPods(policies: ParsedNetworkPolicy[], namespace: string): boolean {
    return policies.some(
        (p) =>
            p.namespace === namespace &&
            p.allPods &&
            (p.ingress ?? []).some(
                (r) => r.ports === undefined && (r.peers === undefined || r.peers.some((x) => x.kind === "own")),
            ),
    );
}

function ruleLabel(policy: ParsedNetworkPolicy, direction: "ingress" | "egress", rule: Rule): string {
    return `NetworkPolicy ${policy.namespace}/${policy.name} ${direction}[${rule.index}]`;
}

/**
 * Where the stack's NetworkPolicies and its connections disagree: a connection between platform
 * namespaces that no rule admits (ingress into the target, egress out of the source when the source
 * is isolated), and a rule that admits another namespace no connection comes from or goes to.
 * A stack without NetworkPolicies is not judged (they are switched off).
 */
export function coverageProblems(resources: ResourceLike[], config: PlatformPolicyConfig): CoverageProblem[] {
    const policies = parseNetworkPolicies(resources);
    if (policies.length === 0) return [];
    // Each distinct connection once, named by the first value that makes it.
    const distinct = new Map<string, Connection>();
    for (const c of connections(resources, config)) {
        const key = `${c.from}\n${c.to}\n${c.port}`;
        if (!distinct.has(key)) distinct.set(key, c);
    }
    const view: CoverageView = {
        resources,
        config,
        policies,
        labelsOf: namespaceLabels(resources),
        distinct,
        platform: new Set(Object.values(config.namespaces)),
        clients: new Set(config.clientNamespaces),
    };
    return [...isolationProblems(view), ...admissionProblems(view), ...excessProblems(view)];
}

/** What the three checks read: the stack's NetworkPolicies, its connections and namespaces. */
interface CoverageView {
    resources: ResourceLike[];
    config: PlatformPolicyConfig;
    policies: ParsedNetworkPolicy[];
    labelsOf: (ns: string) => Record<string, string>;
    distinct: Map<string, Connection>;
    platform: Set<string>;
    clients: Set<string>;
}

/** Every platform namespace the stack deploys is isolated for ingress, once it uses NetworkPolicies at all. */
function isolationProblems(v: CoverageView): CoverageProblem[] {
    const out: CoverageProblem[] = [];
    const ingressIsolated = isolated(v.policies, "ingress");
    for (const r of v.resources) {
        if (r.type !== "kubernetes:core/v1:Namespace") continue;
        const name = (r.props as { metadata?: { name?: string } }).metadata?.name;
        if (name === undefined || !v.platform.has(name)) continue;
        if (!ingressIsolated.has(name)) {
            out.push({
                urn: r.urn,
                message: `${resourceLabel(r.type, r.name)}: namespace ${name} has no NetworkPolicy isolating its pods' ingress, while the stack's other namespaces do; every platform namespace admits only what is wired into it.`,
            });
        } else if (!admitsOwnPods(v.policies, name)) {
            out.push({
                urn: r.urn,
                message: `${resourceLabel(r.type, r.name)}: namespace ${name} is isolated but no rule admits its own pods on every port, so traffic inside it (a chart's own services, a database and its clients) is cut; add an ingress rule from podSelector {}.`,
            });
        }
    }
    return out;
}

/** A connection between platform namespaces that no rule admits: ingress into the target, egress out of an isolated source. */
function admissionProblems(v: CoverageView): CoverageProblem[] {
    const out: CoverageProblem[] = [];
    const egressIsolated = isolated(v.policies, "egress");
    for (const c of v.distinct.values()) {
        if (ingressRulesAdmitting(v.policies, c.from, c.to, c.port, v.labelsOf).length === 0) {
            out.push({
                message: `${connectionSource(c)}: connects ${c.from} to ${c.to} on port ${c.port}, but no NetworkPolicy in ${c.to} admits it; add an ingress rule from namespace ${c.from} on ${c.port}.`,
            });
        }
        if (
            egressIsolated.has(c.from) &&
            egressRulesAdmitting(v.policies, c.from, c.to, c.port, v.labelsOf).length === 0
        ) {
            out.push({
                message: `${connectionSource(c)}: connects ${c.from} to ${c.to} on port ${c.port}, but ${c.from}'s egress is restricted and no rule lets it out; add an egress rule to namespace ${c.to} on ${c.port}.`,
            });
        }
    }
    return out;
}

/** A rule that admits a namespace, an address range or every source that no connection needs. */
function excessProblems(v: CoverageView): CoverageProblem[] {
    const out: CoverageProblem[] = [];
    const pairs = new Set([...v.distinct.values()].map((c) => `${c.from}\n${c.to}`));
    const wired = (from: string, to: string, port: number | string) =>
        port === "*" ? pairs.has(`${from}\n${to}`) : v.distinct.has(`${from}\n${to}\n${port}`);
    // Namespaces a selector can select: the platform's, those connections name, and those selectors name.
    const named = v.policies
        .flatMap((p) => [...(p.ingress ?? []), ...(p.egress ?? [])])
        .flatMap((r) => r.peers ?? [])
        .flatMap((peer) =>
            peer.kind === "namespaces" && peer.matchLabels["kubernetes.io/metadata.name"]
                ? [peer.matchLabels["kubernetes.io/metadata.name"]]
                : [],
        );
    const known = [
        ...new Set([...v.platform, ...v.clients, ...named, ...[...v.distinct.values()].flatMap((c) => [c.from, c.to])]),
    ];
    for (const policy of v.policies) {
        for (const direction of ["ingress", "egress"] as const) {
            for (const rule of policy[direction] ?? [])
                out.push(...ruleExcess(v, policy, direction, rule, known, wired));
        }
    }
    return out;
}

function ruleExcess(
    v: CoverageView,
    policy: ParsedNetworkPolicy,
    direction: "ingress" | "egress",
    rule: Rule,
    known: string[],
    wired: (from: string, to: string, port: number | string) => boolean,
): CoverageProblem[] {
    const out: CoverageProblem[] = [];
    const at = ruleLabel(policy, direction, rule);
    const problem = (message: string) => out.push({ urn: policy.urn, message: `${at}: ${message}` });
    if (rule.peers === undefined) {
        // Egress to any address on named ports is how DNS and outside services are allowed.
        if (direction === "ingress")
            problem(`admits every source; name the namespaces the wiring says reach ${policy.namespace}.`);
        else if (rule.ports === undefined)
            problem("allows every destination on every port, which is no restriction; remove the rule or name ports.");
        return out;
    }
    for (const peer of rule.peers) {
        if (peer.kind === "own") continue;
        if (peer.kind === "ipBlock") {
            if (direction === "ingress")
                problem(`admits the address range ${peer.cidr}; platform traffic is admitted by namespace.`);
            continue;
        }
        if (peer.any) {
            problem(
                `selects every namespace; name the namespaces the wiring says ${direction === "ingress" ? `reach ${policy.namespace}` : `${policy.namespace} reaches`}.`,
            );
            continue;
        }
        const selected = known.filter(
            (ns) =>
                ns !== policy.namespace &&
                Object.entries(peer.matchLabels).every(([k, val]) => v.labelsOf(ns)[k] === val),
        );
        for (const ns of selected) {
            if (direction === "ingress" && v.clients.has(ns)) continue;
            for (const p of rule.ports ?? [{ port: "*", protocol: "TCP" }]) {
                if (direction === "ingress" ? wired(ns, policy.namespace, p.port) : wired(policy.namespace, ns, p.port))
                    continue;
                const what = p.port === "*" ? "every port" : `port ${p.port}`;
                const onPort = p.port === "*" ? "" : ` on ${p.port}`;
                problem(
                    direction === "ingress"
                        ? `admits namespace ${ns} on ${what}, but nothing in ${ns} is wired to ${policy.namespace}${onPort}; remove it, or list ${ns} in clientNamespaces if people reach ${policy.namespace} from there.`
                        : `lets ${policy.namespace} reach namespace ${ns} on ${what}, but nothing in ${policy.namespace} is wired to ${ns}${onPort}; remove it.`,
                );
            }
        }
    }
    return out;
}

export const networkPolicyCoverage: StackValidationPolicy = {
    name: "network-policy-coverage",
    description:
        "The NetworkPolicies admit every connection the stack configures between platform namespaces (ingress, and egress where it is restricted) and no other namespace.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args, reportViolation) => {
        const config = policyConfig(args);
        for (const { urn, message } of coverageProblems(args.resources, config)) reportViolation(message, urn);
    },
};
