// npm run test:cluster -- [--stack dev|staging|split|faults] [--node kwok|real] [--report FILE] [--keep] [--write-docs]
// The real engine: the Pulumi CLI, the Kubernetes and Random providers and a Kubernetes API server
// on loopback (tests/cluster/harness.ts), running the program's whole life for a stack with only
// what a user of this cluster sets (its kubeconfig, the charts' sources). See docs/deploy.md and
// docs/testing.md.
// Exit status: 0 every check passed, 1 a check failed, 2 bad input, 3 a failure of the suite.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { EXIT } from "../../offline/exit";
import { CheckFailed } from "../e2e/report";
import { PROJECT_DIR } from "../../offline/stack-config";
import { insideNamespace, runInside } from "../node";
import { cacheDir, ensureTools } from "./tools";
import { buildNodeImages, installNodePackages, missingTools } from "./node-images";
import type { RealNodeRun } from "./real-node";
import { Harness, startHarness } from "./harness";
import { ClusterReport } from "./report";
import { singleStack } from "./single";
import { faultRun } from "./faults";
import { splitStacks } from "./split";
import { USAGE } from "./usage";
import { Plant, PlantError, PLANTS, plants } from "./plants";

interface Args {
    stack: "dev" | "staging" | "split" | "faults";
    /** Where pods run: kwok (nothing runs), or a real node in namespaces of the run's own (tests/node). */
    node: "kwok" | "real";
    report: string;
    keep: boolean;
    /** Write the docs' captured CLI output (tests/cluster/captured.ts) instead of checking it. */
    writeDocs: boolean;
    /** With a real node: only build what it needs (the images; .ci/warm), then stop. */
    prepare: boolean;
}

function parse(argv: string[]): Args {
    const { values } = parseArgs({
        args: argv,
        options: {
            stack: { type: "string", default: "dev" },
            node: { type: "string", default: "kwok" },
            report: { type: "string", default: "cluster-report.json" },
            keep: { type: "boolean" },
            "write-docs": { type: "boolean" },
            prepare: { type: "boolean" },
        },
        strict: true,
        allowPositionals: false,
    });
    const stack = values.stack ?? "dev";
    if (stack !== "dev" && stack !== "staging" && stack !== "split" && stack !== "faults")
        throw new UsageError(`--stack ${stack}: one of dev, staging, split, faults`);
    const node = values.node ?? "kwok";
    if (node !== "kwok" && node !== "real") throw new UsageError(`--node ${node}: one of kwok, real`);
    if (values.prepare && node !== "real")
        throw new UsageError("--prepare builds a real node's images: give --node real");
    if (node === "real" && stack === "split")
        throw new UsageError("--node real runs dev, staging or faults (the split stacks run on kwok)");
    return {
        stack,
        node,
        report: path.resolve(values.report ?? "cluster-report.json"),
        keep: values.keep ?? false,
        writeDocs: values["write-docs"] ?? false,
        prepare: values.prepare ?? false,
    };
}

class UsageError extends Error {}

/** Marks the run's folder as this process's; returns the pid of a live run that has it already. */
function claimRun(work: string): number | undefined {
    const file = `${work}.pid`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
        const pid = Number(fs.readFileSync(file, "utf8"));
        if (pid && pid !== process.pid) {
            process.kill(pid, 0);
            return pid;
        }
    } catch {
        // no run, or a dead one
    }
    fs.writeFileSync(file, String(process.pid));
    process.once("exit", () => fs.rmSync(file, { force: true }));
    return undefined;
}

/** The stack a run deploys (the fault runs deploy staging). */
function stackOf(stack: Args["stack"]): string {
    return stack === "faults" ? "staging" : stack;
}

function runFile(work: string): string {
    return `${work}.node.json`;
}

function readRealNodeRun(work: string): RealNodeRun {
    return JSON.parse(fs.readFileSync(runFile(work), "utf8")) as RealNodeRun;
}

/**
 * A real node's run, from the machine's own namespaces: what needs the network (the builds, the
 * images) is done here; then the suite runs again inside namespaces of its own, and once it ends,
 * what the run made is removed and checked gone.
 */
async function outside(
    argv: string[],
    args: Args,
    work: string,
    out: (s: string) => void,
    err: (s: string) => void,
): Promise<number> {
    if (args.prepare) {
        try {
            await installNodePackages(out);
        } catch (e) {
            err(`installing the node's packages failed: ${e instanceof Error ? e.message : String(e)}`);
            return EXIT.failure;
        }
    }
    const missing = await missingTools();
    if (missing.length > 0) {
        err(`the real node needs, on PATH (as root): ${missing.join("; ")}`);
        return EXIT.badInput;
    }
    out(`lakehouse-platform real engine · ${args.stack} · a real node: building what is missing first`);
    let run: RealNodeRun;
    try {
        // --prepare (.ci/warm) builds the images beside the Go builds, which it runs itself.
        if (!args.prepare) await ensureTools(out);
        run = await buildNodeImages(stackOf(args.stack), out);
    } catch (e) {
        err(`preparing the real node failed: ${e instanceof Error ? e.message : String(e)}`);
        return EXIT.failure;
    }
    if (args.prepare) return EXIT.ok;
    fs.mkdirSync(path.dirname(work), { recursive: true });
    fs.writeFileSync(runFile(work), JSON.stringify(run, null, 2));
    const name = `lakehouse-${process.pid}`;
    out(`entering network namespace ${name} (with a mount and a PID namespace of its own)`);
    const launcher = path.join(PROJECT_DIR, "offline", "launch.mjs");
    const { code, left } = await runInside(name, [process.execPath, launcher, "cluster", ...argv], work);
    if (left.length > 0) {
        err(`the run left behind:\n  ${left.join("\n  ")}`);
        return EXIT.failure;
    }
    out(`nothing of the run is left: network namespace ${name} deleted, no process, mount or cgroup of it remains`);
    return code;
}

export async function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): Promise<number> {
    let args: Args;
    try {
        args = parse(argv);
    } catch (e) {
        err(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
        return EXIT.badInput;
    }
    let planting: Set<Plant>;
    try {
        planting = plants();
    } catch (e) {
        if (!(e instanceof PlantError)) throw e;
        err(e.message);
        return EXIT.badInput;
    }
    if (planting.size > 0 && !insideNamespace())
        out(`planted: ${[...planting].map((p) => `${p} (must fail: ${PLANTS[p]})`).join("; ")}; this run must FAIL`);
    if (os.platform() !== "linux") {
        err("the real-engine suite runs on Linux (the control plane's binaries are built for it)");
        return EXIT.badInput;
    }
    const work = path.join(cacheDir(), "runs", args.node === "real" ? `${args.stack}-real-node` : args.stack);
    if (!insideNamespace()) {
        // Two runs of one stack would share its folder (and delete each other's state).
        const other = claimRun(work);
        if (other) {
            err(
                `another run of ${args.stack} on ${args.node} is in progress (pid ${other}, folder ${work}); wait for it, or stop it`,
            );
            return EXIT.badInput;
        }
    } else {
        // The first process of its PID namespace: only signals it handles reach it; its end ends the namespace.
        for (const sig of ["SIGINT", "SIGTERM"] as const)
            process.once(sig, () => {
                err(`${sig}: stopping the run`);
                process.exit(sig === "SIGINT" ? 130 : 143);
            });
    }
    if (args.node === "real" && !insideNamespace()) return outside(argv, args, work, out, err);
    const report = new ClusterReport(args.stack, {}, out);
    out(
        `lakehouse-platform real engine · ${args.stack} · ${args.node === "real" ? "a real node" : "kwok"} · work folder ${work}`,
    );
    let h: Harness | undefined;
    let failure: unknown;
    try {
        h = await startHarness({
            work,
            say: out,
            report,
            realNode: args.node === "real" ? readRealNodeRun(work) : undefined,
        });
        if (args.stack === "split") await splitStacks(h);
        else if (args.stack === "faults") await faultRun(h);
        else await singleStack(h, args.stack, { writeDocs: args.writeDocs });
    } catch (e) {
        failure = e;
        if (!(e instanceof CheckFailed))
            err(`suite failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    } finally {
        if (h) await h.stop();
    }
    report.write(args.report);
    const data = report.data();
    const failed = data.checks.filter((c) => !c.ok).length;
    out(
        `${data.ok && !failure ? "passed" : "FAILED"}: ${data.checks.length - failed}/${data.checks.length} checks, ${data.steps.length} CLI commands, ${data.seconds} s; report ${args.report}`,
    );
    if (data.ok && !failure && !args.keep)
        fs.rmSync(path.join(work, "cluster", "etcd"), { recursive: true, force: true });
    const code =
        failure && !(failure instanceof CheckFailed) ? EXIT.failure : data.ok && !failure ? EXIT.ok : EXIT.violations;
    // Inside its namespaces the suite is the first process: whatever handle is left open, its end
    // is the run's end (the kernel then ends every process of the namespace).
    if (insideNamespace()) process.exit(code);
    return code;
}
