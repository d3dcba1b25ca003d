// Exit statuses of `npm run plan` on bad input, as docs/plan.md documents them: 2 with the message,
// never a stack trace or a crash dump (the contract error runs as a process of its own).
import { strict as assert } from "assert";
import * as os from "os";
import * as path from "path";
import { main as plan } from "../offline/plan-cli";
import { capture, projectWith, script, storagePlanFile } from "./helpers/commands";

describe("exit codes, as documented, on bad input", () => {
    it("exits 2, without a stack trace, for a YAML mistake, naming the file, line and column", async () => {
        const project = projectWith({
            "Pulumi.yamlmistake.yaml":
                "config:\n  lakehouse-platform:kubeContext: a\n  lakehouse-platform:kubeContext: b\n",
        });
        const r = await capture(plan, ["--stack", "yamlmistake"], project);
        assert.equal(r.code, 2);
        assert.match(
            r.err,
            /^plan: Pulumi\.yamlmistake\.yaml:3:3: duplicated mapping key; the file is not valid YAML$/m,
        );
        assert.doesNotMatch(r.err, /\n\s+at /);
    });

    it("exits 2 for a split stack's contract error, with the message and no crash dump", async function () {
        this.timeout(120_000);
        const bare = await storagePlanFile();
        const r = script("plan", [
            "--set",
            'components=["trino"]',
            "--set",
            'upstreamStacks=["acme/lakehouse-platform/storage-dev"]',
            "--ref",
            `acme/lakehouse-platform/storage-dev=${bare}`,
        ]);
        assert.equal(r.status, 2);
        assert.match(r.stderr, /publishes no Garage key for trino/);
        assert.doesNotMatch(r.stderr, /triggerUncaughtException|Node\.js v\d|\n\s+at /);
    });

    it("exits 2 for a --json path it cannot write, before planning", async () => {
        const { code, out, err } = await capture(plan, ["--json", path.join(os.tmpdir(), "no-such-dir", "plan.json")]);
        assert.equal(code, 2);
        assert.equal(out, "", "nothing is printed before the refusal");
        assert.match(err, /--json .*: the directory .*no-such-dir does not exist/);
    });
});
