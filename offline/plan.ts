// The offline plan: a stack's program run under the SDK's mocks (engine.ts) with the stack's own
// config file, summarised for a reviewer: what it creates, how it is wired, what it exports, and
// what the policy pack says of it. The same data is written as JSON (format `PLAN_FORMAT`, see
// docs/plan-format.md).
import type { WiringEdge } from "../components/addresses";
import { PlatformConfig } from "../components/config";
import type { WiringCheckEntry } from "../components/platform";
import { WIRING_CHECK_NAME } from "../components/wiring-check-jobs";
import { COMPONENT_LABEL } from "../components/labels";
import { checkUpstream } from "../components/upstream";
import * as fs from "fs";
import * as path from "path";
import { CriticalPath, criticalPath, kindOf, renderCriticalPath } from "./critical-path";
import { defaultOptions, EngineResource, unmaskSecrets } from "./crossguard/engine-view";
import { asConfigFile, ConfigLayer, GateRun, runGate, sharedPack } from "./crossguard/gate";
import { advisories, mandatory, Verdict } from "./crossguard/judge";
import { ClusterObject, clusterObject, maskSecrets, OFFLINE_ORGANIZATION, STACK_TYPE, unwrapSecrets } from "./engine";
import {
    configOf,
    engineResources,
    packIdentity,
    platformView,
    runStack,
    StackRun,
    stackPolicyDoc,
    StackRunOptions,
} from "./run-stack";
import { PlanImage, planImages } from "./plan-images";
import {
    DATA_SETTINGS_OUTPUT,
    DataChange,
    dataChanges,
    dataChangeWarning,
    DataSettings,
    dataSettingsOf,
    judgeDataChanges,
} from "../components/data-guard";
import { isMap } from "../policies/lib/strings";
import { loadProject, stackConfig } from "./stack-config";

export const PLAN_FORMAT = "lakehouse-platform/plan@2";

export interface PlanResource {
    /** As the engine builds it: `urn:pulumi:<stack>::<project>::<parent types$type>::<name>`. */
    urn: string;
    type: string;
    name: string;
    /** The platform component the resource belongs to (`platform` for what is shared). */
    component: string;
    /** `program`: the program registered it; `engine`: the engine adds it (the root stack, default providers). */
    registeredBy: "program" | "engine";
    /** False for reads (`.get`, stack references): the policy pack sees them only in the whole-stack pass. */
    registered: boolean;
    /** URN of the parent resource. */
    parent?: string;
    custom: boolean;
    /** URN of the provider that manages it (explicit, or the engine's default provider). */
    provider?: string;
    dependencies: string[];
    protect: boolean;
    retainOnDelete: boolean;
    /** Alias URNs: earlier URNs of the resource, so a rename keeps it. */
    aliases?: string[];
    /** Inputs as the policy pack receives them, secrets replaced by "[secret]". */
    inputs: Record<string, unknown>;
    /** Outputs, when they differ from the inputs (read state, computed values, component outputs), masked. */
    outputs?: Record<string, unknown>;
}

export interface PlanViolation {
    policy: string;
    enforcementLevel: Verdict;
    urn: string;
    message: string;
}

export interface Plan {
    format: typeof PLAN_FORMAT;
    project: string;
    stack: string;
    environment: string;
    generatedBy: string;
    config: {
        clusterDomain: string;
        components: string[];
        namespaces: Record<string, string>;
        upstreamStacks: string[];
        /** Edges whose checks the stack leaves out (`wiringChecksSkip`), `<from> → <to>`. */
        wiringChecksSkip: string[];
    };
    resources: PlanResource[];
    /** Stack outputs, secrets replaced by "[secret]". */
    outputs: Record<string, unknown>;
    wiring: WiringEdge[];
    /** The checks `verifyWiring` runs, one per edge (empty when it is off). */
    wiringChecks: WiringCheckEntry[];
    /** The longest chain of resources that wait on each other (see offline/critical-path.ts). */
    criticalPath: CriticalPath;
    /** Every image the stack runs or launches, as the cluster pulls it (see offline/plan-images.ts). */
    images: PlanImage[];
    /**
     * Against the deployment given (`--ref <this stack>=PLAN.json`), the config changes that touch
     * what holds data and proceed (a stack that keeps its data refuses the others, exit 2).
     */
    dataChanges: DataChange[];
    policy: {
        /** The pack the verdicts come from, and how long it took to start. */
        pack: { name: string; version: string };
        /** The pack configuration it ran with, as `--policy-pack-config` takes it. */
        config: Record<string, Record<string, unknown>>;
        violations: PlanViolation[];
        remediations: { policy: string; urn: string }[];
    };
    summary: {
        /** Resources the program registered. */
        resources: number;
        /** Resources the policy pack judged (with the root stack and the default providers). */
        judged: number;
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

function componentOf(r: EngineResource, byUrn: Map<string, EngineResource>): string {
    const labels = (unwrapSecrets(r.inputs).metadata as { labels?: Record<string, unknown> } | undefined)?.labels;
    const label = labels?.[COMPONENT_LABEL];
    if (typeof label === "string") return label;
    for (let p: EngineResource | undefined = r; p; p = p.parent ? byUrn.get(p.parent) : undefined) {
        const c = COMPONENT_TYPES[p.type];
        if (c) return c;
    }
    return "platform";
}

/** A Job of `verifyWiring` (or its script), by the name label the platform gives them. */
export function isWiringCheck(r: { inputs?: unknown }): boolean {
    const labels = (r.inputs as { metadata?: { labels?: Record<string, unknown> } } | undefined)?.metadata?.labels;
    return labels?.["app.kubernetes.io/name"] === WIRING_CHECK_NAME;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The engine's view of a run as plan resources, secrets masked. */
export function planResources(
    resources: readonly EngineResource[],
    programUrns: ReadonlySet<string>,
    retained: ReadonlySet<string>,
): PlanResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    return resources.map((r) => {
        const inputs = maskSecrets(r.inputs);
        const outputs = maskSecrets(r.outputs);
        return {
            urn: r.urn,
            type: r.type,
            name: r.name,
            component: componentOf(r, byUrn),
            registeredBy: programUrns.has(r.urn) && r.type !== STACK_TYPE ? "program" : "engine",
            registered: r.registered,
            parent: r.parent,
            custom: r.custom,
            provider: r.provider,
            dependencies: r.dependencies,
            protect: r.options.protect,
            retainOnDelete: retained.has(r.urn),
            ...(r.options.aliases.length > 0 ? { aliases: r.options.aliases } : {}),
            inputs,
            ...(sameJson(inputs, outputs) ? {} : { outputs }),
        };
    });
}

/** The plan's resources back as the engine presents them (masked secrets become secret values). */
export function engineResourcesOfPlan(resources: readonly PlanResource[]): EngineResource[] {
    return resources.map((r) => {
        const inputs = unmaskSecrets(r.inputs) as Record<string, unknown>;
        return {
            urn: r.urn,
            type: r.type,
            name: r.name,
            custom: r.custom,
            registered: r.registered,
            inputs,
            outputs: r.outputs ? (unmaskSecrets(r.outputs) as Record<string, unknown>) : inputs,
            parent: r.parent,
            dependencies: r.dependencies,
            propertyDependencies: {},
            provider: r.provider,
            options: { ...defaultOptions(), protect: r.protect, aliases: r.aliases ?? [] },
        };
    });
}

/** What the program itself registered (the engine's additions aside). */
export function programPlanResources(plan: Pick<Plan, "resources">): PlanResource[] {
    return plan.resources.filter((r) => r.registeredBy === "program");
}

export function summarise(resources: PlanResource[], judged: GateRun): Plan["summary"] {
    const own = resources.filter((r) => r.registeredBy === "program");
    const byComponent: Record<string, Record<string, number>> = {};
    for (const r of own) {
        const kinds = (byComponent[r.component] ??= {});
        kinds[kindOf(r.type)] = (kinds[kindOf(r.type)] ?? 0) + 1;
    }
    return {
        resources: own.length,
        judged: resources.length,
        byComponent,
        mandatory: mandatory(judged).length,
        advisory: advisories(judged).length,
        remediations: judged.remediations.length,
    };
}

export interface PlanOptions extends StackRunOptions {
    /** A `--policy-pack-config` document merged over the stack's own settings, and where it came from. */
    policyConfig?: ConfigLayer;
    /** Plans of the stacks in `upstreamStacks`, by the name given there (`--ref NAME=FILE`). */
    upstreamPlans?: Record<string, Plan>;
    /** Stacks being planned on the way to this one (a reference cycle is an error). */
    planning?: string[];
}

/** A stack in `upstreamStacks` has no plan to read: neither given nor plannable from a local stack file. */
export class UpstreamPlanError extends Error {}

/** What a deployed plan leaves in the cluster, for reads (`.get`) of a stack built on it; secrets stay masked. */
export function clusterObjectsOfPlan(plan: Plan): ClusterObject[] {
    const merge = (stringData: unknown, data: unknown) => ({
        ...(isMap(data) ? data : {}),
        ...(isMap(stringData) ? stringData : {}),
    });
    return programPlanResources(plan).flatMap((r) =>
        r.custom && r.registered ? (clusterObject(r.type, r.inputs, merge) ?? []) : [],
    );
}

/**
 * The outputs and cluster objects of the stacks a split stack builds on: from the plans given, or
 * by planning a stack file of this project named like the referenced stack's last segment.
 */
async function upstreamOf(
    cfg: PlatformConfig,
    options: PlanOptions,
): Promise<Pick<StackRunOptions, "stackReferences" | "cluster">> {
    if (cfg.upstreamStacks.length === 0) return {};
    const stackReferences: Record<string, Record<string, unknown>> = {};
    const cluster: ClusterObject[] = [];
    for (const name of cfg.upstreamStacks) {
        let plan = options.upstreamPlans?.[name];
        if (plan === undefined) {
            const local = name.split("/").pop()!;
            if (!stackFileExists(local, options.project)) {
                throw new UpstreamPlanError(
                    `stack ${cfg.stack} reads ${name} (upstreamStacks): give its plan with --ref ${name}=FILE (made by \`npm run plan -- --stack <it> --json FILE\`), or keep its stack file Pulumi.${local}.yaml here`,
                );
            }
            const planning = [...(options.planning ?? [cfg.stack])];
            if (planning.includes(local))
                throw new UpstreamPlanError(`upstreamStacks form a cycle: ${[...planning, local].join(" → ")}`);
            plan = await planStack(local, {
                project: options.project,
                upstreamPlans: options.upstreamPlans,
                planning: [...planning, local],
            });
        }
        stackReferences[name] = plan.outputs;
        cluster.push(...clusterObjectsOfPlan(plan));
    }
    return { stackReferences, cluster };
}

function stackFileExists(stack: string, project = loadProject()): boolean {
    return fs.existsSync(path.join(project.dir, `Pulumi.${stack}.yaml`));
}

/**
 * Runs the stack offline and judges it through the policy pack; throws what the run throws
 * (StackFileError, ProgramError), and ContractError for upstream plans a split stack cannot use.
 */
export async function planStack(stack: string, options: PlanOptions = {}): Promise<Plan> {
    const project = options.project ?? loadProject();
    const sc = stackConfig(project, stack, options.overrides);
    const cfg: PlatformConfig = configOf(sc, project, stack);
    const upstream = options.stackReferences ? {} : await upstreamOf(cfg, options);
    // The stack's own last deployment, when given (--ref <this stack>=PLAN.json): the program
    // compares what its data lives on (components/data-guard.ts).
    const own = `${OFFLINE_ORGANIZATION}/${project.name}/${stack}`;
    const deployed = options.upstreamPlans?.[own];
    if (deployed && !options.stackReferences)
        upstream.stackReferences = { ...(upstream.stackReferences ?? {}), [own]: deployed.outputs };
    // A split stack whose upstream plans break the output contract is refused before anything
    // starts, with the message the program would give (it checks again when it runs).
    if (cfg.upstreamStacks.length > 0 && upstream.stackReferences) checkUpstream(cfg, upstream.stackReferences);
    // The pack starts (a process of its own, a second) while the program runs, as the CLI starts
    // the analyzer beside the language host. Its identity is the config the run receives.
    const identity = packIdentity(stack, project, sc.config, options.preview ?? false);
    const pack = sharedPack(identity);
    pack.catch(() => undefined); // a pack that cannot start is reported below, after the program's own errors
    const run = await runStack(stack, { ...options, ...upstream, project });
    await pack;
    return planOfRun(run, cfg, { ...options, deployed: deployed?.outputs });
}

/**
 * The plan of a finished run: its resources as the engine shows them, judged by the pack with the
 * stack's settings (`cfg`, the program's reading of `run.config`) and `options.policyConfig` over them.
 */
export async function planOfRun(
    run: StackRun,
    cfg: PlatformConfig,
    options: Pick<PlanOptions, "policyConfig" | "preview"> & { deployed?: Record<string, unknown> } = {},
): Promise<Plan> {
    const stack = run.stack;
    const identity = packIdentity(stack, run.project, run.config, options.preview ?? false);
    const engine = engineResources(run);
    const { info } = await sharedPack(identity);
    // The stack's settings last: as under the CLI, a file tunes levels and allowed hosts, and
    // never moves the stack's namespaces or domain.
    const layers: ConfigLayer[] = [
        ...(options.policyConfig ? [options.policyConfig] : []),
        { doc: stackPolicyDoc(cfg, info.policies), source: `of stack ${stack}` },
    ];
    const gate = await runGate(engine, identity, layers);
    const resources = planResources(
        engine,
        new Set(run.resources.map((r) => r.urn)),
        new Set(run.resources.filter((r) => r.retainOnDelete).map((r) => r.urn)),
    );
    const outputs = maskSecrets(run.outputs);
    // The call graph and its checks are the platform component's outputs (the stack outputs are the short contract).
    const view = maskSecrets(platformView(run));
    return {
        format: PLAN_FORMAT,
        project: run.project.name,
        stack,
        environment: cfg.environment,
        generatedBy:
            "npm run plan (offline: the Pulumi SDK's mock monitor, no provider ran; verdicts from the policy pack over the CLI's protocol)",
        config: {
            clusterDomain: cfg.clusterDomain,
            components: [...cfg.components],
            namespaces: Object.fromEntries(cfg.components.map((c) => [c, cfg.namespaces[c]])),
            upstreamStacks: [...cfg.upstreamStacks],
            wiringChecksSkip: cfg.wiringChecksSkip.map((s) => `${s.from} → ${s.to}`),
        },
        resources,
        outputs,
        wiring: (view.wiring as WiringEdge[] | undefined) ?? [],
        wiringChecks: (view.wiringChecks as WiringCheckEntry[] | undefined) ?? [],
        criticalPath: criticalPath(
            resources.filter((r) => r.registeredBy === "program"),
            isWiringCheck,
        ),
        images: planImages(resources),
        dataChanges: plannedDataChanges(cfg, options.deployed),
        policy: {
            pack: { name: gate.pack.name, version: gate.pack.version },
            config: asConfigFile(gate.config),
            violations: gate.diagnostics.map(({ policy, enforcementLevel, urn, message }) => ({
                policy,
                enforcementLevel,
                urn,
                message,
            })),
            remediations: gate.remediations.map(({ policy, urn }) => ({ policy, urn })),
        },
        summary: summarise(resources, gate),
    };
}

// ---- text ----

function table(rows: string[][], indent = "  "): string {
    const widths: number[] = [];
    for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
    return rows
        .map(
            (row) =>
                indent +
                row
                    .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] + 2)))
                    .join("")
                    .trimEnd(),
        )
        .join("\n");
}

export function renderPolicySection(
    policy: Pick<Plan["policy"], "violations" | "remediations">,
    judged: number,
): string[] {
    const lines: string[] = [];
    const mandatoryViolations = policy.violations.filter((v) => v.enforcementLevel === "mandatory");
    const advisoryViolations = policy.violations.filter((v) => v.enforcementLevel === "advisory");
    const shown = (v: PlanViolation) => `    [${v.policy}] ${v.message.replace(/\n/g, "\n      ")}`;
    lines.push(`Policies (${judged} resources judged by the pack over the CLI's protocol)`);
    lines.push(`  mandatory violations: ${mandatoryViolations.length}`);
    for (const v of mandatoryViolations) lines.push(shown(v));
    lines.push(`  advisories: ${advisoryViolations.length}`);
    for (const v of advisoryViolations) lines.push(shown(v));
    lines.push(`  remediations applied: ${policy.remediations.length}`);
    for (const r of policy.remediations) lines.push(`    [${r.policy}] ${r.urn}`);
    return lines;
}

function flatten(value: unknown, path: string, out: [string, string][]): void {
    if (Array.isArray(value)) out.push([path, value.join(", ")]);
    else if (typeof value === "object" && value !== null)
        for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, out);
    else out.push([path, String(value)]);
}

/** The output contract as tables: services, credential Secrets (names only), other settings. */
function renderOutputs(outputs: Record<string, unknown>): string[] {
    const components = (outputs.components ?? {}) as Record<string, Record<string, unknown>>;
    const lines = [
        `Outputs (contract version ${String(outputs.contractVersion)}, environment ${String(outputs.environment)}; every value in --json)`,
    ];
    const services = [["component", "service", "namespace", "address"]];
    const secrets = [["issued by", "for", "Secret"]];
    const settings = [["component", "output", "value"]];
    for (const [component, contract] of Object.entries(components)) {
        for (const [name, address] of Object.entries((contract.services ?? {}) as Record<string, string>)) {
            services.push([component, name, String(contract.namespace), address]);
        }
        for (const [consumer, ref] of Object.entries(
            (contract.credentials ?? {}) as Record<string, { namespace: string; secretName: string }>,
        )) {
            secrets.push([component, consumer, `${ref.namespace}/${ref.secretName}`]);
        }
        const rest: [string, string][] = [];
        for (const [key, value] of Object.entries(contract))
            if (!["services", "credentials", "namespace"].includes(key)) flatten(value, key, rest);
        for (const [key, value] of rest) settings.push([component, key, value]);
    }
    lines.push(table(services));
    if (secrets.length > 1)
        lines.push(
            "",
            "  credentials (Secret names; the values never leave Kubernetes Secrets)",
            table(secrets, "    "),
        );
    if (settings.length > 1) lines.push("", table(settings));
    return lines;
}

/** The checks per edge, or why there are none. */
function renderWiringChecks(plan: Plan): string[] {
    if (plan.wiringChecks.length === 0)
        return [
            plan.wiring.length === 0
                ? "Wiring checks: none (this stack starts no connection)"
                : "Wiring checks: off (verifyWiring is false)",
        ];
    const jobs = new Set(plan.wiringChecks.map((c) => c.job));
    const skipped = plan.config.wiringChecksSkip ?? [];
    const notChecked = plan.wiring.filter((e) => skipped.includes(`${e.from} → ${e.to}`)).length;
    return [
        `Wiring checks (${plan.wiringChecks.length}, one per connection${notChecked ? ` but the ${notChecked} of wiringChecksSkip` : ""}; ${jobs.size} Jobs run them after the components are ready)`,
        table([
            ["check", "edge", "Job", "checks"],
            ...plan.wiringChecks.map((c) => [c.id, `${c.from} → ${c.to}`, c.job, c.checks.join("; ")]),
        ]),
        ...(skipped.length ? [`  not checked (wiringChecksSkip): ${skipped.join(", ")}`] : []),
    ];
}

/** The changes to what holds data that this plan makes (against the deployment it was given). */
function plannedDataChanges(cfg: PlatformConfig, deployed: Record<string, unknown> | undefined): DataChange[] {
    const settings = deployed?.[DATA_SETTINGS_OUTPUT] as DataSettings | undefined;
    if (!settings) return [];
    return judgeDataChanges(cfg, dataChanges(settings, dataSettingsOf(cfg))).proceeding;
}

function renderDataChanges(plan: Plan): string[] {
    if (!plan.dataChanges?.length) return [];
    return [
        `Data (${plan.dataChanges.length} change${plan.dataChanges.length === 1 ? "" : "s"} to what holds it, against the deployment given)`,
        ...plan.dataChanges.map((c) => `  ${dataChangeWarning(c)}`),
        "",
    ];
}

function renderImages(plan: Plan): string[] {
    const images = plan.images ?? [];
    const distinct = new Set(images.map((i) => i.image)).size;
    return [
        `Images (${distinct} distinct, every one the stack runs or launches, as the cluster pulls it)`,
        table([["component", "where", "image"], ...images.map((i) => [i.component, i.where, i.image])]),
    ];
}

export function renderPlan(plan: Plan): string {
    const lines: string[] = [];
    lines.push(`${plan.project} · stack ${plan.stack} (environment ${plan.environment}) · offline plan`);
    lines.push(`  cluster domain ${plan.config.clusterDomain}; components ${plan.config.components.join(", ")}`);
    if (plan.config.upstreamStacks?.length)
        lines.push(`  builds on ${plan.config.upstreamStacks.join(", ")} (split stacks)`);
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
            ...plan.wiring.map((e) => [
                e.from,
                e.to,
                e.address,
                String(e.port),
                `${kindOf(e.via.type)} ${e.via.name}: ${e.via.path}`,
            ]),
        ]),
        "",
    );

    lines.push(...renderDataChanges(plan));
    lines.push(...renderWiringChecks(plan), "");
    lines.push(...renderImages(plan), "");
    lines.push(...renderCriticalPath(plan.criticalPath), "");
    lines.push(...renderOutputs(plan.outputs), "");

    lines.push(...renderPolicySection(plan.policy, plan.summary.judged));
    lines.push("");
    lines.push(
        plan.summary.mandatory === 0
            ? "Result: no mandatory violation."
            : `Result: ${plan.summary.mandatory} mandatory violation(s).`,
    );
    return lines.join("\n");
}
