// Running the offline commands in the test's process, as the launcher runs them: what they print
// to stdout and stderr, and the exit status their main returns.
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadProject, Project, PROJECT_DIR } from "../../offline/stack-config";

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

/** A path named `name` in a new temporary directory. */
export function tmp(name: string): string {
    return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), name);
}

/**
 * A project directory of its own: this project's Pulumi.yaml and the stack files given. Tests
 * write stack files there, never into the project, where the other worker lists the stacks.
 */
export function projectWith(files: Record<string, string>): Project {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-files-"));
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return loadProject(dir);
}
