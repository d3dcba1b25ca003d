// Whether the compiled JavaScript in .build/ is as new as the TypeScript it comes from: shared by
// the offline tools' launcher (offline/launch.mjs, which compiles when it is not) and the
// program's entry (program.js, which runs the sources through ts-node when it is not). CommonJS,
// because the language host `require`s the program's entry.
"use strict";
const { existsSync, readdirSync, statSync } = require("node:fs");
const { dirname, join } = require("node:path");

const root = dirname(__dirname);
const build = join(root, ".build");
/** Written after both builds (the program and tools, the policy pack) succeeded. */
const stamp = join(build, ".stamp");
/** What the build compiles, and what changes its output. */
const SOURCES = [
    "index.ts",
    "components",
    "policies",
    "offline",
    "tests/e2e",
    "tests/cluster",
    "tests/node",
    "tsconfig.json",
    "tsconfig.build.json",
    "package-lock.json",
];

/** The newest modification time of the TypeScript and JSON files at or below `path`. */
function newest(path) {
    const s = statSync(path);
    if (!s.isDirectory()) return path.endsWith(".ts") || path.endsWith(".json") ? s.mtimeMs : 0;
    let t = 0;
    for (const entry of readdirSync(path))
        if (entry !== "node_modules" && entry !== "bin") t = Math.max(t, newest(join(path, entry)));
    return t;
}

/** True when there is no build, or a source is newer than it. */
function stale() {
    if (!existsSync(stamp)) return true;
    const built = statSync(stamp).mtimeMs;
    return SOURCES.some((s) => existsSync(join(root, s)) && newest(join(root, s)) > built);
}

module.exports = { root, build, stamp, stale };
