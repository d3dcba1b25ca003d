// npm run bench: what the plan and the policy gate cost, and how the cost grows, measured in one
// run on this machine. Each measurement runs in a process of its own (wall time from spawn to exit,
// peak RSS as the kernel counts it), from the compiled tools in .build/.
//
// 1. the offline plan with policies per stack, against the floor: the same harness (config, stack
//    file, mock monitor, policies, report) running an empty program;
// 2. policy throughput on synthetic stacks of 1,000, 10,000 and 100,000 resources;
// 3. the deployment's critical path per stack, checked against what the dependencies require.
//
// Exit status: 0 when every target is met, 1 when one is not.
import { spawnSync } from "child_process";
import * as os from "os";
import { CriticalPath } from "./critical-path";
import { main as plan } from "./plan-cli";
import { planStack, renderPlan } from "./plan";
import { evaluatePolicies, packConfigFor } from "./policy-runner";
import { platformConfigOf, policyConfigOf, policyResources, runStack } from "./run-stack";
import { syntheticStack } from "./synthetic";

export const TARGETS = { planRatio: 1.5, resourcesPerSecond: 50_000, growth: 12 };
const STACKS = ["dev", "staging", "prod"];
const SIZES = [1_000, 10_000, 100_000];
const PLAN_RUNS = 5;

interface ChildResult {
    maxRssMb: number;
    ms?: number;
    violations?: number;
    criticalPath?: CriticalPath;
}

// ---- children: one measurement each ----

async function child(mode: string, arg: string): Promise<ChildResult> {
    const quiet = () => undefined;
    if (mode === "floor") {
        // The harness with everything but the program: config and stack file, mock monitor, policies, report.
        renderPlan(await planStack(arg, { program: () => ({}) }));
    } else if (mode === "plan") {
        const code = await plan(["--stack", arg], quiet, quiet);
        if (code !== 0) throw new Error(`plan --stack ${arg} exited ${code}`);
    } else if (mode === "path") {
        return { maxRssMb: 0, criticalPath: (await planStack(arg)).criticalPath };
    } else if (mode === "policies") {
        const cfg = platformConfigOf("staging");
        const base = policyResources((await runStack("staging")).resources);
        const resources = syntheticStack(Number(arg), { base, namespaces: cfg.namespaces, clusterDomain: cfg.clusterDomain });
        const config = packConfigFor(policyConfigOf(cfg));
        const start = performance.now();
        const report = await evaluatePolicies(resources, config);
        const ms = performance.now() - start;
        return { maxRssMb: process.resourceUsage().maxRSS / 1024, ms, violations: report.violations.length + report.skipped.length };
    } else {
        throw new Error(`unknown bench child ${mode}`);
    }
    return { maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

function spawnChild(mode: string, arg: string): ChildResult & { wallMs: number } {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [__filename, "--child", mode, arg], { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`bench ${mode} ${arg} failed (${r.status}): ${r.stderr}`);
    const line = r.stdout.trim().split("\n").pop() ?? "{}";
    return { ...(JSON.parse(line) as ChildResult), wallMs };
}

// ---- the report ----

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

function table(rows: string[][]): string {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => "  " + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")).join("\n");
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ok = (pass: boolean) => (pass ? "ok" : "MISSED");

/** The chain the dependencies require: storage, its bootstrap, the metastore, Trino. */
export function checkCriticalPath(path: CriticalPath): string[] {
    const problems: string[] = [];
    const want = [/^StatefulSet (garage|postgres)$/, /^Job (garage-bootstrap|postgres-init)$/, /^Deployment hive-metastore$/, /^Chart trino$/];
    const got = path.steps.map((s) => `${s.kind} ${s.name}`);
    if (got.length !== want.length || !want.every((re, i) => re.test(got[i]))) {
        problems.push(`the longest chain is ${got.join(" → ")}; the dependencies require storage → bootstrap → metastore → Trino`);
    }
    const trino = path.readyAfter.trino ?? 0;
    for (const c of ["airbyte", "dagster"]) {
        if ((path.readyAfter[c] ?? 0) >= trino) problems.push(`${c} is ready only after ${path.readyAfter[c]} waits, not in parallel to Trino (${trino})`);
    }
    return problems;
}

export async function main(argv: string[], out: (s: string) => void = console.log): Promise<number> {
    if (argv[0] === "--child") {
        out(JSON.stringify(await child(argv[1], argv[2])));
        return 0;
    }
    const say = (s = "") => out(s);
    let pass = true;
    say(`lakehouse-platform benchmark · ${new Date().toISOString()} · node ${process.version} · ${os.cpus()[0]?.model ?? "cpu"} ×${os.cpus().length}`);
    say();

    say(`1. Offline plan with policies: wall time per process (median of ${PLAN_RUNS}), against the same harness running an empty program`);
    const planRows = [["stack", "plan", "floor", "ratio", `≤${TARGETS.planRatio}×`, "plan peak RSS", "floor peak RSS"]];
    for (const stack of STACKS) {
        const plans: (ChildResult & { wallMs: number })[] = [];
        const floors: (ChildResult & { wallMs: number })[] = [];
        spawnChild("plan", stack); // warms the file system cache
        for (let i = 0; i < PLAN_RUNS; i++) {
            floors.push(spawnChild("floor", stack));
            plans.push(spawnChild("plan", stack));
        }
        const p = median(plans.map((x) => x.wallMs));
        const f = median(floors.map((x) => x.wallMs));
        const ratio = p / f;
        pass &&= ratio <= TARGETS.planRatio;
        planRows.push([stack, `${fmt(p)} ms`, `${fmt(f)} ms`, `${ratio.toFixed(2)}×`, ok(ratio <= TARGETS.planRatio), `${fmt(Math.max(...plans.map((x) => x.maxRssMb)))} MB`, `${fmt(Math.max(...floors.map((x) => x.maxRssMb)))} MB`]);
    }
    say(table(planRows));
    say();

    say("2. Policy evaluation, every policy of the pack, on synthetic stacks (the staging stack grown with rendered-chart objects)");
    const policyRows = [["resources", "time", "resources/s", "growth", "peak RSS", "violations"]];
    let previous: { n: number; ms: number } | undefined;
    let last: { n: number; ms: number; perSecond: number; growth: number } | undefined;
    for (const n of SIZES) {
        const runs = n >= 100_000 ? [spawnChild("policies", String(n))] : [0, 1, 2].map(() => spawnChild("policies", String(n)));
        const ms = median(runs.map((r) => r.ms ?? 0));
        const growth = previous ? ms / previous.ms : NaN;
        last = { n, ms, perSecond: (n / ms) * 1000, growth };
        policyRows.push([fmt(n), `${fmt(ms)} ms`, fmt(last.perSecond), previous ? `${growth.toFixed(1)}× for ${fmt(n / previous.n)}×` : "", `${fmt(Math.max(...runs.map((r) => r.maxRssMb)))} MB`, String(runs[0].violations)]);
        previous = { n, ms };
    }
    say(table(policyRows));
    const throughputOk = (last?.perSecond ?? 0) >= TARGETS.resourcesPerSecond;
    const growthOk = (last?.growth ?? Infinity) <= TARGETS.growth;
    pass &&= throughputOk && growthOk;
    say(`  at ${fmt(SIZES[SIZES.length - 1])}: ≥${fmt(TARGETS.resourcesPerSecond)} resources/s ${ok(throughputOk)}; ≤${TARGETS.growth}× the time of ${fmt(SIZES[SIZES.length - 2])} ${ok(growthOk)}`);
    say();

    say("3. Critical path: the longest chain of resources waiting on each other, in waits for readiness");
    for (const stack of STACKS) {
        const path = spawnChild("path", stack).criticalPath!;
        const problems = checkCriticalPath(path);
        pass &&= problems.length === 0;
        const ready = Object.entries(path.readyAfter).filter(([c]) => c !== "platform").sort((a, b) => a[1] - b[1]).map(([c, n]) => `${c} ${n}`).join(", ");
        say(`  ${stack.padEnd(8)} ${path.steps.map((s) => `${s.kind} ${s.name}`).join(" → ")} (${path.waits} waits) ${ok(problems.length === 0)}`);
        say(`  ${"".padEnd(8)} ready after: ${ready}`);
        for (const p of problems) say(`  ${"".padEnd(8)} ${p}`);
    }
    say();
    say(pass ? "Result: every target met." : "Result: a target was missed (see MISSED above).");
    return pass ? 0 : 1;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e: unknown) => {
            console.error(e);
            process.exit(3);
        },
    );
}
