// The program's entry (package.json `main`; Pulumi.yaml runs it as JavaScript). Normally the
// program compiled to .build/ by `npm ci` (its `prepare`) or `npm run build`: every `pulumi
// preview` and `pulumi up` is spared loading the TypeScript compiler, ts-node and swc. When a
// source is newer than that build, the sources themselves run through ts-node (tsconfig.json's swc
// transpiler), as `typescript: true` would: a checkout's program is never older than its files.
"use strict";
const { stale } = require("./offline/build-state.cjs");

if (stale()) {
    require("ts-node").register();
    module.exports = require("./index.ts");
} else {
    // npm's Arborist, which the SDK loads and the program never uses, loads on first use (0.4 s).
    require("./.build/policies/lib/sdk-load.js").deferArborist();
    // The SDK takes a stack trace for every resource and promise it makes, and the language host
    // formats each through source-map-support, which reads the SDK's own source maps (0.5 s a
    // preview). The compiled program has none, so V8's own format gives the same file, line and
    // column for the program's frames, which is what the engine records.
    Error.prepareStackTrace = undefined;
    module.exports = require("./.build/index.js");
}
