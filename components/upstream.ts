// Split stacks: the components a stack needs but does not deploy are read from the outputs of the
// stacks that do (`upstreamStacks`), through `pulumi.StackReference`, and checked against the
// output contract before any Kubernetes resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { UPSTREAM_STACKS_TYPE } from "../policies/lib/platform";
import { COMPONENT_NEEDS, ComponentName, PlatformConfig } from "./config";
import {
    ComponentContracts,
    ContractError,
    CREDENTIALS_NEEDED,
    readContract,
    setContract,
    upstreamCredentials,
} from "./contract";

/** What the referenced stacks give this one. */
export interface Upstream {
    /** The contract of each component this stack reads from another stack. */
    components: Partial<ComponentContracts>;
    /** Which stack each of those comes from. */
    sources: Partial<Record<ComponentName, string>>;
}

export const NO_UPSTREAM: Upstream = { components: {}, sources: {} };

/** Components this stack needs and does not deploy. */
export function upstreamNeeds(cfg: Pick<PlatformConfig, "components">): ComponentName[] {
    const needs = new Set(cfg.components.flatMap((c) => COMPONENT_NEEDS[c]));
    return [...needs].filter((c) => !cfg.components.includes(c));
}

const CONTRACT_OUTPUTS = ["contractVersion", "environment", "clusterDomain", "components"] as const;

async function outputsOf(ref: pulumi.StackReference): Promise<Record<string, unknown>> {
    const outputs: Record<string, unknown> = {};
    for (const name of CONTRACT_OUTPUTS) {
        const details = await ref.getOutputDetails(name);
        const value: unknown = details.value ?? details.secretValue;
        if (value !== undefined) outputs[name] = value;
    }
    return outputs;
}

/**
 * Reads every stack in `upstreamStacks` (through `pulumi.StackReference`) and returns the
 * contracts of the components this stack needs from them; see checkUpstream.
 */
export async function loadUpstream(cfg: PlatformConfig): Promise<Upstream> {
    if (cfg.upstreamStacks.length === 0) return NO_UPSTREAM;
    const outputs: Record<string, Record<string, unknown>> = {};
    for (const stackName of cfg.upstreamStacks) {
        outputs[stackName] = await outputsOf(new pulumi.StackReference(stackName, { name: stackName }));
    }
    return checkUpstream(cfg, outputs);
}

/**
 * The contracts of the components this stack needs, from the outputs of each stack in
 * `upstreamStacks` (by name; outputs the contract does not name are ignored). Fails with a
 * ContractError naming the stack and output when one is missing or outdated, when two stacks
 * deploy the same component, or when a stack lives in another cluster domain, environment or
 * namespace than this stack's configuration says. The offline plan asks it of the plans it is
 * given before it runs the program, which asks again.
 */
export function checkUpstream(cfg: PlatformConfig, outputs: Record<string, Record<string, unknown>>): Upstream {
    if (cfg.upstreamStacks.length === 0) return NO_UPSTREAM;
    const upstream: Upstream = { components: {}, sources: {} };
    const problems: string[] = [];
    const conflicting = new Set<ComponentName>();
    for (const stackName of cfg.upstreamStacks) {
        const contract = readContract(stackName, outputs[stackName] ?? {});
        if (contract.clusterDomain !== cfg.clusterDomain) {
            problems.push(
                `stack ${stackName} runs in cluster domain "${contract.clusterDomain}", this stack's ${cfg.project}:clusterDomain is "${cfg.clusterDomain}": split stacks share one cluster and its domain`,
            );
        }
        if (contract.environment !== cfg.environment) {
            problems.push(
                `stack ${stackName} is environment "${contract.environment}", this stack is "${cfg.environment}": the stacks of one split environment set the same ${cfg.project}:environment (a stack never reads another environment's services)`,
            );
        }
        for (const [name, component] of Object.entries(contract.components) as [
            ComponentName,
            ComponentContracts[ComponentName],
        ][]) {
            if (cfg.components.includes(name)) {
                problems.push(
                    `stack ${stackName} deploys ${name}, which this stack deploys too: remove it from ${cfg.project}:components of one of them`,
                );
                continue;
            }
            const earlier = upstream.sources[name];
            if (earlier !== undefined) {
                problems.push(
                    `stacks ${earlier} and ${stackName} both deploy ${name}: list only one of them in ${cfg.project}:upstreamStacks`,
                );
                conflicting.add(name);
                continue;
            }
            if (component.namespace !== cfg.namespaces[name]) {
                problems.push(
                    `stack ${stackName} deploys ${name} in namespace "${component.namespace}", this stack's ${cfg.project}:${name}Namespace is "${cfg.namespaces[name]}": set it to "${component.namespace}" (the stacks of a split name every namespace alike)`,
                );
            }
            setContract(upstream.components, name, component);
            upstream.sources[name] = stackName;
        }
    }
    for (const need of upstreamNeeds(cfg)) {
        if (upstream.components[need] === undefined && !conflicting.has(need)) {
            const who = cfg.components.filter((c) => COMPONENT_NEEDS[c].includes(need));
            problems.push(
                `none of ${cfg.project}:upstreamStacks (${cfg.upstreamStacks.join(", ")}) publishes the output "components.${need}", which ${who.join(" and ")} need${who.length === 1 ? "s" : ""}: add the stack that deploys ${need}`,
            );
        }
    }
    // The credentials this stack's components need from an issuer another stack deploys.
    for (const component of cfg.components) {
        for (const { issuer, consumer } of CREDENTIALS_NEEDED[component]) {
            const contract = upstream.components[issuer];
            if (cfg.components.includes(issuer) || contract === undefined) continue;
            try {
                upstreamCredentials(
                    upstream.sources[issuer]!,
                    issuer,
                    contract.credentials as Record<string, unknown>,
                    consumer,
                    component,
                    cfg.project,
                );
            } catch (err) {
                if (!(err instanceof ContractError)) throw err;
                problems.push(err.message);
            }
        }
    }
    if (problems.length > 0) {
        throw new ContractError(
            `stack "${cfg.stack}" cannot use its upstream stacks:\n${problems.map((p) => `  - ${p}`).join("\n")}\nNo Kubernetes resource was registered.`,
        );
    }
    return upstream;
}

/**
 * The contracts a split stack read from its upstream stacks, registered as the outputs of a
 * component of its own: the engine shows a policy pack no reads, so this is how the pack (and a
 * reader of the state) learns which services the stack's addresses point at in other stacks.
 */
export class UpstreamStacks extends pulumi.ComponentResource {
    /** Per upstream stack, the contracts of the components this stack reads from it. */
    public readonly stacks: Record<string, { components: Partial<ComponentContracts> }>;

    constructor(name: string, upstream: Upstream, opts?: pulumi.ComponentResourceOptions) {
        super(UPSTREAM_STACKS_TYPE, name, {}, opts);
        this.stacks = {};
        for (const [component, stack] of Object.entries(upstream.sources) as [ComponentName, string][]) {
            const entry = (this.stacks[stack] ??= { components: {} });
            setContract(entry.components, component, upstream.components[component]!);
        }
        this.registerOutputs({ stacks: this.stacks });
    }
}
