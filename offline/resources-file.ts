// What `npm run check` reads: a resources file (a plan, or a list of resources from any program)
// as the engine's view of its resources, and a --policy-pack-config file; and the gate over both.
import * as fs from "fs";
import { customResource, EngineResource, unmaskSecrets } from "./crossguard/engine-view";
import { ConfigLayer, runGate } from "./crossguard/gate";
import { STACK_TYPE } from "./engine";
import { engineResourcesOfPlan, Plan, PLAN_FORMAT } from "./plan";
import { isMap } from "../policies/lib/strings";

export class ResourcesFileError extends Error {}

export interface ResourcesFile {
    resources: EngineResource[];
    /** The pack configuration a plan carries. */
    config?: ConfigLayer;
    stack: string;
    project: string;
}

const FILE_PROJECT = "file";
const FILE_STACK = "check";

/** The resources (and the pack configuration a plan carries) of a resources file's JSON. */
export function readResources(doc: unknown, source = "the file"): ResourcesFile {
    if (isMap(doc) && typeof doc.format === "string") {
        if (doc.format !== PLAN_FORMAT)
            throw new ResourcesFileError(
                `${source}: unsupported format ${JSON.stringify(doc.format)}; this version reads ${PLAN_FORMAT} (plan the stack again)`,
            );
        if (!Array.isArray(doc.resources)) throw new ResourcesFileError(`${source}: a plan without a resources list`);
        const plan = doc as unknown as Plan;
        const config =
            isMap(plan.policy) && isMap(plan.policy.config)
                ? { doc: plan.policy.config, source: `carried by ${source}` }
                : undefined;
        return { resources: engineResourcesOfPlan(plan.resources), config, stack: plan.stack, project: plan.project };
    }
    const list = Array.isArray(doc) ? doc : isMap(doc) && Array.isArray(doc.resources) ? doc.resources : undefined;
    if (!list)
        throw new ResourcesFileError(`${source}: expected a plan, a list of resources, or { "resources": [...] }`);
    const root = customResource({
        urn: `urn:pulumi:${FILE_STACK}::${FILE_PROJECT}::${STACK_TYPE}::${FILE_PROJECT}-${FILE_STACK}`,
        type: STACK_TYPE,
        name: `${FILE_PROJECT}-${FILE_STACK}`,
        custom: false,
        inputs: {},
    });
    const resources = list.map((item: unknown, i): EngineResource => {
        if (!isMap(item)) throw new ResourcesFileError(`${source}: resources[${i}] is not an object`);
        if (typeof item.type !== "string" || typeof item.name !== "string")
            throw new ResourcesFileError(`${source}: resources[${i}] needs a string type and name`);
        const props = item.inputs ?? item.props ?? {};
        if (!isMap(props)) throw new ResourcesFileError(`${source}: resources[${i}].inputs is not an object`);
        const outputs = isMap(item.outputs) ? item.outputs : isMap(item.state) ? item.state : props;
        const urn =
            typeof item.urn === "string"
                ? item.urn
                : `urn:pulumi:${FILE_STACK}::${FILE_PROJECT}::${item.type}::${item.name}`;
        return customResource({
            urn,
            type: item.type,
            name: item.name,
            inputs: unmaskSecrets(props) as Record<string, unknown>,
            outputs: unmaskSecrets(outputs) as Record<string, unknown>,
            parent: root.urn,
        });
    });
    return { resources: [root, ...resources], stack: FILE_STACK, project: FILE_PROJECT };
}

function readJson(file: string, what: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new ResourcesFileError(
            `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : e instanceof Error ? e.message : String(e)}`,
        );
    }
    try {
        return JSON.parse(text);
    } catch (e) {
        throw new ResourcesFileError(`${what} ${file} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
}

/** Reads a `--policy-pack-config` file as a configuration layer. */
export function readPolicyConfigFile(file: string): ConfigLayer {
    return { doc: readJson(file, "the policy config"), source: file };
}

export async function checkFile(file: string, policyConfigFile?: string) {
    const parsed = readResources(readJson(file, "the resources file"), file);
    const layers: ConfigLayer[] = [];
    if (parsed.config) layers.push(parsed.config);
    if (policyConfigFile) layers.push(readPolicyConfigFile(policyConfigFile));
    const identity = {
        organization: "organization",
        project: parsed.project,
        stack: parsed.stack,
        dryRun: true,
        config: {},
    };
    return { gate: await runGate(parsed.resources, identity, layers), resources: parsed.resources.length };
}
