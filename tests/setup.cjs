// Loaded by mocha before any test (.mocharc.cjs). The suite runs in parallel, one worker per core
// (--jobs 2): the global setup runs once, in mocha's own process, before any worker starts; the
// root hook runs in each process that runs tests. Plain CommonJS: in a parallel run, mocha's own
// process only runs the global setup and starts the workers, and loads no TypeScript, so ts-node
// (and the TypeScript compiler with it, 0.3 s) is registered when the first TypeScript file is
// loaded: in each worker, or in mocha's own process when the suite runs serially.
const { spawnSync } = require("child_process");
const path = require("path");

require.extensions[".ts"] = function firstTypeScriptFile(module, filename) {
    delete require.extensions[".ts"];
    require("ts-node/register/transpile-only");
    // Before any test file loads the Pulumi SDK, as the offline tools do (see policies/lib/sdk-load.ts).
    require("../policies/lib/sdk-load.ts").deferArborist();
    return require.extensions[".ts"](module, filename);
};

/** The policy tests run the pack as shipped, from policies/bin/: it is compiled first when a source is newer than the build. */
exports.mochaGlobalSetup = function () {
    const built = spawnSync(
        process.execPath,
        [path.join(__dirname, "..", "offline", "launch.mjs"), "--build-if-stale"],
        { stdio: "inherit" },
    );
    if (built.status !== 0) throw new Error("the sources do not compile (see above)");
};

exports.mochaHooks = {
    async afterAll() {
        // A worker runs root hooks around every file, and lives until the suite ends: its pack is
        // shared by the files it runs, and stopped with it (gate.ts kills it on process exit).
        // Serially, this is the end of the suite, and the pack's channels would keep mocha alive.
        if (process.env.MOCHA_WORKER_ID === undefined) await require("../offline/crossguard/gate.ts").stopSharedPack();
    },
};
