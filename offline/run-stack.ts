// Runs this project's program for one stack, offline: the stack's own config file as the CLI
// would pass it, the program from index.ts, the SDK's mock monitor (see engine.ts).
import * as path from "path";
import { ConfigError, parsePlatformConfig, PlatformConfig, splitKeys } from "../components/config";
import { PlatformPolicyConfig, StackSettings } from "../policies/lib/config";
import { PLATFORM_TYPE } from "../policies/lib/platform";
import { EngineResource, engineView, EngineViewOptions } from "./crossguard/engine-view";
import { StackIdentity } from "./crossguard/pack-host";
import { ClusterObject, RecordedResource, runProgram, RunResult, StackOutputs, STACK_TYPE } from "./engine";
import { loadProject, Project, StackConfig, stackConfig } from "./stack-config";

export interface StackRunOptions {
    /** Values set over the stack file (keys as in the stack file; `undefined` removes one). */
    overrides?: Record<string, unknown>;
    preview?: boolean;
    /** Outputs of stacks read through `pulumi.StackReference`, by stack name. */
    stackReferences?: StackOutputs;
    /** Objects that exist in the cluster, for `.get` reads (see `clusterObjectsOf`). */
    cluster?: ClusterObject[];
    project?: Project;
    /** Another program in place of this project's index.ts (the benchmark's empty program). */
    program?: Program;
    /** See RunOptions.stackTraces (engine.ts). */
    stackTraces?: boolean;
}

export interface StackRun extends RunResult {
    stack: string;
    project: Project;
    /** The config map the program ran with (fully qualified keys, string values). */
    config: Record<string, string>;
}

export type Program = () => Record<string, unknown> | Promise<Record<string, unknown>>;

export async function runStack(stack: string, options: StackRunOptions = {}): Promise<StackRun> {
    const project = options.project ?? loadProject();
    const sc = stackConfig(project, stack, options.overrides);
    // What the CLI would refuse (a stack file's shape, a value's type) stops the run before the
    // program, reported with every problem the program finds in the rest.
    if (sc.problems.length > 0) configOf(sc, project, stack);
    const config = sc.config;
    const result = await runProgram({
        project: project.name,
        stack,
        config,
        secretKeys: sc.secretKeys,
        preview: options.preview,
        stackReferences: options.stackReferences,
        cluster: options.cluster,
        stackTraces: options.stackTraces,
        // Loaded only now, after the mocks are set, as the language host loads it after connecting:
        // this project's index.ts (index.js when running compiled, from `.build/`).
        program:
            options.program ??
            (async () => ((await import(path.join(__dirname, "..", "index"))) as { default: Program }).default()),
    });
    return { ...result, stack, project, config };
}

/**
 * The platform's view of a run: its component's outputs (the full contract, `addresses`,
 * `namespaces`, `wiring`, `wiringChecks`), which the stack outputs leave off (docs/outputs.md).
 */
export function platformView(run: Pick<RunResult, "resources">): Record<string, unknown> {
    const platform = run.resources.find((r) => r.type === PLATFORM_TYPE);
    return platform?.outputs ?? {};
}

/** The resources of a run that the program registered (everything but the stack root). */
export function programResources(resources: RecordedResource[]): RecordedResource[] {
    return resources.filter((r) => r.type !== STACK_TYPE);
}

/** The typed configuration of a stack file, as the program loads it (throws ConfigError). */
export function platformConfigOf(
    stack: string,
    overrides?: Record<string, unknown>,
    project = loadProject(),
): PlatformConfig {
    return configOf(stackConfig(project, stack, overrides), project, stack);
}

/** The program's reading of a stack's config, with the problems the CLI's checks found first. */
export function configOf(sc: StackConfig, project: Project, stack: string): PlatformConfig {
    const { raw, foreign } = splitKeys(sc.config, project.name);
    const prefix = `${project.name}:`;
    const secretKeys = new Set(sc.secretKeys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)));
    const config = parsePlatformConfig(raw, project.name, stack, {
        foreign,
        secretKeys,
        earlier: sc.problems,
        cwd: project.dir,
    });
    if (sc.problems.length > 0) throw new ConfigError(stack, sc.problems);
    return config;
}

/** A run's resources as the engine presents them to the policy pack (see crossguard/engine-view.ts). */
export function engineResources(
    run: Pick<StackRun, "resources" | "stack" | "project">,
    rendered?: EngineViewOptions["rendered"],
): EngineResource[] {
    return engineView(run.resources, { project: run.project.name, stack: run.stack, rendered });
}

/** The stack's identity and config as the CLI hands them to a policy pack. */
export function packIdentity(
    stack: string,
    project: Project,
    config: Record<string, string>,
    dryRun = true,
): StackIdentity {
    return { organization: "organization", project: project.name, stack, dryRun, config };
}

/** The policy settings that describe a stack: its cluster domain, namespaces and client namespaces. */
export function policyConfigOf(config: PlatformConfig): PlatformPolicyConfig {
    return {
        clusterDomain: config.clusterDomain,
        namespaces: { ...config.namespaces },
        allowedHosts: [],
        clientNamespaces: [...config.network.clientNamespaces],
    };
}

/**
 * The stack's own settings as a policy config layer (what the pack reads from the stack's config
 * under the CLI: policies/lib/config.ts `stackSettings`), for every policy whose schema takes
 * them. The offline engine's pack process serves every stack of a run, so the stack's settings
 * travel in this layer, laid last as the CLI's pack lets the stack win over a file.
 */
export function stackPolicyDoc(
    config: PlatformConfig,
    policies: readonly { name: string; configSchema?: { properties: object } }[],
): Record<string, StackSettings> {
    const { clusterDomain, namespaces, clientNamespaces } = policyConfigOf(config);
    const doc: Record<string, StackSettings> = {};
    for (const p of policies)
        if (p.configSchema && "clusterDomain" in p.configSchema.properties)
            doc[p.name] = structuredClone({ clusterDomain, namespaces, clientNamespaces });
    return doc;
}
