// npm run plan -- [--stack dev] [--json FILE] [--set key=value ...] [--ref STACK=PLAN.json ...]
// Exit status: 0 no mandatory violation, 1 a mandatory violation, 2 bad input (unknown stack,
// invalid config, bad arguments), 3 an unexpected failure.
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { ConfigError } from "../components/config";
import { ContractError } from "../components/contract";
import { readPolicyConfigFile, ResourcesFileError } from "./check";
import { PolicyFailure } from "./crossguard/judge";
import { PackConfigError } from "./crossguard/pack-config";
import { PackStartError } from "./crossguard/pack-host";
import { ProgramError } from "./engine";
import { EXIT } from "./exit";
import { Plan, PLAN_FORMAT, planStack, renderPlan, UpstreamPlanError } from "./plan";
import { StackFileError } from "./stack-config";

export { EXIT };

const USAGE =
    "usage: npm run plan -- [--stack <dev|staging|prod>] [--json FILE] [--set key=value]... [--policy-config FILE] [--ref <org/project/stack>=PLAN.json]...";

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

function readPlanFile(file: string): Plan {
    let plan: Partial<Plan> | null;
    try {
        plan = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Plan> | null;
    } catch (e) {
        throw new UsageError(`cannot read the plan ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (plan?.format !== PLAN_FORMAT) throw new UsageError(`${file} is not a plan (format ${PLAN_FORMAT})`);
    return plan as Plan;
}

export async function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): Promise<number> {
    let values: {
        stack?: string;
        json?: string;
        set?: string[];
        ref?: string[];
        "policy-config"?: string;
        help?: boolean;
    };
    try {
        const options = {
            stack: { type: "string", default: "dev" },
            json: { type: "string" },
            set: { type: "string", multiple: true },
            ref: { type: "string", multiple: true },
            "policy-config": { type: "string" },
            help: { type: "boolean" },
        } as const;
        ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
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
        const overrides = Object.fromEntries((values.set ?? []).map((s) => parseSetting(s, "lakehouse-platform")));
        const policyConfig = values["policy-config"] ? readPolicyConfigFile(values["policy-config"]) : undefined;
        // Refused before planning: a plan that cannot be written is bad input, not a failure after the fact.
        if (values.json) assertWritable(values.json);
        const upstreamPlans: Record<string, Plan> = {};
        for (const ref of values.ref ?? []) {
            const at = ref.indexOf("=");
            if (at <= 0) throw new UsageError(`--ref ${ref}: expected <stack name>=<plan file>`);
            upstreamPlans[ref.slice(0, at)] = readPlanFile(ref.slice(at + 1));
        }
        const plan = await planStack(stack, { overrides, policyConfig, upstreamPlans });
        out(renderPlan(plan));
        if (values.json) {
            fs.writeFileSync(values.json, JSON.stringify(plan, null, 2) + "\n");
            out(`\nwrote ${values.json}`);
        }
        return plan.summary.mandatory > 0 ? EXIT.violations : EXIT.ok;
    } catch (e) {
        const cause = e instanceof ProgramError ? e.cause : e;
        if (
            cause instanceof ConfigError ||
            cause instanceof StackFileError ||
            cause instanceof UsageError ||
            cause instanceof UpstreamPlanError ||
            cause instanceof ContractError ||
            cause instanceof ResourcesFileError ||
            cause instanceof PackConfigError
        ) {
            err(`plan: ${cause.message}`);
            return EXIT.badInput;
        }
        if (cause instanceof PolicyFailure || cause instanceof PackStartError) {
            err(`plan: ${cause.message}`);
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
