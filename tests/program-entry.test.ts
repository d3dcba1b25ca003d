// The program's entry (program.js, package.json `main`): what the language host runs. It must run
// the compiled program when the build is current, and the TypeScript sources when a source is newer,
// so a preview never runs a program older than the checkout.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { tmp } from "./helpers/commands";

const ROOT = path.join(__dirname, "..");

/** A project of program.js and the build's freshness, whose program says which of its two forms ran. */
function project(): string {
    const dir = tmp("program-entry");
    fs.mkdirSync(path.join(dir, "offline"), { recursive: true });
    fs.mkdirSync(path.join(dir, ".build"), { recursive: true });
    for (const f of ["program.js", "offline/build-state.cjs", "tsconfig.json"])
        fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, "index.ts"), 'const form: string = "sources";\nexport = () => form;\n');
    fs.writeFileSync(path.join(dir, ".build", "index.js"), 'module.exports = () => "compiled";\n');
    fs.mkdirSync(path.join(dir, ".build", "policies", "lib"), { recursive: true });
    fs.copyFileSync(
        path.join(ROOT, ".build", "policies", "lib", "sdk-load.js"),
        path.join(dir, ".build", "policies", "lib", "sdk-load.js"),
    );
    return dir;
}

function stampNow(dir: string, secondsFromNow = 0): void {
    const stamp = path.join(dir, ".build", ".stamp");
    fs.writeFileSync(stamp, "");
    const t = new Date(Date.now() + secondsFromNow * 1000);
    fs.utimesSync(stamp, t, t);
}

/** What the language host would get: the entry's export, called. */
function ran(dir: string): string {
    // The language host's runner installs source-map-support before it loads the program (cmd/run/index.js).
    const script = 'require("source-map-support/register"); process.stdout.write(require("./program.js")())';
    return execFileSync(process.execPath, ["-e", script], {
        cwd: dir,
        encoding: "utf8",
    });
}

describe("the program's entry (program.js)", function () {
    this.timeout(60_000);

    it("runs the compiled program when the build is newer than every source", () => {
        const dir = project();
        stampNow(dir, 5);
        assert.equal(ran(dir), "compiled");
    });

    it("loads the SDK as the program uses it: without npm's Arborist, stack traces in V8's format", () => {
        const dir = project();
        stampNow(dir, 5);
        fs.writeFileSync(
            path.join(dir, ".build", "index.js"),
            [
                'require("@pulumi/pulumi");',
                "const loaded = Object.keys(require.cache);",
                "module.exports = () => JSON.stringify({",
                '    pacote: loaded.some((f) => f.includes("/node_modules/pacote/")),',
                "    format: typeof Error.prepareStackTrace,",
                "    frame: /at .*index\\.js:\\d+:\\d+/.test(new Error().stack),",
                "});",
            ].join("\n"),
        );
        assert.deepEqual(JSON.parse(ran(dir)), { pacote: false, format: "undefined", frame: true });
    });

    it("runs the TypeScript sources when one is newer than the build, or there is no build", () => {
        const dir = project();
        stampNow(dir, -60);
        assert.equal(ran(dir), "sources");
        fs.rmSync(path.join(dir, ".build", ".stamp"));
        assert.equal(ran(dir), "sources");
    });

    it("is what the project runs: Pulumi.yaml without TypeScript, package.json's main", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { main: string };
        assert.equal(pkg.main, "program.js");
        assert.match(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"), /options:\n {4}typescript: false\n/);
    });
});
