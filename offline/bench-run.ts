// The benchmark behind `npm run bench` (offline/bench.ts, which answers --help without loading it):
// what the plan and the policy gate cost, measured in one run on this machine, each
// target a ratio to a floor measured in the same run (absolute figures are printed, never
// targets: they belong to the machine). Each measurement runs in a process of its own (wall time
// from spawn to exit, peak RSS as the kernel counts it), from the compiled tools in .build/.
//
// 1. the offline plan per stack, against the same harness (config, stack file, mock monitor, the
//    pack over its protocol, report) running an empty program;
// 2. the pack's start, as the CLI starts it, against a pack with no policies;
// 3. policy evaluation of every policy on a synthetic stack of 100,000 resources, against parsing
//    the same resources and visiting every string once;
// 4. the pack over the CLI's protocol on 10,000 resources, against the pack with no policies;
// 5. the deployment's critical path per stack, checked against what the dependencies require.
//
// Exit status: 0 when every target is met, 1 when one is not.
import type { PolicyResource, ResourceValidationArgs } from "@pulumi/policy";
import { spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { POLICIES } from "../policies/policies";
import { CriticalPath } from "./critical-path";
import { EngineResource } from "./crossguard/engine-view";
import { packConfigOf } from "./crossguard/gate";
import { judge } from "./crossguard/judge";
import { PACK_DIR, PackHost } from "./crossguard/pack-host";
import { unwrapSecrets } from "./engine";
import { main as plan } from "./plan-cli";
import { planStack, renderPlan } from "./plan";
import { engineResources, packIdentity, platformConfigOf, runStack, stackPolicyDoc } from "./run-stack";
import { PROJECT_DIR } from "./stack-config";
import { syntheticStack } from "./synthetic";

export const TARGETS = {
    planRatio: 1.5,
    packStartRatio: 1.5,
    evaluationRatio: 4,
    protocolRatio: 1.5,
    /** dev's `pulumi preview --policy-pack policies` against the empty program's preview. */
    realPreviewRatio: 2,
    /** What the pack adds to dev's preview, as a share of that preview. */
    packShare: 0.15,
    realUpRatio: 35,
};
const STACKS = ["dev", "staging", "prod"];
const RUNS = 5;
const EVALUATION_SIZE = 100_000;
const PROTOCOL_SIZE = 10_000;
/** A pack served by the same SDK with no policy: the floor of the protocol's cost. */
export const NO_POLICY_PACK = path.join(PROJECT_DIR, "offline", "bench-packs", "no-policies");

interface ChildResult {
    maxRssMb: number;
    ms?: number;
    violations?: number;
    criticalPath?: CriticalPath;
}

// ---- children: one measurement each ----

async function stagingResources(n: number): Promise<{
    resources: EngineResource[];
    doc: (policies: { name: string; configSchema?: { properties: object } }[]) => Record<string, unknown>;
    identity: ReturnType<typeof packIdentity>;
}> {
    const cfg = platformConfigOf("staging");
    const run = await runStack("staging");
    const resources = syntheticStack(n, {
        base: engineResources(run),
        namespaces: cfg.namespaces,
        clusterDomain: cfg.clusterDomain,
    });
    return {
        resources,
        doc: (policies) => stackPolicyDoc(cfg, policies),
        identity: packIdentity("staging", run.project, run.config),
    };
}

/** The floor: every string once, nothing parsed inside it. */
function visitStrings(value: unknown, seen: { n: number; chars: number }): void {
    if (typeof value === "string") {
        seen.n++;
        seen.chars += value.length;
    } else if (Array.isArray(value)) {
        for (const v of value) visitStrings(v, seen);
    } else if (typeof value === "object" && value !== null) {
        for (const k of Object.keys(value)) visitStrings((value as Record<string, unknown>)[k], seen);
    }
}

/** Every policy of the pack called in-process on parsed resources, as the SDK calls them (no protocol). */
function evaluateInProcess(resources: EngineResource[], settings: Record<string, unknown>): number {
    let reported = 0;
    const report = () => {
        reported++;
    };
    const getConfig = <T extends object>() => settings as T;
    const notApplicable = (): never => {
        throw new Error("not applicable");
    };
    const stackResources = resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: r.outputs,
        opts: {},
        dependencies: [],
        propertyDependencies: {},
    })) as unknown as PolicyResource[];
    for (const policy of POLICIES) {
        if ("validateStack" in policy) {
            void policy.validateStack(
                { resources: stackResources, getConfig, notApplicable, stackTags: new Map() },
                report,
            );
            continue;
        }
        const validate = policy.validateResource;
        if (typeof validate !== "function") continue;
        for (const r of resources)
            void validate(
                {
                    type: r.type,
                    name: r.name,
                    urn: r.urn,
                    props: r.inputs,
                    getConfig,
                    notApplicable,
                } as unknown as ResourceValidationArgs,
                report,
            );
    }
    return reported;
}

async function child(mode: string, arg: string): Promise<ChildResult> {
    const quiet = () => undefined;
    const rss = () => process.resourceUsage().maxRSS / 1024;
    switch (mode) {
        case "floor":
            // The harness with everything but the program: config and stack file, mock monitor, the pack, report.
            renderPlan(await planStack(arg, { program: () => ({}) }));
            return { maxRssMb: rss() };
        case "plan": {
            const code = await plan(["--stack", arg], quiet, quiet);
            if (code !== 0) throw new Error(`plan --stack ${arg} exited ${code}`);
            return { maxRssMb: rss() };
        }
        case "path":
            return { maxRssMb: 0, criticalPath: (await planStack(arg)).criticalPath };
        case "pack-start": {
            const pack = await PackHost.start(
                packIdentity("staging", { name: "lakehouse-platform", dir: PROJECT_DIR, config: {} }, {}),
                arg === "none" ? NO_POLICY_PACK : PACK_DIR,
            );
            const ms = pack.startMs;
            await pack.close();
            return { maxRssMb: rss(), ms };
        }
        case "evaluate":
        case "parse": {
            const { resources, doc } = await stagingResources(EVALUATION_SIZE);
            // Both start from the resources as text, as they arrive over the wire, with secrets unwrapped as the SDK hands them over.
            const text = JSON.stringify(
                resources.map((r) => ({ ...r, inputs: unwrapSecrets(r.inputs), outputs: unwrapSecrets(r.outputs) })),
            );
            const settings = (Object.values(doc(POLICIES))[0] ?? {}) as Record<string, unknown>;
            const start = performance.now();
            const parsed = JSON.parse(text) as EngineResource[];
            let violations = 0;
            if (mode === "evaluate") {
                violations = evaluateInProcess(parsed, settings);
            } else {
                const strings = { n: 0, chars: 0 };
                for (const r of parsed) visitStrings([r.inputs, r.outputs], strings);
            }
            return { maxRssMb: rss(), ms: performance.now() - start, violations };
        }
        case "protocol": {
            const { resources, doc, identity } = await stagingResources(PROTOCOL_SIZE);
            const pack = await PackHost.start(identity, arg === "none" ? NO_POLICY_PACK : PACK_DIR);
            const info = await pack.analyzerInfo();
            const config = packConfigOf(info, [{ doc: doc(info.policies), source: "of stack staging" }]);
            await judge(pack, resources.slice(0, 500), config); // warms both sides' JIT
            const start = performance.now();
            const j = await judge(pack, resources, config);
            const ms = performance.now() - start;
            await pack.close();
            return { maxRssMb: rss(), ms, violations: j.diagnostics.length };
        }
        default:
            throw new Error(`unknown bench child ${mode}`);
    }
}

function spawnChild(mode: string, arg: string): ChildResult & { wallMs: number } {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [__filename, "--child", mode, arg], {
        encoding: "utf8",
        maxBuffer: 64 * 2 ** 20,
    });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`bench ${mode} ${arg} failed (${r.status}): ${r.stderr}`);
    const line = r.stdout.trim().split("\n").pop() ?? "{}";
    return { ...(JSON.parse(line) as ChildResult), wallMs };
}

// ---- the report ----

export function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

function table(rows: string[][]): string {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows
        .map((r) => "  " + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "))
        .join("\n");
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ok = (pass: boolean) => (pass ? "ok" : "MISSED");

/** The chain the dependencies require: storage, its bootstrap, the metastore, Trino. */
export function checkCriticalPath(path: CriticalPath): string[] {
    const problems: string[] = [];
    const want = [
        /^StatefulSet postgres$/,
        /^Job postgres-init$/,
        /^Job hive-metastore-schema$/,
        /^Deployment hive-metastore$/,
        /^Release trino$/,
    ];
    // With `verifyWiring`, a check of Trino's edges ends the chain.
    const got = path.steps.map((s) => `${s.kind} ${s.name}`);
    const components =
        got.length === want.length + 1 && /^Job wiring-checks-\S+$/.test(got[want.length]) ? got.slice(0, -1) : got;
    if (components.length !== want.length || !want.every((re, i) => re.test(components[i]))) {
        problems.push(
            `the longest chain is ${got.join(" → ")}; the dependencies require database → its init → the metastore schema → the metastore → Trino (then the wiring checks)`,
        );
    }
    const trino = path.readyAfter.trino ?? 0;
    for (const c of ["airbyte", "dagster"]) {
        if ((path.readyAfter[c] ?? 0) >= trino)
            problems.push(`${c} is ready only after ${path.readyAfter[c]} waits, not in parallel to Trino (${trino})`);
    }
    return problems;
}

/** Runs `a` and `b` alternately `runs` times and returns the medians of what `measure` reads. */
function paired(
    a: [string, string],
    b: [string, string],
    runs: number,
    measure: (r: ChildResult & { wallMs: number }) => number,
) {
    const as: (ChildResult & { wallMs: number })[] = [];
    const bs: (ChildResult & { wallMs: number })[] = [];
    for (let i = 0; i < runs; i++) {
        bs.push(spawnChild(...b));
        as.push(spawnChild(...a));
    }
    return {
        a: median(as.map(measure)),
        b: median(bs.map(measure)),
        aRss: Math.max(...as.map((x) => x.maxRssMb)),
        bRss: Math.max(...bs.map((x) => x.maxRssMb)),
        violations: as[0].violations,
    };
}

/** What the benchmark prints, and whether every target so far was met. */
class BenchReport {
    pass = true;
    constructor(private readonly out: (s: string) => void) {}

    say(s = ""): void {
        this.out(s);
    }

    /** A ratio against its target, as a cell: the ratio and ok or MISSED. */
    target(ratio: number, max: number, unit: "×" | "%" = "×"): string {
        const met = ratio <= max;
        this.pass &&= met;
        return `${unit === "%" ? `${(ratio * 100).toFixed(0)}%` : `${ratio.toFixed(2)}×`} ${ok(met)}`;
    }

    section(title: string, rows: string[][]): void {
        this.say(title);
        this.say(table(rows));
        this.say();
    }
}

function planSection(r: BenchReport): void {
    const rows = [["stack", "plan", "floor", `ratio (≤${TARGETS.planRatio}×)`, "plan peak RSS", "floor peak RSS"]];
    for (const stack of STACKS) {
        spawnChild("plan", stack); // warms the file system cache
        const m = paired(["plan", stack], ["floor", stack], RUNS, (x) => x.wallMs);
        rows.push([
            stack,
            `${fmt(m.a)} ms`,
            `${fmt(m.b)} ms`,
            r.target(m.a / m.b, TARGETS.planRatio),
            `${fmt(m.aRss)} MB`,
            `${fmt(m.bRss)} MB`,
        ]);
    }
    r.section(
        `1. Offline plan (the pack judging over its protocol): wall time per process, median of ${RUNS}, against the same harness running an empty program`,
        rows,
    );
}

function packStartSection(r: BenchReport): void {
    const start = paired(["pack-start", "pack"], ["pack-start", "none"], RUNS, (x) => x.ms ?? 0);
    r.section(
        `2. The pack's start as the Pulumi CLI starts it (spawn to port on stdout), median of ${RUNS}, against a pack with no policies`,
        [
            ["pack", "start", "no-policy pack", `ratio (≤${TARGETS.packStartRatio}×)`],
            [
                "policies/",
                `${fmt(start.a)} ms`,
                `${fmt(start.b)} ms`,
                r.target(start.a / start.b, TARGETS.packStartRatio),
            ],
        ],
    );
}

function evaluationSection(r: BenchReport): void {
    const e = paired(["evaluate", ""], ["parse", ""], 3, (x) => x.ms ?? 0);
    r.section(
        `3. Policy evaluation, every policy in-process, ${fmt(EVALUATION_SIZE)} resources (staging grown with rendered-chart objects), against parsing them and visiting every string once`,
        [
            [
                "resources",
                "policies",
                "floor",
                `ratio (≤${TARGETS.evaluationRatio}×)`,
                "resources/s",
                "peak RSS",
                "violations",
            ],
            [
                fmt(EVALUATION_SIZE),
                `${fmt(e.a)} ms`,
                `${fmt(e.b)} ms`,
                r.target(e.a / e.b, TARGETS.evaluationRatio),
                fmt((EVALUATION_SIZE / e.a) * 1000),
                `${fmt(e.aRss)} MB`,
                String(e.violations),
            ],
        ],
    );
}

function protocolSection(r: BenchReport): void {
    const p = paired(["protocol", "pack"], ["protocol", "none"], 3, (x) => x.ms ?? 0);
    const perResource = (ms: number) => `${((ms / PROTOCOL_SIZE) * 1000).toFixed(0)} µs`;
    r.section(
        `4. The pack over the CLI's protocol (Configure, Analyze per resource, AnalyzeStack), ${fmt(PROTOCOL_SIZE)} resources, against the pack with no policies`,
        [
            [
                "resources",
                "pack",
                "no-policy pack",
                `ratio (≤${TARGETS.protocolRatio}×)`,
                "per resource",
                "floor per resource",
                "violations",
            ],
            [
                fmt(PROTOCOL_SIZE),
                `${fmt(p.a)} ms`,
                `${fmt(p.b)} ms`,
                r.target(p.a / p.b, TARGETS.protocolRatio),
                perResource(p.a),
                perResource(p.b),
                String(p.violations),
            ],
        ],
    );
}

function criticalPathSection(r: BenchReport): void {
    r.say("5. Critical path: the longest chain of resources waiting on each other, in waits for readiness");
    for (const stack of STACKS) {
        const p = spawnChild("path", stack).criticalPath!;
        const problems = checkCriticalPath(p);
        r.pass &&= problems.length === 0;
        const ready = Object.entries(p.readyAfter)
            .filter(([c]) => c !== "platform")
            .sort((a, b) => a[1] - b[1])
            .map(([c, n]) => `${c} ${n}`)
            .join(", ");
        r.say(
            `  ${stack.padEnd(8)} ${p.steps.map((s) => `${s.kind} ${s.name}`).join(" → ")} (${p.waits} waits) ${ok(problems.length === 0)}`,
        );
        r.say(`  ${"".padEnd(8)} ready after: ${ready}`);
        for (const x of problems) r.say(`  ${"".padEnd(8)} ${x}`);
    }
    r.say();
}

/** The real engine (tests/cluster/bench.ts): preview with the pack and up of dev, against an empty program under the same CLI. */
async function realEngineSection(r: BenchReport): Promise<void> {
    const { benchRealEngine } = await import("../tests/cluster/bench");
    const b = await benchRealEngine((s) => r.say(`  ${s}`));
    r.section("The real engine: dev under the Pulumi CLI, the providers and a control plane on loopback", [
        ["command", "dev", "empty program", "ratio"],
        [
            "pulumi preview --policy-pack policies",
            `${fmt(b.previewMs)} ms`,
            `${fmt(b.emptyPreviewMs)} ms`,
            `${r.target(b.previewMs / b.emptyPreviewMs, TARGETS.realPreviewRatio)} (≤${TARGETS.realPreviewRatio}×)`,
        ],
        [
            "the pack's share of that preview",
            `${fmt(b.previewMs - b.previewNoPackMs)} ms`,
            `${fmt(b.previewNoPackMs)} ms without it`,
            `${r.target((b.previewMs - b.previewNoPackMs) / b.previewMs, TARGETS.packShare, "%")} (≤${TARGETS.packShare * 100}%)`,
        ],
        [
            `pulumi up (${b.resources} created)`,
            `${fmt(b.upMs)} ms`,
            `${fmt(b.emptyUpMs)} ms`,
            `${r.target(b.upMs / b.emptyUpMs, TARGETS.realUpRatio)} (≤${TARGETS.realUpRatio}×)`,
        ],
    ]);
    r.say(
        `  Where one more preview with the pack spent its ${fmt(b.breakdown.totalMs)} ms (traced: --otel-traces), phase by phase:`,
    );
    for (const p of b.breakdown.phases) r.say(`    ${fmt(p.ms).padStart(6)} ms  ${p.phase}`);
    r.say("  Summed over their calls (overlapping the last two phases):");
    for (const x of b.breakdown.sums) r.say(`    ${fmt(x.ms).padStart(6)} ms  ${x.what} (${x.calls} calls)`);
    r.say("  Where `up` spends its time (the engine's events, whole seconds): the slowest resources");
    for (const s of b.slowest) r.say(`    ${String(s.seconds).padStart(3)} s  ${s.type} ${s.urn.split("::").pop()}`);
    r.say(
        `  Services, summed: ${b.serviceSeconds} s (the provider waits a fixed 10 s once a Service's endpoints appear)`,
    );
    r.say(`  The offline critical path: ${b.offlinePath.join(" → ")}`);
    r.say();
}

/** The benchmark (no arguments), or one measurement (`--child <what> <arg>`, run by the benchmark). */
export async function run(argv: string[], out: (s: string) => void): Promise<number> {
    if (argv[0] === "--child") {
        out(JSON.stringify(await child(argv[1], argv[2])));
        return 0;
    }
    const r = new BenchReport(out);
    r.say(
        `lakehouse-platform benchmark · ${new Date().toISOString()} · node ${process.version} · ${os.cpus()[0]?.model ?? "cpu"} ×${os.cpus().length}`,
    );
    r.say("Every target is a ratio to a floor measured in this run; the absolute figures are this machine's.");
    r.say();
    planSection(r);
    packStartSection(r);
    evaluationSection(r);
    protocolSection(r);
    criticalPathSection(r);
    await realEngineSection(r);
    r.say(r.pass ? "Result: every target met." : "Result: a target was missed (see MISSED above).");
    return r.pass ? 0 : 1;
}

// A measurement's process: this file run by node itself (see measure()), not through the launcher.
if (require.main === module) {
    run(process.argv.slice(2), console.log).then(
        (code) => process.exit(code),
        (e: unknown) => {
            console.error(e);
            process.exit(3);
        },
    );
}
