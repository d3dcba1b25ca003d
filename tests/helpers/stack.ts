// The one test helper around the offline engine: every test that runs the program goes through
// here, so there is one mock for the whole mocha process (see offline/engine.ts).
import { isSecretValue, ProgramError, RecordedResource, unwrapSecrets } from "../../offline/engine";
import { Plan, planOfRun } from "../../offline/plan";
import {
    platformConfigOf,
    platformView,
    programResources,
    runStack,
    StackRun,
    StackRunOptions,
} from "../../offline/run-stack";
import { shared } from "./shared";

export { isSecretValue, unwrapSecrets };
export type { RecordedResource, StackRun };

/** A finished run with lookups over what it registered. */
export class Run {
    constructor(public readonly raw: StackRun) {}

    get outputs(): Record<string, unknown> {
        return unwrapSecrets(this.raw.outputs);
    }

    /** The platform component's outputs: the full contract, `addresses`, `namespaces`, `wiring`, `wiringChecks`. */
    get view(): Record<string, unknown> {
        return unwrapSecrets(platformView(this.raw));
    }

    /** Everything the program registered (not the stack root). */
    get resources(): RecordedResource[] {
        return programResources(this.raw.resources);
    }

    ofType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The one resource of `type` named `name`; fails the test when there is not exactly one. */
    one(type: string, name: string): RecordedResource {
        const found = this.ofType(type).filter((r) => r.name === name);
        if (found.length !== 1) {
            const names = this.ofType(type).map((r) => r.name);
            throw new Error(
                `expected one ${type} named ${name}, found ${found.length} (names: ${names.join(", ") || "none"})`,
            );
        }
        return found[0];
    }

    /** Inputs with secrets unwrapped, as a provider would see them. */
    inputs(r: RecordedResource): Record<string, any> {
        return unwrapSecrets(r.inputs) as Record<string, any>;
    }

    byUrn(urn: string): RecordedResource | undefined {
        return this.raw.resources.find((r) => r.urn === urn);
    }
}

// A run of the program depends only on the stack file and the options: the same plain run (a
// stack, with or without overrides and preview) is made once per mocha process and shared. Tests
// read runs and never change them (judgeRun's `edit` maps a copy).
const plainRuns = new Map<string, Promise<Run>>();

function plainKey(stack: string, options: StackRunOptions): string | undefined {
    const { overrides, preview, ...rest } = options;
    if (Object.values(rest).some((v) => v !== undefined)) return undefined;
    return JSON.stringify([stack, overrides ?? {}, preview ?? false]);
}

export async function run(stack: string, options: StackRunOptions = {}): Promise<Run> {
    const key = plainKey(stack, options);
    if (key === undefined) return new Run(await runStack(stack, options));
    return shared(plainRuns, key, () => runStack(stack, options).then((r) => new Run(r)));
}

const plainPlans = new Map<string, Promise<Plan>>();

/**
 * The plan `npm run plan -- --stack <stack>` makes, made once per mocha process like the plain
 * runs: the plan of the shared plain run (the same program run `planStack` would make), judged.
 */
export function plannedStack(stack: string): Promise<Plan> {
    return shared(plainPlans, stack, async () => planOfRun((await run(stack)).raw, platformConfigOf(stack)));
}

/** Runs a stack that must fail; returns the program's error and what was registered before it. */
export async function runFailing(stack: string, options: StackRunOptions = {}): Promise<ProgramError> {
    try {
        await runStack(stack, options);
    } catch (err) {
        if (err instanceof ProgramError) return err;
        throw err;
    }
    throw new Error(`stack ${stack} was expected to fail, and ran`);
}
