// Runs the pack's policy objects over a set of resources the way CrossGuard does: remediations
// first (for policies set to `remediate`), then each resource policy on each resource, then each
// stack policy over all of them. Used by the offline plan, `npm run check` and the tests.
import type {
    EnforcementLevel,
    Policies,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { PlatformPolicyConfig } from "../policies/lib/config";
import { POLICIES } from "../policies/policies";

export interface ResourceForPolicy {
    type: string;
    name: string;
    urn: string;
    /** Inputs, as resource policies see them (secrets unwrapped). */
    props: Record<string, unknown>;
    /** Outputs, as stack policies see them; the inputs when not given. */
    outputs?: Record<string, unknown>;
    parent?: string;
    protect?: boolean;
    dependencies?: string[];
}

export interface Violation {
    policy: string;
    enforcementLevel: EnforcementLevel;
    urn?: string;
    message: string;
}

export interface Remediation {
    policy: string;
    urn: string;
    /** The props the policy would write. */
    props: Record<string, unknown>;
}

export interface PolicyReport {
    violations: Violation[];
    remediations: Remediation[];
    /** Policies that could not judge a resource (notApplicable, or an error inside a policy). */
    skipped: { policy: string; urn?: string; reason: string }[];
}

/** Per-policy configuration, as `--policy-pack-config` takes it (plus `all`). */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

/** The pack configuration for a stack: its cluster domain and namespaces for every policy that takes them. */
export function packConfigFor(platform: PlatformPolicyConfig, policies: Policies = POLICIES): PackConfig {
    const config: PackConfig = {};
    for (const p of policies) if (p.configSchema) config[p.name] = { ...platform };
    return config;
}

class NotApplicable extends Error {}

function levelOf(policy: { name: string; enforcementLevel?: EnforcementLevel }, config: PackConfig): EnforcementLevel {
    const own = config[policy.name];
    const all = config.all;
    if (typeof own === "string") return own;
    if (own?.enforcementLevel) return own.enforcementLevel;
    if (typeof all === "string") return all;
    if (all?.enforcementLevel) return all.enforcementLevel;
    return policy.enforcementLevel ?? "advisory";
}

function settingsOf(policy: { name: string }, config: PackConfig): Record<string, unknown> {
    const own = config[policy.name];
    if (typeof own !== "object") return {};
    const rest: Record<string, unknown> = { ...own };
    delete rest.enforcementLevel;
    return rest;
}

function isType(type: string) {
    return (cls: { __pulumiType?: string }) => (cls).__pulumiType === type;
}

const NO_OPTS_TIMEOUTS = { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 };

/** What a resource policy receives, as CrossGuard builds it: one object per resource and policy, methods shared. */
class ResourceArgs {
    readonly stackTags = new Map<string, string>();
    readonly opts: Record<string, unknown>;
    readonly type: string;
    readonly urn: string;
    readonly name: string;

    constructor(
        r: ResourceForPolicy,
        readonly props: Record<string, unknown>,
        private readonly settings: Record<string, unknown>,
    ) {
        this.type = r.type;
        this.urn = r.urn;
        this.name = r.name;
        this.opts = { protect: r.protect ?? false, ignoreChanges: [], aliases: [], customTimeouts: NO_OPTS_TIMEOUTS, additionalSecretOutputs: [], parent: r.parent };
    }

    isType(cls: unknown): boolean {
        return isType(this.type)(cls as { __pulumiType?: string });
    }

    asType(cls: unknown): Record<string, unknown> | undefined {
        return this.isType(cls) ? this.props : undefined;
    }

    getConfig<T extends object>(): T {
        return this.settings as T;
    }

    notApplicable(reason?: string): never {
        throw new NotApplicable(reason ?? "not applicable");
    }
}

function resourceArgs(r: ResourceForPolicy, props: Record<string, unknown>, settings: Record<string, unknown>): ResourceValidationArgs {
    return new ResourceArgs(r, props, settings) as unknown as ResourceValidationArgs;
}

function stackResources(resources: ResourceForPolicy[]): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const list = resources.map((r) => {
        const props = r.outputs ?? r.props;
        const pr = {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: { protect: r.protect ?? false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], parent: r.parent },
            dependencies: [] as PolicyResource[],
            propertyDependencies: {},
            isType: (cls: unknown) => isType(r.type)(cls as { __pulumiType?: string }),
            asType: (cls: unknown) => (isType(r.type)(cls as { __pulumiType?: string }) ? props : undefined),
        } as unknown as PolicyResource;
        byUrn.set(r.urn, pr);
        return pr;
    });
    resources.forEach((r, i) => {
        const pr = list[i] as { parent?: PolicyResource; dependencies: PolicyResource[] };
        if (r.parent) pr.parent = byUrn.get(r.parent);
        pr.dependencies = (r.dependencies ?? []).map((u) => byUrn.get(u)).filter((d): d is PolicyResource => d !== undefined);
    });
    return list;
}

/** Runs every policy over the resources; never throws for what a policy does. */
export async function evaluatePolicies(resources: ResourceForPolicy[], config: PackConfig = {}, policies: Policies = POLICIES): Promise<PolicyReport> {
    const report: PolicyReport = { violations: [], remediations: [], skipped: [] };
    const resourcePolicies = policies.filter((p): p is ResourceValidationPolicy => !("validateStack" in p));
    const stackPolicies = policies.filter((p): p is StackValidationPolicy => "validateStack" in p);

    // Level and settings per policy, read once: the same for every resource.
    const setup = new Map(policies.map((p) => [p, { level: levelOf(p, config), settings: settingsOf(p, config) }]));
    for (const r of resources) {
        let props = r.props;
        for (const policy of resourcePolicies) {
            const { level, settings } = setup.get(policy)!;
            if (level !== "remediate" || !policy.remediateResource) continue;
            try {
                const fixed = await policy.remediateResource(resourceArgs(r, props, settings));
                if (fixed) {
                    props = fixed;
                    report.remediations.push({ policy: policy.name, urn: r.urn, props: fixed });
                }
            } catch (err) {
                report.skipped.push({ policy: policy.name, urn: r.urn, reason: String(err instanceof Error ? err.message : err) });
            }
        }
        for (const policy of resourcePolicies) {
            const { level, settings } = setup.get(policy)!;
            if (level === "disabled" || !policy.validateResource) continue;
            const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
            const reportViolation: ReportViolation = (message) => {
                report.violations.push({ policy: policy.name, enforcementLevel: level, urn: r.urn, message });
            };
            for (const validate of validations) {
                try {
                    await validate(resourceArgs(r, props, settings), reportViolation);
                } catch (err) {
                    report.skipped.push({ policy: policy.name, urn: r.urn, reason: String(err instanceof Error ? err.message : err) });
                }
            }
        }
    }

    const all = stackResources(resources);
    for (const policy of stackPolicies) {
        const { level, settings } = setup.get(policy)!;
        if (level === "disabled") continue;
        const args = {
            resources: all,
            stackTags: new Map<string, string>(),
            getConfig: <T extends object>() => settings as T,
            notApplicable: (reason?: string): never => {
                throw new NotApplicable(reason ?? "not applicable");
            },
        } as StackValidationArgs;
        try {
            await policy.validateStack(args, (message, urn) => report.violations.push({ policy: policy.name, enforcementLevel: level, urn, message }));
        } catch (err) {
            report.skipped.push({ policy: policy.name, reason: String(err instanceof Error ? err.message : err) });
        }
    }
    return report;
}

export function mandatory(report: PolicyReport): Violation[] {
    return report.violations.filter((v) => v.enforcementLevel === "mandatory");
}
