// The commands as a user runs them: `npm run <command>` in the project (or the script's own line,
// which is what npm runs), a process of its own, its exit status and what it prints. What each
// command decides is tested in-process (plan.test.ts, check); here, that the documented status
// reaches the shell, with no crash dump.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { PROJECT_DIR } from "../offline/stack-config";
import { npm, script, scripts, TOOL_SCRIPT } from "./helpers/commands";

describe("npm run plan, as a command", () => {
    it("prints the dev report and exits 0, as `npm run plan` from the project", function () {
        this.timeout(60_000);
        const r = npm(["plan"]);
        assert.equal(r.status, 0, r.stderr);
        for (const section of [
            "· stack dev (environment dev) · offline plan",
            "Resources (",
            "Wiring (",
            "Outputs",
            "Policies (",
            "mandatory violations: 0",
            "Result: no mandatory violation.",
        ]) {
            assert.ok(r.stdout.includes(section), `missing ${section}`);
        }
        assert.match(
            r.stdout,
            /trino\s+database\s+thrift:\/\/hive-metastore\.database\.svc\.cluster\.local:9083\s+9083\s+Release trino: values\.catalogs\.lakehouse › hive\.metastore\.uri/,
        );
    });

    it("exits 2 with a clear message for an unknown stack, run as a command", function () {
        this.timeout(60_000);
        const r = script("plan", ["--stack", "qa"]);
        assert.equal(r.status, 2);
        assert.match(
            r.stderr,
            /no stack "qa": Pulumi\.qa\.yaml does not exist \(stacks here: (.*, )?dev, (.*, )?prod, (.*, )?staging/,
        );
    });
});

describe("exit codes, as documented, from every command", () => {
    it("answers --help with its usage and 0, on every command", function () {
        this.timeout(120_000);
        // What `npm run <command> -- --help` runs: the script's line, with the arguments after `--`
        // appended, under sh. npm itself passes them on as the first case shows (and the others above).
        assert.match(npm(["plan", "--", "--help"]).stdout, /usage: npm run plan/);
        const lines = scripts();
        for (const command of ["plan", "check", "bench", "test:e2e", "sync-config", "chart-keys", "readme"]) {
            assert.match(lines[command], TOOL_SCRIPT, command);
            const r = spawnSync("sh", ["-c", `${lines[command]} --help`], { cwd: PROJECT_DIR, encoding: "utf8" });
            assert.equal(r.status, 0, `${command}: ${r.stderr}`);
            assert.match(r.stdout, new RegExp(`^usage: npm run ${command}\\b`), command);
        }
    });
});
