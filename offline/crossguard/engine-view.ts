// The resources of a run as the Pulumi engine presents them to a policy pack: what `pulumi preview
// --policy-pack` sends over `pulumirpc.Analyzer`. The offline run records what the program
// registers; the engine adds to it, and this module adds the same:
// - the root stack and the default providers are resources too (a resource without an explicit
//   provider gets `pulumi:providers:<package>::default_<version>`);
// - a multi-language component (`helm.v4.Chart`, `remote` in the registration) is registered by its
//   provider with no inputs; the objects it renders are its children (given here by a test when it
//   has them: nothing offline renders a chart);
// - reads (`.get`, StackReference) reach no analysis at all, not even the whole-stack one (the
//   real engine sends only the deployment's registrations; checked against the CLI by the
//   real-engine suite), so they are marked and left out;
// - secrets stay secret values, and in a preview, values not yet known are the engine's unknowns.
import * as pulumi from "@pulumi/pulumi";
import { isUnknown } from "@pulumi/pulumi/output";
import {
    engineUrn,
    isSecretValue,
    qualifiedTypeOf,
    RecordedResource,
    SECRET_MASK,
    STACK_TYPE,
    urnName,
} from "../engine";
import { isMap } from "../../policies/lib/strings";

const SIG = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;
/** The engine's marker of a value not known during a preview (the policy SDK checks for it). */
export const UNKNOWN = pulumi.runtime.unknownValue;

export interface EngineResourceOptions {
    protect: boolean;
    ignoreChanges: string[];
    /** Undefined when the program does not say. */
    deleteBeforeReplace?: boolean;
    additionalSecretOutputs: string[];
    /** Alias URNs. */
    aliases: string[];
    customTimeouts?: { create: number; update: number; delete: number };
}

/** One resource as the engine sends it to a policy pack. */
export interface EngineResource {
    urn: string;
    type: string;
    /** The URN's name. */
    name: string;
    custom: boolean;
    /** Registered by the program (Analyze, then AnalyzeStack); false for reads (AnalyzeStack only). */
    registered: boolean;
    /** Inputs, as Analyze and Remediate receive them: secrets as secret values, unknowns as `UNKNOWN`. */
    inputs: Record<string, unknown>;
    /** Outputs, as AnalyzeStack receives them. */
    outputs: Record<string, unknown>;
    parent?: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    /** URN of the provider resource that manages it (explicit or default). */
    provider?: string;
    options: EngineResourceOptions;
}

/** A secret value as it travels over the protocol. */
export function secret(value: unknown): Record<string, unknown> {
    return { [SIG]: SECRET_SIG, value };
}

/** A value read back from a plan or resources file: every masked secret becomes a secret value again. */
export function unmaskSecrets(v: unknown): unknown {
    if (v === SECRET_MASK) return secret(SECRET_MASK);
    if (Array.isArray(v)) return v.map(unmaskSecrets);
    if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unmaskSecrets(x)]));
    return v;
}

/** The options the engine sends for a resource whose program set none. */
export function defaultOptions(): EngineResourceOptions {
    return { protect: false, ignoreChanges: [], additionalSecretOutputs: [], aliases: [] };
}

/**
 * A custom resource the program registered, with no dependencies and default options; its outputs
 * are its inputs unless given. Any field given replaces the default.
 */
export function customResource(
    r: Pick<EngineResource, "urn" | "type" | "name" | "inputs"> & Partial<EngineResource>,
): EngineResource {
    return {
        custom: true,
        registered: true,
        outputs: r.inputs,
        dependencies: [],
        propertyDependencies: {},
        options: defaultOptions(),
        ...r,
    };
}

/** The SDK's deserialised values as wire values: unknowns become the engine's marker, secrets stay wrapped. */
export function wireValue(v: unknown): unknown {
    if (pulumi.Output.isInstance(v)) return UNKNOWN;
    if (isUnknownSentinel(v)) return UNKNOWN;
    if (isSecretValue(v)) return secret(wireValue(v.value));
    if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : wireValue(x)));
    if (typeof v === "object" && v !== null) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = wireValue(x);
        return out;
    }
    return v;
}

/** In a preview the SDK deserialises an unknown into its own `unknown` object. */
function isUnknownSentinel(v: unknown): boolean {
    return v === UNKNOWN || isUnknown(v);
}

/** `default_4_21_2`: the name the engine gives a package's default provider of a version. */
export function defaultProviderName(version: string | undefined): string {
    return version ? `default_${version.replace(/[.+-]/g, "_")}` : "default";
}

function packageOf(type: string): string {
    return type.split(":")[0];
}

const PROVIDER_PREFIX = "pulumi:providers:";

export interface EngineViewOptions {
    project: string;
    stack: string;
    /**
     * Objects a multi-language component rendered, by the component's URN: its children, as the
     * provider registers them (type, name and inputs; the URN and parent are derived).
     */
    rendered?: Record<string, { type: string; name: string; inputs: Record<string, unknown> }[]>;
    /** Config of each provider package (`kubernetes:context`), as the engine puts it in default providers. */
    providerConfig?: Record<string, Record<string, string>>;
}

function options(r: RecordedResource, stack: string, project: string): EngineResourceOptions {
    return {
        protect: r.protect,
        ignoreChanges: r.ignoreChanges,
        ...(r.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
        additionalSecretOutputs: r.additionalSecretOutputs,
        aliases: r.aliases.map((a) => aliasUrn(a, r, stack, project)),
    };
}

/** The URN an alias spec stands for, as the engine collapses it (defaults from the resource itself). */
export function aliasUrn(
    a: RecordedResource["aliases"][number],
    r: Pick<RecordedResource, "name" | "type" | "parent">,
    stack: string,
    project: string,
): string {
    if (a.urn) return a.urn;
    const parent = a.noParent ? undefined : (a.parentUrn ?? r.parent);
    return engineUrn(a.stack ?? stack, a.project ?? project, parent, a.type ?? r.type, a.name ?? r.name);
}

/**
 * The resources of a run in the order the engine registers them, with the default providers the
 * engine adds before their first user, and the rendered children of remote components after them.
 */
export function engineView(resources: RecordedResource[], opts: EngineViewOptions): EngineResource[] {
    const out: EngineResource[] = [];
    const defaults = new Map<string, EngineResource>();
    const defaultProvider = (r: RecordedResource): string => {
        const pkg = packageOf(r.type);
        // The `pulumi` package's resources (StackReference) take the built-in provider, unversioned.
        const name = pkg === "pulumi" ? "default" : defaultProviderName(r.version);
        const urn = engineUrn(opts.stack, opts.project, undefined, `${PROVIDER_PREFIX}${pkg}`, name);
        if (!defaults.has(urn)) {
            const inputs: Record<string, unknown> = { ...(opts.providerConfig?.[pkg] ?? {}) };
            if (pkg !== "pulumi" && r.version) inputs.version = r.version;
            const provider = customResource({ urn, type: `${PROVIDER_PREFIX}${pkg}`, name, inputs });
            defaults.set(urn, provider);
            out.push(provider);
        }
        return urn;
    };

    for (const r of resources) {
        const isProvider = r.type.startsWith(PROVIDER_PREFIX);
        // Custom resources are managed by a provider; providers themselves and components are not.
        const provider = r.custom && !isProvider ? (r.provider ?? defaultProvider(r)) : undefined;
        const remote = r.remote && !r.custom;
        const inputs = remote ? {} : (wireValue(r.inputs) as Record<string, unknown>);
        const outputs = remote
            ? {}
            : (wireValue(r.type === STACK_TYPE || !r.custom ? (r.outputs ?? {}) : r.state) as Record<string, unknown>);
        out.push({
            urn: r.urn,
            type: r.type,
            name: urnName(r.urn),
            custom: r.custom,
            registered: !r.read,
            inputs,
            outputs,
            parent: r.parent,
            dependencies: r.dependencies,
            propertyDependencies: r.propertyDependencies,
            provider,
            options: options(r, opts.stack, opts.project),
        });
        if (remote) {
            for (const child of opts.rendered?.[r.urn] ?? []) {
                const urn = engineUrn(opts.stack, opts.project, r.urn, child.type, child.name);
                const childInputs = wireValue(child.inputs) as Record<string, unknown>;
                out.push(
                    customResource({
                        urn,
                        type: child.type,
                        name: child.name,
                        inputs: childInputs,
                        parent: r.urn,
                        provider:
                            r.providers[packageOf(child.type)] ??
                            defaultProvider({ ...r, type: child.type, custom: true }),
                    }),
                );
            }
        }
    }
    return out;
}

/** The type a URN names (its own type, the last of the qualified type). */
export function typeOfUrn(urn: string): string {
    return qualifiedTypeOf(urn).split("$").pop() ?? "";
}
