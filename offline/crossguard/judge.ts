// The policy gate as `pulumi preview --policy-pack` runs it: Configure with the reconciled pack
// configuration, then for every registered resource Remediate (when a policy is at `remediate`)
// and Analyze on the remediated inputs, then AnalyzeStack over every resource's outputs. The
// verdicts are the engine's: a diagnostic at `remediate` that survives the remediation counts as
// mandatory, a remediation that could not run is an advisory, a stack diagnostic naming no resource
// of the stack is shown on the root stack, and a policy that throws fails the whole run.
import { EngineResource } from "./engine-view";
import { EnforcementLevel, PackConfig } from "./pack-config";
import { analyzeRequest, PackHost, PackRpcError, RawDiagnostic, stackResource } from "./pack-host";

export type Verdict = "mandatory" | "advisory";

/** One policy violation as the CLI reports it. */
export interface Diagnostic {
    policy: string;
    enforcementLevel: Verdict;
    /** The resource it is shown on. */
    urn: string;
    /** The policy's own text (the SDK sends it after the policy's description, on a line of its own). */
    message: string;
    /** Which pass found it. */
    stage: "remediate" | "analyze" | "analyze-stack";
}

/** A value a `remediate` policy rewrote, with the properties it produced (wire values: secrets stay wrapped). */
export interface Remediation {
    policy: string;
    urn: string;
    properties: Record<string, unknown>;
}

export interface Judgement {
    diagnostics: Diagnostic[];
    remediations: Remediation[];
    /** The configuration the pack ran with. */
    config: PackConfig;
    /** Resources Analyze saw, and resources AnalyzeStack saw. */
    analyzed: number;
    stackResources: number;
}

/** A policy threw (or the pack failed): `pulumi preview` fails with the pack's error. */
export class PolicyFailure extends Error {
    constructor(
        public readonly urn: string | undefined,
        cause: PackRpcError,
    ) {
        super(`the policy pack failed${urn ? ` on ${urn}` : ""}: ${cause.message}`);
        this.name = "PolicyFailure";
    }
}

function verdict(level: EnforcementLevel): Verdict | undefined {
    if (level === "remediate" || level === "mandatory") return "mandatory";
    return level === "advisory" ? "advisory" : undefined;
}

/** The policy's own message: the SDK prepends the policy's description and a newline. */
function ownMessage(d: RawDiagnostic): string {
    return d.description && d.message.startsWith(`${d.description}\n`)
        ? d.message.slice(d.description.length + 1)
        : d.message;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping results in order. */
async function inOrder<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
        for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]);
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}

/** One resource, as the engine asks for it: its remediations (when a policy remediates), then its analysis. */
async function judgeResource(
    pack: PackHost,
    r: EngineResource,
    remediating: boolean,
    byUrn: ReadonlyMap<string, EngineResource>,
): Promise<{ diagnostics: Diagnostic[]; remediations: Remediation[]; inputs: Record<string, unknown> }> {
    const diagnostics: Diagnostic[] = [];
    const remediations: Remediation[] = [];
    let inputs = r.inputs;
    try {
        if (remediating) {
            for (const rem of await pack.remediate(analyzeRequest(r, inputs, byUrn))) {
                if (rem.diagnostic) {
                    diagnostics.push({
                        policy: rem.policyName,
                        enforcementLevel: "advisory",
                        urn: r.urn,
                        message: rem.diagnostic,
                        stage: "remediate",
                    });
                } else if (rem.properties) {
                    inputs = rem.properties;
                    remediations.push({ policy: rem.policyName, urn: r.urn, properties: rem.properties });
                }
            }
        }
        for (const d of await pack.analyze(analyzeRequest(r, inputs, byUrn))) {
            const level = verdict(d.enforcementLevel);
            // The engine shows a resource's diagnostics on that resource, whatever URN they name.
            if (level)
                diagnostics.push({
                    policy: d.policyName,
                    enforcementLevel: level,
                    urn: r.urn,
                    message: ownMessage(d),
                    stage: "analyze",
                });
        }
    } catch (e) {
        if (e instanceof PackRpcError) throw new PolicyFailure(r.urn, e);
        throw e;
    }
    return { diagnostics, remediations, inputs };
}

/**
 * Judges `resources` (in registration order, the root stack first) with `config`, as the engine
 * does during a preview or an update. Resources are analyzed concurrently, as the engine registers
 * them, each one's remediations before its analysis.
 */
export async function judge(
    pack: PackHost,
    resources: readonly EngineResource[],
    config: PackConfig,
    concurrency = 32,
): Promise<Judgement> {
    await pack.configure(config);
    const remediating = Object.values(config).some((c) => c.enforcementLevel === "remediate");
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const root = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? resources[0]?.urn ?? "";

    const registered = resources.filter((r) => r.registered);
    const perResource = await inOrder(registered, concurrency, (r) => judgeResource(pack, r, remediating, byUrn));

    // The stack's view: each resource's outputs; a remediated resource carries its remediated inputs.
    const remediatedInputs = new Map<string, Record<string, unknown>>();
    registered.forEach((r, i) => {
        if (perResource[i].remediations.length > 0) remediatedInputs.set(r.urn, perResource[i].inputs);
    });
    // The whole-stack pass sees what the program registered: the engine sends no reads (`.get`,
    // StackReferences) to AnalyzeStack either.
    const stackRequest = registered.map((r) => {
        const fixed = remediatedInputs.get(r.urn);
        return stackResource(r, fixed ? { ...r.outputs, ...fixed } : r.outputs, byUrn);
    });
    let stackDiagnostics: RawDiagnostic[];
    try {
        stackDiagnostics = await pack.analyzeStack(stackRequest);
    } catch (e) {
        if (e instanceof PackRpcError) throw new PolicyFailure(undefined, e);
        throw e;
    }

    const diagnostics = perResource.flatMap((p) => p.diagnostics);
    for (const d of stackDiagnostics) {
        const level = verdict(d.enforcementLevel);
        if (level)
            diagnostics.push({
                policy: d.policyName,
                enforcementLevel: level,
                urn: d.urn && byUrn.has(d.urn) ? d.urn : root,
                message: ownMessage(d),
                stage: "analyze-stack",
            });
    }
    return {
        diagnostics,
        remediations: perResource.flatMap((p) => p.remediations),
        config,
        analyzed: registered.length,
        stackResources: registered.length,
    };
}

export function mandatory(j: Pick<Judgement, "diagnostics">): Diagnostic[] {
    return j.diagnostics.filter((d) => d.enforcementLevel === "mandatory");
}

export function advisories(j: Pick<Judgement, "diagnostics">): Diagnostic[] {
    return j.diagnostics.filter((d) => d.enforcementLevel === "advisory");
}
