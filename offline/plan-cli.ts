// npm run plan -- [--stack dev] [--json FILE] [--set key=value ...] [--ref STACK=PLAN.json ...]
// Exit status: 0 no mandatory violation, 1 a mandatory violation, 2 bad input (unknown stack,
// invalid config, bad arguments), 3 an unexpected failure.
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { EXIT } from "./exit";
import type { Plan } from "./plan";
import { loadProject, Project, readStackFile, StackFileError } from "./stack-config";

// What planning needs loads after the arguments are read: `--help` and a mistyped flag answer at
// once instead of after the SDK and the program load (a second).
async function planning() {
    const [config, contract, resourcesFile, judge, packConfig, packHost, engine, plan] = await Promise.all([
        import("../components/config"),
        import("../components/contract"),
        import("./resources-file"),
        import("./crossguard/judge"),
        import("./crossguard/pack-config"),
        import("./crossguard/pack-host"),
        import("./engine"),
        import("./plan"),
    ]);
    const badInput = [
        config.ConfigError,
        StackFileError,
        UsageError,
        plan.UpstreamPlanError,
        contract.ContractError,
        resourcesFile.ResourcesFileError,
        packConfig.PackConfigError,
    ];
    const failures = [judge.PolicyFailure, packHost.PackStartError];
    return { resourcesFile, engine, plan, badInput, failures };
}

export { EXIT };

const USAGE = [
    "usage: npm run plan -- [--stack NAME] [--set key=value]... [--json FILE] [--policy-config FILE] [--ref ORG/PROJECT/STACK=PLAN.json]...",
    "",
    "Runs the program for a stack under the Pulumi SDK's mock monitor (no CLI, backend, credentials or",
    "cluster), has the policy pack judge it as `pulumi preview --policy-pack policies` would, and prints",
    "the resources, the wiring and its checks, every image, the critical path, the outputs and the verdict.",
    "",
    "  --stack NAME            the stack whose Pulumi.<NAME>.yaml is read (default dev); any stack file",
    "                          in the project, yours included (`pulumi stack init mine` makes Pulumi.mine.yaml)",
    "  --set key=value         a setting over the stack file's, as `pulumi config set` would write it",
    "                          (numbers, booleans and JSON lists parsed; `key` or `project:key`); repeatable",
    "  --json FILE             also writes the whole plan as JSON (every resource, value and verdict)",
    "  --policy-config FILE    the pack's configuration (enforcement levels), as --policy-pack-config takes it",
    "  --ref STACK=PLAN.json   another stack's plan (--json) standing in for its StackReference outputs",
    "                          (split stacks: the downstream stack planned against its upstream's plan)",
    "  --help, -h              this text",
    "",
    "exit status: 0 no mandatory violation, 1 a mandatory violation, 2 bad input (the key, the value,",
    "what would be valid), 3 an unexpected failure",
].join("\n");

/** `--set trinoWorkers=3` as the stack file would say it (numbers, booleans and JSON lists parsed). */
export function parseSetting(setting: string, project: string): [string, unknown] {
    const at = setting.indexOf("=");
    if (at <= 0) throw new UsageError(`--set ${setting}: expected key=value`);
    const key = setting.slice(0, at);
    const raw = setting.slice(at + 1);
    let value: unknown = raw;
    if (/^(true|false|-?\d+)$/.test(raw) || raw.startsWith("[")) {
        try {
            value = JSON.parse(raw);
        } catch {
            value = raw;
        }
    }
    return [key.includes(":") ? key : `${project}:${key}`, value];
}

export class UsageError extends Error {}

/** A file path whose directory exists and may be written. */
export function assertWritable(file: string): void {
    const dir = path.dirname(path.resolve(file));
    if (!fs.existsSync(dir)) throw new UsageError(`--json ${file}: the directory ${dir} does not exist`);
    try {
        fs.accessSync(dir, fs.constants.W_OK);
    } catch {
        throw new UsageError(`--json ${file}: the directory ${dir} is not writable`);
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory())
        throw new UsageError(`--json ${file}: it is a directory`);
}

function readPlanFile(file: string, format: string): Plan {
    let plan: Partial<Plan> | null;
    try {
        plan = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Plan> | null;
    } catch (e) {
        throw new UsageError(`cannot read the plan ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (plan?.format !== format) throw new UsageError(`${file} is not a plan (format ${format})`);
    return plan as Plan;
}

const PLAN_OPTIONS = {
    stack: { type: "string", default: "dev" },
    json: { type: "string" },
    set: { type: "string", multiple: true },
    ref: { type: "string", multiple: true },
    "policy-config": { type: "string" },
    help: { type: "boolean" },
} as const;

interface PlanArguments {
    stack?: string;
    json?: string;
    set?: string[];
    ref?: string[];
    "policy-config"?: string;
    help?: boolean;
}

/** `project`: a project other than this one (its Pulumi.yaml and stack files), as for `pulumi --cwd`. */
export async function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
    project?: Project,
): Promise<number> {
    let values: PlanArguments;
    try {
        values = parseArgs({ args: argv, options: PLAN_OPTIONS, strict: true, allowPositionals: false }).values;
    } catch (e) {
        err(`plan: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
        return EXIT.badInput;
    }
    if (values.help) {
        out(USAGE);
        return EXIT.ok;
    }
    const stack = values.stack ?? "dev";
    try {
        // A stack that does not exist, or a file that is not YAML, is refused before planning loads.
        readStackFile(project ?? loadProject(), stack);
    } catch (e) {
        if (!(e instanceof StackFileError)) throw e;
        err(`plan: ${e.message}`);
        return EXIT.badInput;
    }
    const { resourcesFile, engine, plan: planner, badInput, failures } = await planning();
    try {
        const overrides = Object.fromEntries((values.set ?? []).map((s) => parseSetting(s, "lakehouse-platform")));
        const policyConfig = values["policy-config"]
            ? resourcesFile.readPolicyConfigFile(values["policy-config"])
            : undefined;
        // Refused before planning: a plan that cannot be written is bad input, not a failure after the fact.
        if (values.json) assertWritable(values.json);
        const upstreamPlans: Record<string, Plan> = {};
        for (const ref of values.ref ?? []) {
            const at = ref.indexOf("=");
            if (at <= 0) throw new UsageError(`--ref ${ref}: expected <stack name>=<plan file>`);
            upstreamPlans[ref.slice(0, at)] = readPlanFile(ref.slice(at + 1), planner.PLAN_FORMAT);
        }
        const plan = await planner.planStack(stack, { overrides, policyConfig, upstreamPlans, project });
        out(planner.renderPlan(plan));
        if (values.json) {
            fs.writeFileSync(values.json, JSON.stringify(plan, null, 2) + "\n");
            out(`\nwrote ${values.json}`);
        }
        return plan.summary.mandatory > 0 ? EXIT.violations : EXIT.ok;
    } catch (e) {
        const cause = e instanceof engine.ProgramError ? e.cause : e;
        if (badInput.some((kind) => cause instanceof kind)) {
            err(`plan: ${(cause as Error).message}`);
            return EXIT.badInput;
        }
        if (failures.some((kind) => cause instanceof kind)) {
            err(`plan: ${(cause as Error).message}`);
            return EXIT.failure;
        }
        const trace =
            process.env.LAKEHOUSE_STACK_TRACES === "1"
                ? ""
                : "\n(run again with LAKEHOUSE_STACK_TRACES=1 for stack traces)";
        err(
            `plan: the program failed: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}${trace}`,
        );
        return EXIT.failure;
    }
}
