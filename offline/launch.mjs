// Runs one of the offline tools compiled (`node offline/launch.mjs plan-cli --stack dev`; with
// `--build`, only compiles; with `--build-if-stale`, compiles when a source changed): the
// JavaScript in .build/ spares each run the TypeScript compiler and the source-map stack traces
// ts-node adds to every promise the SDK makes. Compiles first when a source is newer than the build.
import { spawnSync } from "node:child_process";
import { utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import process from "node:process";
import buildState from "./build-state.cjs";

const { root, build, stamp, stale } = buildState;

// `--build` compiles whatever the state; `--build-if-stale` (the test suite's setup) only when a source is newer.
const force = process.argv[2] === "--build";
const onlyBuild = force || process.argv[2] === "--build-if-stale";
if (force || stale()) {
    // Two builds: the program and tools to .build/, and the policy pack to policies/bin/ (its own
    // package, whose `main` the Pulumi CLI loads; see policies/tsconfig.json).
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    for (const [what, project] of [
        ["the program and tools to .build/", join(root, "tsconfig.build.json")],
        ["the policy pack to policies/bin/", join(root, "policies", "tsconfig.json")],
    ]) {
        process.stderr.write(`compiling ${what} (tsc -p ${project.slice(root.length + 1)}) ...\n`);
        const r = spawnSync(process.execPath, [tsc, "-p", project], { stdio: "inherit", cwd: root });
        if (r.status !== 0) {
            process.stderr.write(
                "the TypeScript sources do not compile (see above); fix them, or run `npm run typecheck`.\n",
            );
            process.exit(3);
        }
    }
    writeFileSync(stamp, "");
    const now = new Date();
    utimesSync(stamp, now, now);
}

if (onlyBuild) process.exit(0);

const [tool, ...args] = process.argv.slice(2);
if (!tool || !/^[\w-]+$/.test(tool)) {
    process.stderr.write("usage: node offline/launch.mjs <tool> [args...]\n");
    process.exit(2);
}
// Before any tool loads the Pulumi SDK (see policies/lib/sdk-load.ts).
createRequire(import.meta.url)(join(build, "policies", "lib", "sdk-load.js")).deferArborist();
const { main } = createRequire(import.meta.url)(join(build, "offline", `${tool}.js`));
if (typeof main !== "function") {
    process.stderr.write(`offline/${tool}.ts exports no main(argv)\n`);
    process.exit(2);
}
try {
    process.exitCode = await main(args);
} catch (e) {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 3;
} finally {
    // The policy pack a tool started (and its gRPC channels) would keep the process alive; a tool
    // that never loaded the gate (`--help`) started none, and is not made to load it now.
    const require = createRequire(import.meta.url);
    const gate = join(build, "offline", "crossguard", "gate.js");
    if (require.cache[gate]) await require(gate).stopSharedPack();
}
