// npm run test:cluster -- [--stack dev|staging|split|faults] [--report FILE] [--keep] [--write-docs]
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
import { cacheDir } from "./tools";
import { Harness, startHarness } from "./harness";
import { ClusterReport } from "./report";
import { singleStack } from "./single";
import { faultRun } from "./faults";
import { splitStacks } from "./split";
import { USAGE } from "./usage";

interface Args {
    stack: "dev" | "staging" | "split" | "faults";
    report: string;
    keep: boolean;
    /** Write the docs' captured CLI output (tests/cluster/captured.ts) instead of checking it. */
    writeDocs: boolean;
}

function parse(argv: string[]): Args {
    const { values } = parseArgs({
        args: argv,
        options: {
            stack: { type: "string", default: "dev" },
            report: { type: "string", default: "cluster-report.json" },
            keep: { type: "boolean" },
            "write-docs": { type: "boolean" },
        },
        strict: true,
        allowPositionals: false,
    });
    const stack = values.stack ?? "dev";
    if (stack !== "dev" && stack !== "staging" && stack !== "split" && stack !== "faults")
        throw new UsageError(`--stack ${stack}: one of dev, staging, split, faults`);
    return {
        stack,
        report: path.resolve(values.report ?? "cluster-report.json"),
        keep: values.keep ?? false,
        writeDocs: values["write-docs"] ?? false,
    };
}

class UsageError extends Error {}

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
    if (os.platform() !== "linux") {
        err("the real-engine suite runs on Linux (the control plane's binaries are built for it)");
        return EXIT.badInput;
    }
    const report = new ClusterReport(args.stack, {}, out);
    const work = path.join(cacheDir(), "runs", args.stack);
    out(`lakehouse-platform real engine · ${args.stack} · work folder ${work}`);
    let h: Harness | undefined;
    let failure: unknown;
    try {
        h = await startHarness({ work, say: out, report });
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
    if (failure && !(failure instanceof CheckFailed)) return EXIT.failure;
    return data.ok && !failure ? EXIT.ok : EXIT.violations;
}
