// The benchmark's real-engine section: `pulumi preview` with the policy pack and `pulumi up` of dev
// under the real CLI and providers, against a control plane on loopback, each as a ratio to the
// same command on an empty program under the same CLI in the same run; and where the time of `up`
// goes, resource by resource, from the engine's events, beside the offline critical path.
import * as fs from "fs";
import * as path from "path";
import { median } from "../../offline/bench-run";
import { criticalPath } from "../../offline/critical-path";
import { isWiringCheck } from "../../offline/plan";
import { PROJECT_DIR } from "../../offline/stack-config";
import { ClusterReport } from "./report";
import { PreviewBreakdown, previewBreakdown, readTrace } from "./trace";
import { readEventLog } from "./events";
import { startHarness } from "./harness";
import { fqn, initStack, offlinePlan } from "./lifecycle";
import { cacheDir } from "./tools";

export interface RealEngineBench {
    previewMs: number;
    /** dev's preview without the pack: the pack's share is what it adds. */
    previewNoPackMs: number;
    /** Where one more preview with the pack spent its time, from the engine's trace. */
    breakdown: PreviewBreakdown;
    emptyPreviewMs: number;
    upMs: number;
    emptyUpMs: number;
    resources: number;
    /** The slowest resources of `up`, from the engine's events. */
    slowest: { urn: string; type: string; seconds: number }[];
    /** The offline critical path of dev, as the plan computes it. */
    offlinePath: string[];
    /** Seconds of `up` spent with the provider's wait for Services (sum over Services). */
    serviceSeconds: number;
    peakRssMb?: number;
}

/** A Pulumi project whose program registers nothing: the floor of each command under this CLI. */
function emptyProject(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
        path.join(dir, "Pulumi.yaml"),
        "name: empty\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n",
    );
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "empty", main: "index.js" }));
    fs.writeFileSync(path.join(dir, "index.js"), "module.exports = {};\n");
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"));
}

export async function benchRealEngine(say: (s: string) => void): Promise<RealEngineBench> {
    const report = new ClusterReport("bench", {}, () => undefined);
    const h = await startHarness({ work: path.join(cacheDir(), "runs", "bench"), say, report });
    try {
        await initStack(h, "dev", {
            kubeconfig: h.cluster.files.kubeconfig,
            trinoChart: h.chartFiles.trino,
            airbyteChart: h.chartFiles.airbyte,
            dagsterChart: h.chartFiles.dagster,
        });
        const empty = path.join(h.work, "empty");
        emptyProject(empty);
        const emptyStack = "organization/empty/bench";
        const inEmpty = ["--cwd", empty, "--stack", emptyStack];
        await h.cli.must(["stack", "init", emptyStack, "--cwd", empty]);
        const timed = async (args: string[]) => {
            const t = Date.now();
            await h.cli.must(args);
            return Date.now() - t;
        };
        // Each command once unmeasured (plugin caches, ts-node's first compile), then measured.
        await timed(["preview", ...inEmpty]);
        const emptyPreviewMs = await timed(["preview", ...inEmpty]);
        const pack = ["--policy-pack", "policies"];
        await timed(["preview", ...pack, "--stack", fqn("dev")]);
        // Medians of three, the two kinds in turn: the machine's drift touches both alike.
        const withPack: number[] = [];
        const withoutPack: number[] = [];
        for (let i = 0; i < 3; i++) {
            withPack.push(await timed(["preview", ...pack, "--stack", fqn("dev")]));
            withoutPack.push(await timed(["preview", "--stack", fqn("dev")]));
        }
        const previewMs = median(withPack);
        const previewNoPackMs = median(withoutPack);
        // Traced apart: tracing loads more into each process, so the totals above are untraced.
        const trace = path.join(h.work, "bench-preview-trace.jsonl");
        fs.rmSync(trace, { force: true });
        await h.cli.must(["preview", ...pack, "--stack", fqn("dev"), "--otel-traces", `file://${trace}`]);
        const breakdown = previewBreakdown(readTrace(trace));
        const emptyUpMs = await timed(["up", "--yes", "--skip-preview", ...inEmpty]);
        const events = path.join(h.work, "bench-up.jsonl");
        const upMs = await timed(["up", "--yes", "--skip-preview", "--stack", fqn("dev"), "--event-log", events]);
        const log = readEventLog(events);
        const timedSteps = log.steps
            .filter((s) => s.started !== undefined && s.finished !== undefined)
            .map((s) => ({ urn: s.urn, type: s.type, seconds: s.finished! - s.started! }));
        const plan = await offlinePlan(h, "dev");
        const path_ = criticalPath(
            plan.resources.filter((r) => r.registeredBy === "program"),
            isWiringCheck,
        );
        return {
            previewMs,
            previewNoPackMs,
            breakdown,
            emptyPreviewMs,
            upMs,
            emptyUpMs,
            resources: log.changes.create ?? 0,
            slowest: timedSteps.sort((a, b) => b.seconds - a.seconds).slice(0, 8),
            offlinePath: path_.steps.map((s) => `${s.kind} ${s.name}`),
            serviceSeconds: timedSteps
                .filter((s) => s.type === "kubernetes:core/v1:Service")
                .reduce((n, s) => n + s.seconds, 0),
        };
    } finally {
        await h.stop();
    }
}
