// Loaded by mocha before any test (.mocharc.cjs). The suite runs in parallel, one worker per core
// (--jobs 2): the global setup runs once, in mocha's own process, before any worker starts; the
// root hook runs in each process that runs tests. Nothing heavy is imported here: mocha's own
// process loads this file before it starts the workers.
import { spawnSync } from "child_process";
import * as path from "path";
import { deferArborist } from "../offline/sdk-load";

// Before any test file loads the Pulumi SDK, as the offline tools do (see offline/sdk-load.ts).
deferArborist();

/** The policy tests run the pack as shipped, from policies/bin/: it is compiled first when a source is newer than the build. */
export function mochaGlobalSetup(): void {
    const built = spawnSync(
        process.execPath,
        [path.join(__dirname, "..", "offline", "launch.mjs"), "--build-if-stale"],
        { stdio: "inherit" },
    );
    if (built.status !== 0) throw new Error("the sources do not compile (see above)");
}

export const mochaHooks = {
    async afterAll(): Promise<void> {
        // A worker runs root hooks around every file, and lives until the suite ends: its pack is
        // shared by the files it runs, and stopped with it (gate.ts kills it on process exit).
        // Serially, this is the end of the suite, and the pack's channels would keep mocha alive.
        if (process.env.MOCHA_WORKER_ID === undefined)
            await (await import("../offline/crossguard/gate")).stopSharedPack();
    },
};
