// Running the offline commands in the test's process, as the launcher runs them: what they print
// to stdout and stderr, and the exit status their main returns.
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main as plan } from "../../offline/plan-cli";
import { loadProject, Project, PROJECT_DIR } from "../../offline/stack-config";
import { shared } from "./shared";

export type CommandMain = (
    argv: string[],
    out: (s: string) => void,
    err: (s: string) => void,
    project?: Project,
) => Promise<number>;

export async function capture(fn: CommandMain, argv: string[], project?: Project) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await fn(
        argv,
        (s) => out.push(s),
        (s) => err.push(s),
        project,
    );
    return { code, out: out.join("\n"), err: err.join("\n") };
}

/** `npm run -s <args>` in the project, as a user types it: a process of its own. */
export function npm(args: string[]): SpawnSyncReturns<string> {
    return spawnSync("npm", ["run", "-s", ...args], { cwd: PROJECT_DIR, encoding: "utf8" });
}

/** The package.json scripts of the project. */
export function scripts(): Record<string, string> {
    return (JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as PackageJson).scripts;
}
type PackageJson = { scripts: Record<string, string> };

/** A script that runs one tool of offline/launch.mjs, as every command of the project does. */
export const TOOL_SCRIPT = /^node offline\/launch\.mjs [\w-]+$/;

/**
 * What `npm run <command> -- <args>` runs, without npm around it: the script's own line
 * (`node offline/launch.mjs <tool>`) with the arguments after it, in the project, a process of
 * its own. (commands.test.ts shows that npm runs that line and hands its exit status on.)
 */
export function script(command: string, args: string[]): SpawnSyncReturns<string> {
    const line = scripts()[command];
    if (!TOOL_SCRIPT.test(line ?? ""))
        throw new Error(`package.json's ${command} script is not one tool of offline/launch.mjs: ${line}`);
    const [node, ...fixed] = line.split(" ");
    return spawnSync(node, [...fixed, ...args], { cwd: PROJECT_DIR, encoding: "utf8" });
}

/** A path named `name` in a new temporary directory. */
export function tmp(name: string): string {
    return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), name);
}

/**
 * A project directory of its own: this project's Pulumi.yaml, its charts (the default Dagster
 * chart is a path in the project) and the stack files given. Tests write stack files there, never
 * into the project, where the other worker lists the stacks.
 */
export function projectWith(files: Record<string, string>): Project {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-files-"));
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.symlinkSync(path.join(PROJECT_DIR, "charts"), path.join(dir, "charts"));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return loadProject(dir);
}

const storagePlans = new Map<string, Promise<string>>();

/**
 * The plan file of a storage stack (`components=["garage","database"]`, dev's file otherwise),
 * written by `npm run plan -- ... --json FILE` once per process for each `downstreamComponents`
 * (none: a storage stack that issues no key to any other stack). Tests read it and never change it.
 */
export function storagePlanFile(downstream: string[] = []): Promise<string> {
    return shared(storagePlans, JSON.stringify(downstream), async () => {
        const file = tmp("storage.json");
        const set = ["--set", 'components=["garage","database"]'];
        if (downstream.length > 0) set.push("--set", `downstreamComponents=${JSON.stringify(downstream)}`);
        const r = await capture(plan, [...set, "--json", file]);
        if (r.code !== 0) throw new Error(`the storage plan failed (exit ${r.code}): ${r.err}`);
        return file;
    });
}
