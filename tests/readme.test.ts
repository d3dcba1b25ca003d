// The README shows what the commands print: its sample blocks are their current output
// (`npm run readme` rewrites them).
import { strict as assert } from "assert";
import * as fs from "fs";
import { README, renderReadme } from "../offline/readme";

describe("README", () => {
    it("shows each command's output as the command prints it now (run `npm run readme`)", async function () {
        this.timeout(120_000);
        const text = fs.readFileSync(README, "utf8");
        assert.equal(await renderReadme(text), text);
    });
});
