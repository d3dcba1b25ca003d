// Loaded by mocha before any test (.mocharc.json): the policy tests run the pack as shipped, from
// policies/bin/, so it is compiled first when a source is newer than the build; and the pack the
// suite started is stopped at the end.
import { spawnSync } from "child_process";
import * as path from "path";
import { stopSharedPack } from "../offline/crossguard/gate";

const built = spawnSync(process.execPath, [path.join(__dirname, "..", "offline", "launch.mjs"), "--build-if-stale"], {
    stdio: "inherit",
});
if (built.status !== 0) throw new Error("the sources do not compile (see above)");

export const mochaHooks = {
    async afterAll(): Promise<void> {
        await stopSharedPack();
    },
};
