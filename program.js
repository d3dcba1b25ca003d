// The program's entry (package.json `main`; Pulumi.yaml runs it as JavaScript). Normally the
// program compiled to .build/ by `npm ci` (its `prepare`) or `npm run build`: every `pulumi
// preview` and `pulumi up` is spared loading the TypeScript compiler, ts-node and swc (npm run
// bench, "where the preview's time goes"). When a source is newer than that build, the sources
// themselves run through ts-node (tsconfig.json's swc transpiler), as `typescript: true` would:
// a checkout's program is never older than its files.
"use strict";
const { stale } = require("./offline/build-state.cjs");

if (stale()) {
    require("ts-node").register();
    module.exports = require("./index.ts");
} else {
    module.exports = require("./.build/index.js");
}
