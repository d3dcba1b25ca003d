// Runs this project's program for one stack, offline: the stack's own config file as the CLI
// would pass it, the program from index.ts, the SDK's mock monitor (see engine.ts).
import * as path from "path";
import { parsePlatformConfig, PlatformConfig, projectKeys } from "../components/config";
import { PlatformPolicyConfig } from "../policies/lib/config";
import { ClusterObject, RecordedResource, runProgram, RunResult, StackOutputs, STACK_TYPE, unwrapSecrets } from "./engine";
import { ResourceForPolicy } from "./policy-runner";
import { loadProject, Project, stackConfig } from "./stack-config";

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
}

export type Program = () => Record<string, unknown> | Promise<Record<string, unknown>>;

export async function runStack(stack: string, options: StackRunOptions = {}): Promise<StackRun> {
    const project = options.project ?? loadProject();
    const config = stackConfig(project, stack, options.overrides);
    const result = await runProgram({
        project: project.name,
        stack,
        config,
        preview: options.preview,
        stackReferences: options.stackReferences,
        cluster: options.cluster,
        stackTraces: options.stackTraces,
        // Loaded only now, after the mocks are set, as the language host loads it after connecting:
        // this project's index.ts (index.js when running compiled, from `.build/`).
        program: options.program ?? (async () => ((await import(path.join(__dirname, "..", "index"))) as { default: Program }).default()),
    });
    return { ...result, stack, project };
}

/** The resources of a run that the program registered (everything but the stack root). */
export function programResources(resources: RecordedResource[]): RecordedResource[] {
    return resources.filter((r) => r.type !== STACK_TYPE);
}

/** The typed configuration of a stack file, as the program loads it (throws ConfigError). */
export function platformConfigOf(stack: string, overrides?: Record<string, unknown>, project = loadProject()): PlatformConfig {
    return parsePlatformConfig(projectKeys(stackConfig(project, stack, overrides), project.name), project.name, stack);
}

/** A run's resources as the policies see them: inputs for resource policies, state for stack policies. */
export function policyResources(resources: RecordedResource[]): ResourceForPolicy[] {
    return programResources(resources).map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: unwrapSecrets(r.inputs),
        outputs: unwrapSecrets(r.state),
        parent: r.parent,
        protect: r.protect,
        dependencies: r.dependencies,
    }));
}

/** The policy configuration that describes a stack: its cluster domain and namespaces. */
export function policyConfigOf(config: PlatformConfig): PlatformPolicyConfig {
    return { clusterDomain: config.clusterDomain, namespaces: { ...config.namespaces }, allowedHosts: [], clientNamespaces: [...config.network.clientNamespaces] };
}
