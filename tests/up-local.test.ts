// npm run up:local's choice of CLI and cluster, from what a machine offers. The kind path itself
// needs Docker, which this machine lacks: these tests are what checks it here (docs/testing.md).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { chooseSetup, clusterArg, Machine, onPath } from "./cluster/local";

const laptop: Machine = {
    pulumiDir: "/home/me/.pulumi/bin",
    languageHost: "/home/me/.pulumi/bin/pulumi-language-nodejs",
    kind: true,
    docker: true,
    builtCliParts: false,
};

describe("npm run up:local", () => {
    it("uses the user's pulumi and kind where Docker runs, and never needs the shared folder", () => {
        assert.deepEqual(chooseSetup(laptop, undefined), {
            cli: { from: "path", dir: laptop.pulumiDir, languageHost: laptop.languageHost },
            cluster: "kind",
        });
    });

    it("falls back to the loopback control plane without Docker or kind, with the user's pulumi still", () => {
        for (const m of [
            { ...laptop, docker: false },
            { ...laptop, kind: false },
        ])
            assert.deepEqual(chooseSetup(m, undefined), {
                cli: { from: "path", dir: laptop.pulumiDir, languageHost: laptop.languageHost },
                cluster: "loopback",
            });
        assert.equal((chooseSetup(laptop, "loopback") as { cluster: string }).cluster, "loopback");
    });

    it("builds its own CLI only where the parts no registry serves are at hand", () => {
        const bare = { ...laptop, pulumiDir: undefined, languageHost: undefined };
        assert.deepEqual(chooseSetup({ ...bare, builtCliParts: true }, undefined), {
            cli: { from: "built" },
            cluster: "kind",
        });
        const none = chooseSetup(bare, undefined);
        assert.ok("problem" in none);
        assert.match(none.problem, /no pulumi on PATH: install the Pulumi CLI \(https:\/\/www\.pulumi\.com\//);
    });

    it("says what is missing for --cluster kind, and for a pulumi without its language host", () => {
        const kind = chooseSetup({ ...laptop, docker: false }, "kind");
        assert.ok("problem" in kind);
        assert.match(kind.problem, /needs kind on PATH and a running Docker \(kind found, docker info fails\)/);
        const lone = chooseSetup({ ...laptop, languageHost: undefined }, undefined);
        assert.ok("problem" in lone);
        assert.match(lone.problem, /has no pulumi-language-nodejs beside it or on PATH/);
    });

    it("takes --cluster kind|loopback and nothing else", () => {
        assert.equal(clusterArg([]), undefined);
        assert.equal(clusterArg(["--cluster", "kind"]), "kind");
        assert.equal(clusterArg(["--cluster=loopback"]), "loopback");
        for (const bad of [
            ["--cluster", "minikube"],
            ["--stack", "prod"],
            ["--cluster", "kind", "x"],
        ]) {
            const r = clusterArg(bad);
            assert.ok(typeof r === "object" && "problem" in r, bad.join(" "));
        }
    });

    it("finds an executable on PATH through its links, and skips what is not executable", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "up-local-"));
        const real = path.join(dir, "real");
        fs.mkdirSync(real);
        fs.writeFileSync(path.join(real, "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
        const links = path.join(dir, "links");
        fs.mkdirSync(links);
        fs.symlinkSync(path.join(real, "pulumi"), path.join(links, "pulumi"));
        const plain = path.join(dir, "plain");
        fs.mkdirSync(plain);
        fs.writeFileSync(path.join(plain, "pulumi"), "not executable", { mode: 0o644 });
        assert.equal(onPath("pulumi", [plain, links].join(path.delimiter)), fs.realpathSync(path.join(real, "pulumi")));
        assert.equal(onPath("pulumi", plain), undefined);
    });
});
