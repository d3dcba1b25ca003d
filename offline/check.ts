// npm run check -- FILE [--policy-config FILE]
// Runs the pack's policies over a resources file: a plan written by `npm run plan -- --json`, or
// any JSON list of resources ({ type, name, urn?, inputs | props }), from another program too.
// Exit status: 0 no mandatory violation, 1 a mandatory violation, 2 bad input.
import * as fs from "fs";
import { parseArgs } from "util";
import { DEFAULT_CONFIG } from "../policies/lib/config";
import { EXIT } from "./plan-cli";
import { PLAN_FORMAT, planPolicyResources, PlanResource, renderPolicySection } from "./plan";
import { evaluatePolicies, mandatory, PackConfig, packConfigFor, PolicyReport, ResourceForPolicy } from "./policy-runner";
import { isMap } from "../policies/lib/strings";

const USAGE = "usage: npm run check -- FILE [--policy-config FILE]";

export class ResourcesFileError extends Error {}

/** The resources (and the pack configuration a plan carries) of a resources file's JSON. */
export function readResources(doc: unknown): { resources: ResourceForPolicy[]; config?: PackConfig } {
    if (isMap(doc) && typeof doc.format === "string") {
        if (doc.format !== PLAN_FORMAT) throw new ResourcesFileError(`unsupported format ${JSON.stringify(doc.format)}; this version reads ${PLAN_FORMAT}`);
        if (!Array.isArray(doc.resources)) throw new ResourcesFileError("a plan without a resources list");
        const policy = isMap(doc.policy) && isMap(doc.policy.config) ? (doc.policy.config as PackConfig) : undefined;
        return { resources: planPolicyResources(doc.resources as PlanResource[]), config: policy };
    }
    const list = Array.isArray(doc) ? doc : isMap(doc) && Array.isArray(doc.resources) ? doc.resources : undefined;
    if (!list) throw new ResourcesFileError("expected a plan, a list of resources, or { resources: [...] }");
    const resources = list.map((item: unknown, i): ResourceForPolicy => {
        if (!isMap(item)) throw new ResourcesFileError(`resources[${i}] is not an object`);
        if (typeof item.type !== "string" || typeof item.name !== "string") throw new ResourcesFileError(`resources[${i}] needs a string type and name`);
        const props = item.inputs ?? item.props ?? {};
        if (!isMap(props)) throw new ResourcesFileError(`resources[${i}].inputs is not an object`);
        const urn = typeof item.urn === "string" ? item.urn : `urn:pulumi:check::file::${item.type}::${item.name}`;
        const state = isMap(item.state) ? item.state : isMap(item.outputs) ? item.outputs : props;
        return { type: item.type, name: item.name, urn, props, outputs: state };
    });
    return { resources };
}

export async function checkFile(file: string, policyConfigFile?: string): Promise<{ report: PolicyReport; resources: number }> {
    let doc: unknown;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new ResourcesFileError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const { resources, config } = readResources(doc);
    let packConfig = config ?? packConfigFor(DEFAULT_CONFIG);
    if (policyConfigFile) {
        try {
            packConfig = JSON.parse(fs.readFileSync(policyConfigFile, "utf8")) as PackConfig;
        } catch (e) {
            throw new ResourcesFileError(`cannot read ${policyConfigFile}: ${e instanceof Error ? e.message : String(e)}`);
        }
    }
    return { report: await evaluatePolicies(resources, packConfig), resources: resources.length };
}

export async function main(argv: string[], out: (s: string) => void = console.log, err: (s: string) => void = console.error): Promise<number> {
    let parsed: { values: { "policy-config"?: string }; positionals: string[] };
    try {
        parsed = parseArgs({ args: argv, options: { "policy-config": { type: "string" } }, strict: true, allowPositionals: true });
    } catch (e) {
        err(`check: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
        return EXIT.badInput;
    }
    if (parsed.positionals.length !== 1) {
        err(`check: give one resources file\n${USAGE}`);
        return EXIT.badInput;
    }
    try {
        const { report, resources } = await checkFile(parsed.positionals[0], parsed.values["policy-config"]);
        out(renderPolicySection(report, resources).join("\n"));
        const failed = mandatory(report).length;
        out(failed === 0 ? "\nResult: no mandatory violation." : `\nResult: ${failed} mandatory violation(s).`);
        return failed > 0 ? EXIT.violations : EXIT.ok;
    } catch (e) {
        if (e instanceof ResourcesFileError) {
            err(`check: ${e.message}`);
            return EXIT.badInput;
        }
        throw e;
    }
}
