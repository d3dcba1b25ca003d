// The offline plan: a stack's program run under the SDK's mocks (engine.ts) with the stack's own
// config file, summarised for a reviewer: what it creates, how it is wired, what it exports, and
// what the policy pack says of it. The same data is written as JSON (format `PLAN_FORMAT`, see
// docs/plan-format.md).
import type { WiringEdge } from "../components/addresses";
import { PlatformConfig } from "../components/config";
import { stringify as toYaml } from "yaml";
import { COMPONENT_LABEL } from "../components/labels";
import { maskSecrets, RecordedResource, STACK_TYPE } from "./engine";
import { evaluatePolicies, mandatory, PackConfig, packConfigFor, PolicyReport, ResourceForPolicy } from "./policy-runner";
import { platformConfigOf, policyConfigOf, policyResources, runStack, StackRunOptions } from "./run-stack";

export const PLAN_FORMAT = "lakehouse-platform/plan@1";

export interface PlanResource {
    urn: string;
    type: string;
    name: string;
    /** The platform component the resource belongs to (`platform` for what is shared). */
    component: string;
    /** URN of the parent resource. */
    parent?: string;
    custom: boolean;
    /** URN of the explicit provider. */
    provider?: string;
    dependencies: string[];
    protect: boolean;
    retainOnDelete: boolean;
    /** Inputs, secrets replaced by "[secret]". */
    inputs: Record<string, unknown>;
    /** State the program reads back (only for resources it reads, such as stack references), masked. */
    state?: Record<string, unknown>;
}

export interface Plan {
    format: typeof PLAN_FORMAT;
    project: string;
    stack: string;
    environment: string;
    generatedBy: string;
    config: { clusterDomain: string; components: string[]; namespaces: Record<string, string> };
    resources: PlanResource[];
    /** Stack outputs, secrets replaced by "[secret]". */
    outputs: Record<string, unknown>;
    wiring: WiringEdge[];
    policy: {
        config: PackConfig;
        violations: PolicyReport["violations"];
        remediations: { policy: string; urn: string }[];
        skipped: PolicyReport["skipped"];
    };
    summary: {
        resources: number;
        byComponent: Record<string, Record<string, number>>;
        mandatory: number;
        advisory: number;
        remediations: number;
    };
}

/** Component resource types of the program, and the platform component each stands for. */
const COMPONENT_TYPES: Record<string, string> = {
    "lakehouse:storage:Garage": "garage",
    "lakehouse:database:MetadataDatabase": "database",
    "lakehouse:database:HiveMetastore": "database",
    "lakehouse:query:Trino": "trino",
    "lakehouse:ingestion:Airbyte": "airbyte",
    "lakehouse:orchestration:Dagster": "dagster",
};

function componentOf(r: RecordedResource, byUrn: Map<string, RecordedResource>): string {
    const labels = (r.inputs.metadata as { labels?: Record<string, unknown> } | undefined)?.labels;
    const label = labels?.[COMPONENT_LABEL];
    if (typeof label === "string") return label;
    for (let p: RecordedResource | undefined = r; p; p = p.parent ? byUrn.get(p.parent) : undefined) {
        const c = COMPONENT_TYPES[p.type];
        if (c) return c;
    }
    return "platform";
}

/** `kubernetes:apps/v1:StatefulSet` → `StatefulSet`; `random:index/randomPassword:RandomPassword` → `RandomPassword`. */
export function kindOf(type: string): string {
    return type.split(":").pop() ?? type;
}

export function planResources(resources: RecordedResource[]): PlanResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    return resources
        .filter((r) => r.type !== STACK_TYPE)
        .map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            component: componentOf(r, byUrn),
            parent: r.parent,
            custom: r.custom,
            provider: r.provider,
            dependencies: r.dependencies,
            protect: r.protect,
            retainOnDelete: r.retainOnDelete,
            inputs: maskSecrets(r.inputs),
            ...(r.read ? { state: maskSecrets(r.state) } : {}),
        }));
}

export function summarise(resources: PlanResource[], report: PolicyReport): Plan["summary"] {
    const byComponent: Record<string, Record<string, number>> = {};
    for (const r of resources) {
        const kinds = (byComponent[r.component] ??= {});
        kinds[kindOf(r.type)] = (kinds[kindOf(r.type)] ?? 0) + 1;
    }
    return {
        resources: resources.length,
        byComponent,
        mandatory: mandatory(report).length,
        advisory: report.violations.filter((v) => v.enforcementLevel === "advisory").length,
        remediations: report.remediations.length,
    };
}

export interface PlanOptions extends StackRunOptions {
    /** Pack configuration; the stack's own (cluster domain, namespaces) when not given. */
    policyConfig?: PackConfig;
}

/** Runs the stack offline and judges it; throws what the run throws (StackFileError, ProgramError). */
export async function planStack(stack: string, options: PlanOptions = {}): Promise<Plan> {
    const cfg: PlatformConfig = platformConfigOf(stack, options.overrides);
    const run = await runStack(stack, options);
    const policyConfig = options.policyConfig ?? packConfigFor(policyConfigOf(cfg));
    const report = await evaluatePolicies(policyResources(run.resources), policyConfig);
    const resources = planResources(run.resources);
    const outputs = maskSecrets(run.outputs);
    return {
        format: PLAN_FORMAT,
        project: run.project.name,
        stack,
        environment: cfg.environment,
        generatedBy: "npm run plan (offline: the Pulumi SDK's mock monitor; no cluster, no provider ran)",
        config: { clusterDomain: cfg.clusterDomain, components: [...cfg.components], namespaces: Object.fromEntries(cfg.components.map((c) => [c, cfg.namespaces[c]])) },
        resources,
        outputs,
        wiring: (outputs.wiring as WiringEdge[] | undefined) ?? [],
        policy: {
            config: policyConfig,
            violations: report.violations,
            remediations: report.remediations.map(({ policy, urn }) => ({ policy, urn })),
            skipped: report.skipped,
        },
        summary: summarise(resources, report),
    };
}

/** A plan's resources as the policies see them (for `npm run check`). */
export function planPolicyResources(resources: PlanResource[]): ResourceForPolicy[] {
    return resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs, outputs: r.state ?? r.inputs, parent: r.parent, protect: r.protect, dependencies: r.dependencies }));
}

// ---- text ----

function table(rows: string[][], indent = "  "): string {
    const widths: number[] = [];
    for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
    return rows.map((row) => indent + row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] + 2))).join("").trimEnd()).join("\n");
}


export function renderPolicySection(report: { violations: PolicyReport["violations"]; remediations: { policy: string; urn: string }[]; skipped: PolicyReport["skipped"] }, resourceCount: number): string[] {
    const lines: string[] = [];
    const mandatoryViolations = report.violations.filter((v) => v.enforcementLevel === "mandatory");
    const advisories = report.violations.filter((v) => v.enforcementLevel === "advisory");
    lines.push(`Policies (${resourceCount} resources checked)`);
    lines.push(`  mandatory violations: ${mandatoryViolations.length}`);
    for (const v of mandatoryViolations) lines.push(`    [${v.policy}] ${v.message}`);
    lines.push(`  advisories: ${advisories.length}`);
    for (const v of advisories) lines.push(`    [${v.policy}] ${v.message}`);
    lines.push(`  remediations offered: ${report.remediations.length}`);
    for (const r of report.remediations) lines.push(`    [${r.policy}] ${r.urn}`);
    if (report.skipped.length > 0) {
        lines.push(`  could not judge: ${report.skipped.length}`);
        for (const s of report.skipped) lines.push(`    [${s.policy}] ${s.urn ?? "stack"}: ${s.reason}`);
    }
    return lines;
}

export function renderPlan(plan: Plan): string {
    const lines: string[] = [];
    lines.push(`${plan.project} · stack ${plan.stack} (environment ${plan.environment}) · offline plan`);
    lines.push(`  cluster domain ${plan.config.clusterDomain}; components ${plan.config.components.join(", ")}`);
    lines.push(`  ${plan.generatedBy}`);
    lines.push("");

    lines.push(`Resources (${plan.summary.resources})`);
    const rows = [["component", "kind", "count"]];
    for (const [component, kinds] of Object.entries(plan.summary.byComponent).sort()) {
        for (const [kind, n] of Object.entries(kinds).sort()) rows.push([component, kind, String(n)]);
    }
    lines.push(table(rows), "");

    lines.push(`Wiring (${plan.wiring.length} connections)`);
    lines.push(
        table([
            ["from", "to", "address", "port", "value"],
            ...plan.wiring.map((e) => [e.from, e.to, e.address, String(e.port), `${kindOf(e.via.type)} ${e.via.name}: ${e.via.path}`]),
        ]),
        "",
    );

    lines.push("Outputs (secrets masked; the wiring is the table above)");
    const outputs = Object.fromEntries(Object.entries(plan.outputs).filter(([k]) => k !== "wiring"));
    lines.push(toYaml(outputs, { lineWidth: 0 }).trimEnd().split("\n").map((l) => `  ${l}`).join("\n"), "");

    lines.push(...renderPolicySection(plan.policy, plan.summary.resources));
    lines.push("");
    lines.push(plan.summary.mandatory === 0 ? "Result: no mandatory violation." : `Result: ${plan.summary.mandatory} mandatory violation(s).`);
    return lines.join("\n");
}
