import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main as check } from "../offline/check";
import { readResources } from "../offline/resources-file";
import { PLAN_FORMAT, Plan } from "../offline/plan";
import { main as plan } from "../offline/plan-cli";
import { capture, storagePlanFile, tmp } from "./helpers/commands";
import { configMap, deployment, devPlatform, trinoCatalog, trinoRelease } from "./helpers/policy";

/** The @pulumi/random the program depends on: its default provider's name carries the version. */
function randomVersion(): string {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
    };
    return pkg.dependencies["@pulumi/random"];
}

// `npm run plan -- --stack staging --json FILE`, run once: its report and its file serve two tests.
let staging: Promise<{ code: number; out: string; file: string }> | undefined;
function stagingPlan(): Promise<{ code: number; out: string; file: string }> {
    staging ??= (async () => {
        const file = tmp("staging.json");
        return { ...(await capture(plan, ["--stack", "staging", "--json", file])), file };
    })();
    return staging;
}

describe("npm run plan", () => {
    it("shows staging's namespaces in every address", async () => {
        const { code, out } = await stagingPlan();
        assert.equal(code, 0);
        const addresses = out.match(/[a-z0-9-]+\.[a-z0-9-]+\.svc\.cluster\.local/g) ?? [];
        assert.ok(addresses.length > 10);
        for (const a of addresses) assert.match(a.split(".")[1], /-staging$/, a);
    });

    it("exits 2 on an invalid config, naming the keys, and on bad arguments", async () => {
        const bad = await capture(plan, ["--set", "garageReplicas=0", "--set", "clusterDomain=Local."]);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /lakehouse-platform:garageReplicas = "0"/);
        assert.match(bad.err, /lakehouse-platform:clusterDomain = "Local\."/);
        const args = await capture(plan, ["--stak", "dev"]);
        assert.equal(args.code, 2);
        assert.match(args.err, /usage: npm run plan/);
    });

    it("plans a split stack from the plan of the stack it builds on (--ref), and says what is missing without it", async () => {
        const storageFile = await storagePlanFile(["trino"]);
        const split = [
            "--set",
            'components=["trino"]',
            "--set",
            'upstreamStacks=["acme/lakehouse-platform/storage-dev"]',
        ];
        const query = await capture(plan, [...split, "--ref", `acme/lakehouse-platform/storage-dev=${storageFile}`]);
        assert.equal(query.code, 0, query.err);
        assert.match(query.out, /builds on acme\/lakehouse-platform\/storage-dev/);
        assert.match(query.out, /trino\s+garage\s+http:\/\/garage\.garage\.svc\.cluster\.local:3900/);
        const missing = await capture(plan, split);
        assert.equal(missing.code, 2);
        assert.match(
            missing.err,
            /reads acme\/lakehouse-platform\/storage-dev \(upstreamStacks\): give its plan with --ref/,
        );
        // A storage plan that issued no key for Trino is refused by the contract check, as bad input.
        const bare = await storagePlanFile();
        const refused = await capture(plan, [...split, "--ref", `acme/lakehouse-platform/storage-dev=${bare}`]);
        assert.equal(refused.code, 2);
        assert.match(refused.err, /publishes no Garage key for trino/);
    });

    it("exits 1 when a mandatory policy fails; a --policy-config file tunes the pack and never moves the stack", async () => {
        // prod fetching its JDBC driver from an in-cluster mirror the stack does not declare.
        const mirror = "maven.artifacts.svc.prod.lakehouse.internal";
        const driver = [
            "--set",
            `hiveMetastoreJdbcDriverUrl=http://${mirror}/maven2/org/postgresql/postgresql/42.7.4/postgresql-42.7.4.jar`,
            "--set",
            "hiveMetastoreJdbcDriverSha256=188976721ead8e8627eb6d8389d500dccc0c9bebd885268a3047180274a6031e",
        ];
        const flagged = await capture(plan, ["--stack", "prod", ...driver]);
        assert.equal(flagged.code, 1);
        assert.match(
            flagged.out,
            /\[fqdn-resolves\] .*no Service maven in namespace artifacts is declared by the stack/,
        );
        assert.match(flagged.out, /Result: 2 mandatory violation\(s\)\./);
        // The team's tuning allows the mirror; the settings of another stack in the same file
        // (dev's cluster domain and namespaces, as a stale per-stack file had) change nothing.
        const file = tmp("pack-tuning.json");
        const tuning = { allowedHosts: [mirror], clusterDomain: "cluster.local", namespaces: { trino: "trino" } };
        fs.writeFileSync(file, JSON.stringify({ "fqdn-resolves": tuning, "cross-namespace-fqdn": tuning }));
        const tuned = await capture(plan, ["--stack", "prod", ...driver, "--policy-config", file]);
        assert.equal(tuned.code, 0, tuned.out);
        assert.match(tuned.out, /Result: no mandatory violation\./);
    });

    it("writes the same as JSON in the documented format, secrets masked, and the file passes `check`", async () => {
        const file = tmp("plan.json");
        const { code } = await capture(plan, ["--stack", "dev", "--json", file]);
        assert.equal(code, 0);
        const doc = JSON.parse(fs.readFileSync(file, "utf8")) as Plan;
        assert.equal(doc.format, PLAN_FORMAT);
        assert.equal(doc.stack, "dev");
        assert.deepEqual(doc.config.namespaces, {
            garage: "garage",
            database: "database",
            trino: "trino",
            airbyte: "airbyte",
            dagster: "dagster",
        });
        assert.equal(doc.summary.resources, doc.resources.filter((r) => r.registeredBy === "program").length);
        assert.equal(doc.summary.judged, doc.resources.length);
        // The engine's own resources, as `pulumi preview` shows the pack: the root stack, the built-in
        // provider of the StackReference to the stack's last deployment, and @pulumi/random's default provider.
        assert.deepEqual(
            doc.resources.filter((r) => r.registeredBy === "engine").map((r) => r.urn),
            [
                "urn:pulumi:dev::lakehouse-platform::pulumi:pulumi:Stack::lakehouse-platform-dev",
                "urn:pulumi:dev::lakehouse-platform::pulumi:providers:pulumi::default",
                `urn:pulumi:dev::lakehouse-platform::pulumi:providers:random::default_${randomVersion().replace(/\./g, "_")}`,
            ],
        );
        assert.equal(doc.summary.mandatory, 0);
        const trino = doc.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === "trino");
        assert.equal(trino?.component, "trino");
        assert.equal(trino?.parent, doc.resources.find((r) => r.type === "lakehouse:query:Trino")?.urn);
        for (const r of doc.resources) {
            assert.ok(
                r.urn && r.type && r.name && r.component && typeof r.inputs === "object",
                JSON.stringify(r).slice(0, 200),
            );
        }
        // Every Secret's data is masked; no generated credential is anywhere in the file.
        const secrets = doc.resources.filter((r) => r.type === "kubernetes:core/v1:Secret");
        assert.ok(secrets.length > 5);
        for (const s of secrets) assert.equal(s.inputs.stringData, "[secret]");
        const text = fs.readFileSync(file, "utf8");
        assert.doesNotMatch(text, /GK[0-9a-f]{24}/);
        assert.doesNotMatch(text, /SCRAM-SHA-256\$/);
        // Airbyte's admin password is a secret output: masked in the plan's JSON.
        assert.equal(doc.outputs.airbyteAdminPassword, "[secret]");
        assert.equal(doc.wiring.length, 11);
        // The stack outputs are the short contract; the call graph is the plan's own field.
        assert.deepEqual(Object.keys(doc.outputs).sort(), [
            "airbyteAdminPassword",
            "clusterDomain",
            "components",
            "contractVersion",
            "dataSettings",
            "environment",
        ]);
        assert.ok(Array.isArray(doc.policy.violations));
        const checked = await capture(check, [file]);
        assert.equal(checked.code, 0, checked.out);
        assert.match(checked.out, /mandatory violations: 0/);
    });
});

describe("npm run check", () => {
    it("fails a resources file with a short-name address, naming the policy and the value's path", async () => {
        const file = tmp("resources.json");
        const resources = [
            ...devPlatform(),
            trinoRelease(trinoCatalog({ s3: "http://garage:3900" })),
            deployment("code", "dagster", { env: [{ name: "TRINO_HOST", value: "trino.trino.svc.cluster.local" }] }),
        ];
        fs.writeFileSync(
            file,
            JSON.stringify({ resources: resources.map((r) => ({ type: r.type, name: r.name, inputs: r.props })) }),
        );
        const { code, out } = await capture(check, [file]);
        assert.equal(code, 1);
        assert.match(
            out,
            /mandatory violations: 1\n +\[cross-namespace-fqdn\] kubernetes:helm\.sh\/v3:Release "trino" \(namespace trino\): values\.catalogs\.lakehouse › s3\.endpoint = "http:\/\/garage:3900"/,
        );
    });

    it("passes a clean resources file, including a plain list", async () => {
        const file = tmp("clean.json");
        const resources = [...devPlatform(), trinoRelease(), configMap("conf", "trino", { "x.properties": "a=b" })];
        fs.writeFileSync(file, JSON.stringify(resources.map((r) => ({ type: r.type, name: r.name, props: r.props }))));
        const { code, out } = await capture(check, [file]);
        assert.equal(code, 0);
        assert.match(out, /Result: no mandatory violation\./);
    });

    it("validates --policy-config as the CLI does: exit 2 for a mistyped level, an unknown policy or a malformed file; a partial file is merged", async () => {
        const { code, file: plan } = await stagingPlan();
        assert.equal(code, 0);
        const config = (doc: unknown) => {
            const f = tmp("config.json");
            fs.writeFileSync(f, typeof doc === "string" ? doc : JSON.stringify(doc));
            return f;
        };
        const typo = await capture(check, [plan, "--policy-config", config({ "cross-namespace-fqdn": "mandatry" })]);
        assert.equal(typo.code, 2);
        assert.match(
            typo.err,
            /cross-namespace-fqdn: "mandatry" is not an enforcement level; use one of advisory, mandatory, remediate, disabled/,
        );
        const unknown = await capture(check, [plan, "--policy-config", config({ "no-such-policy": "advisory" })]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.err, /"no-such-policy" is not a policy of this pack/);
        for (const bad of ["{not json", "null", "[1]", '{"fqdn-resolves": {"clusterDomain": 5}}']) {
            const r = await capture(check, [plan, "--policy-config", config(bad)]);
            assert.equal(r.code, 2, bad);
            assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace for bad input");
        }
        // A partial file changes one level and keeps the plan's settings (staging's namespaces): still clean.
        const partial = await capture(check, [
            plan,
            "--policy-config",
            config({ "image-tag-pinned": "disabled", "cross-namespace-fqdn": "remediate" }),
        ]);
        assert.equal(partial.code, 0, partial.out + partial.err);
    });

    it("exits 1 for a value too deep or too long to judge", async () => {
        let deep: unknown = "x";
        for (let i = 0; i < 70; i++) deep = [deep];
        const file = tmp("deep.json");
        fs.writeFileSync(
            file,
            JSON.stringify([
                {
                    type: "kubernetes:core/v1:ConfigMap",
                    name: "deep",
                    inputs: { metadata: { name: "deep", namespace: "dagster" }, data: { x: "a" } },
                },
                {
                    type: "kubernetes:helm.sh/v3:Release",
                    name: "r",
                    inputs: { chart: "c", version: "1.0.0", namespace: "dagster", values: { deep } },
                },
            ]),
        );
        const r = await capture(check, [file]);
        assert.equal(r.code, 1);
        assert.match(
            r.out,
            /\[configuration-readable\] kubernetes:helm\.sh\/v3:Release "r": values\.deep(\[0\])+ holds values nested deeper than 64 levels/,
        );
        const long = tmp("long.json");
        fs.writeFileSync(
            long,
            JSON.stringify([
                {
                    type: "kubernetes:core/v1:ConfigMap",
                    name: "big",
                    inputs: { metadata: { name: "big", namespace: "dagster" }, data: { x: "y".repeat(1_100_000) } },
                },
            ]),
        );
        const l = await capture(check, [long]);
        assert.equal(l.code, 1);
        assert.match(l.out, /a string of 1,100,000 characters/);
    });

    it("answers --help with its usage and exit 0", async () => {
        const r = await capture(check, ["--help"]);
        assert.equal(r.code, 0);
        assert.match(r.out, /usage: npm run check -- FILE/);
    });

    it("exits 2 on a file that is not a resources file", async () => {
        const file = tmp("bad.json");
        fs.writeFileSync(file, JSON.stringify([{ name: "x" }]));
        const bad = await capture(check, [file]);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /resources\[0\] needs a string type and name/);
        assert.equal((await capture(check, [path.join(os.tmpdir(), "does-not-exist.json")])).code, 2);
        assert.equal((await capture(check, [])).code, 2);
        assert.throws(
            () => readResources({ format: "lakehouse-platform/plan@9", resources: [] }),
            /unsupported format/,
        );
    });
});
