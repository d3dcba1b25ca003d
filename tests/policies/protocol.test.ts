// The pack as the Pulumi CLI runs it: started from the shipped folder with the CLI's command line,
// spoken to over pulumirpc.Analyzer, configured with the CLI's rules, judged with the engine's.
import { strict as assert } from "assert";
import * as fs from "fs";
import { builtinModules } from "module";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { customResource, EngineResource, secret } from "../../offline/crossguard/engine-view";
import { judge, PolicyFailure } from "../../offline/crossguard/judge";
import { PackConfigError, parsePackConfig, reconcilePackConfig } from "../../offline/crossguard/pack-config";
import { PACK_DIR, PackHost, PackStartError } from "../../offline/crossguard/pack-host";
import { packConfigOf, sharedPack } from "../../offline/crossguard/gate";
import { POLICIES, POLICY_PACK_NAME } from "../../policies/policies";
import { crossNamespaceFqdn } from "../../policies/cross-namespace-fqdn";
import {
    configMap,
    deployment,
    devPlatform,
    Fixture,
    renderedChart,
    run,
    runPack,
    service,
    T,
    trinoCatalog,
    trinoRelease,
} from "../helpers/policy";

const FIXTURE_PACKS = path.join(__dirname, "..", "fixtures", "packs");
const identity = {
    organization: "organization",
    project: "lakehouse-platform",
    stack: "test",
    dryRun: true,
    config: {},
};
const SIG = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;
const isSecret = (v: unknown) =>
    typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG] === SECRET_SIG;

function resource(urn: string, type: string, inputs: Record<string, unknown>): EngineResource {
    return customResource({ urn, type, name: urn.split("::").pop()!, inputs });
}

describe("the pack, started as the Pulumi CLI starts it", () => {
    it("is a self-contained pack folder: package.json (name, version, main in compiled JavaScript), PulumiPolicy.yaml, nothing imported from outside", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8")) as {
            name: string;
            version: string;
            main: string;
            dependencies: Record<string, string>;
        };
        assert.equal(pkg.name, "lakehouse-platform-policies");
        assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
        assert.match(pkg.main, /\.js$/);
        assert.ok(fs.existsSync(path.join(PACK_DIR, pkg.main)), `${pkg.main} is built by npm ci`);
        assert.match(fs.readFileSync(path.join(PACK_DIR, "PulumiPolicy.yaml"), "utf8"), /^runtime: nodejs$/m);
        // Every module the compiled pack requires is inside the folder or one of its declared dependencies.
        const bin = path.join(PACK_DIR, path.dirname(pkg.main));
        const files = fs.readdirSync(bin, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
        for (const f of files) {
            for (const [, spec] of fs.readFileSync(path.join(bin, f), "utf8").matchAll(/require\("([^"]+)"\)/g)) {
                if (spec.startsWith("."))
                    assert.ok(
                        path.resolve(bin, path.dirname(f), spec).startsWith(bin),
                        `${f} requires ${spec} outside the pack`,
                    );
                else
                    assert.ok(
                        spec
                            .split("/")
                            .slice(0, spec.startsWith("@") ? 2 : 1)
                            .join("/") in pkg.dependencies || builtinModules.includes(spec.replace(/^node:/, "")),
                        `${f} requires ${spec}, which the pack does not declare`,
                    );
            }
        }
    });

    it("serves GetAnalyzerInfo with every policy, its level and its config schema, as the pack's own name and version", async () => {
        const { info } = await sharedPack(identity);
        assert.equal(info.name, POLICY_PACK_NAME);
        assert.equal(
            info.version,
            (JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8")) as { version: string }).version,
        );
        assert.equal(info.supportsConfig, true);
        assert.deepEqual(
            info.policies.map((p) => [p.name, p.enforcementLevel, p.kind]),
            POLICIES.map((p) => [p.name, p.enforcementLevel, "validateStack" in p ? "stack" : "resource"]),
        );
        const fqdn = info.policies.find((p) => p.name === "cross-namespace-fqdn")!;
        assert.deepEqual(Object.keys(fqdn.configSchema!.properties).sort(), [
            "allowedHosts",
            "clientNamespaces",
            "clusterDomain",
            "namespaces",
        ]);
    });

    it("fails to start, with the runner's message, when the folder has no package.json", async () => {
        await assert.rejects(
            PackHost.start(identity, path.join(FIXTURE_PACKS, "without-package-json")),
            (e: unknown) => {
                assert.ok(e instanceof PackStartError);
                assert.match(e.message, /exited \(code 32\)/);
                assert.match(e.message, /Cannot find module '.*without-package-json\/package\.json'/);
                return true;
            },
        );
    });

    it("a policy that throws fails the gate, naming the resource and the policy, as it fails `pulumi preview`", async function () {
        this.timeout(60_000);
        const pack = await PackHost.start(identity, path.join(FIXTURE_PACKS, "throwing"));
        try {
            const info = await pack.analyzerInfo();
            const config = reconcilePackConfig(info.policies);
            const ok = resource("urn:pulumi:test::p::kubernetes:core/v1:ConfigMap::fine", T.configMap, { data: {} });
            assert.deepEqual((await judge(pack, [ok], config)).diagnostics, []);
            const boom = resource("urn:pulumi:test::p::kubernetes:core/v1:ConfigMap::boom", T.configMap, { data: {} });
            await assert.rejects(judge(pack, [ok, boom], config), (e: unknown) => {
                assert.ok(e instanceof PolicyFailure);
                assert.match(e.message, /on urn:pulumi:test::p::kubernetes:core\/v1:ConfigMap::boom/);
                assert.match(
                    e.message,
                    /Error validating resource with policy 'throws-on-boom' from policy pack 'throwing-pack@v1\.0\.0'/,
                );
                assert.match(e.message, /the policy broke on boom/);
                return true;
            });
        } finally {
            await pack.close();
        }
    });
});

describe("remediation over the protocol", () => {
    const remediate = { enforcementLevel: "remediate" as const };

    it("rewrites a short name in Helm values, a ConfigMap and a container env value; nothing throws; every secret stays secret", async () => {
        const release = trinoRelease(trinoCatalog({ s3: "http://garage:3900" }));
        (release.props.values as Record<string, unknown>).secretThing = secret("thrift://hive-metastore:9083");
        (release.props.values as Record<string, unknown>).password = secret("not-an-address");
        const cm = configMap("app", "dagster", { "app.properties": "trino=http://trino:8080\n" });
        (cm.props.data as Record<string, unknown>)["secret.properties"] = secret("db=postgres:5432\n");
        const code = deployment("code", "dagster", {
            env: [
                { name: "TRINO_HOST", value: "trino" },
                { name: "DB_URL", value: secret("postgres:5432") },
                { name: "LIST", value: "a" },
            ],
            args: ["--db", "postgres:5432"],
        });
        const report = await run(crossNamespaceFqdn, [release, cm, code], remediate);
        assert.deepEqual(report.violations, [], "validation runs on the remediated values: nothing is left");
        assert.deepEqual(
            report.remediations.map((r) => r.urn.split("::").pop()),
            ["trino", "app", "code"],
        );
        const [r, c, d] = report.remediations;

        assert.match(
            r.props.values.catalogs.lakehouse,
            /s3\.endpoint=http:\/\/garage\.garage\.svc\.cluster\.local:3900\n/,
        );
        assert.ok(
            isSecret(r.properties.values && (r.properties.values as Record<string, unknown>).secretThing),
            "a rewritten secret stays secret",
        );
        assert.equal(r.props.values.secretThing, "thrift://hive-metastore.database.svc.cluster.local:9083");
        assert.ok(
            isSecret((r.properties.values as Record<string, unknown>).password),
            "an untouched secret stays secret",
        );
        assert.ok(!isSecret((r.properties.values as Record<string, unknown>).catalogs), "plain values stay plain");

        assert.equal(c.props.data["app.properties"], "trino=http://trino.trino.svc.cluster.local:8080\n");
        assert.ok(isSecret((c.properties.data as Record<string, unknown>)["secret.properties"]));
        assert.equal(c.props.data["secret.properties"], "db=postgres.database.svc.cluster.local:5432\n");

        const container = d.props.spec.template.spec.containers[0];
        assert.deepEqual(container.env, [
            { name: "TRINO_HOST", value: "trino.trino.svc.cluster.local" },
            { name: "DB_URL", value: "postgres.database.svc.cluster.local:5432" },
            { name: "LIST", value: "a" },
        ]);
        assert.deepEqual(container.args, ["--db", "postgres.database.svc.cluster.local:5432"]);
        const rawEnv = ((d.properties.spec as any).template.spec.containers[0].env as Record<string, unknown>[])[1]
            .value;
        assert.ok(isSecret(rawEnv), "the secret env value stays secret");
    });

    it("what the remediation cannot fix is reported as mandatory, as the engine reports it", async () => {
        // The policy's namespaces describe another stack, so no fix is certain: the violation stays.
        const report = await run(
            crossNamespaceFqdn,
            [trinoRelease(trinoCatalog({ s3: "http://garage:3900" }), "trino-staging")],
            remediate,
        );
        assert.deepEqual(report.remediations, []);
        assert.equal(report.violations.length, 1);
        assert.equal(report.violations[0].enforcementLevel, "mandatory");
        assert.match(report.violations[0].message, /"garage" is a short name/);
    });
});

describe("remote components (helm.v4.Chart) as the engine shows them", () => {
    it("a chart with no inputs is no false alarm: not in the default namespace, no missing version", async () => {
        const chart: Fixture = { type: T.chart, name: "trino", props: {} };
        const report = await runPack([...devPlatform(), chart]);
        assert.deepEqual(report.violations, []);
    });

    it("judges the objects it renders: a short name in a rendered ConfigMap, a Service another namespace reaches", async () => {
        const children = [
            configMap("trino-catalog", "trino", { "lakehouse.properties": trinoCatalog({ s3: "http://garage:3900" }) }),
            service("trino", "trino", [8080]),
        ];
        const report = await runPack([
            ...devPlatform(),
            renderedChart("trino", children),
            deployment("code", "dagster", { env: [{ name: "TRINO_HOST", value: "trino.trino.svc.cluster.local" }] }),
        ]);
        assert.deepEqual(
            report.violations.map((v) => [v.policy, v.enforcementLevel, v.urn]),
            [
                [
                    "cross-namespace-fqdn",
                    "mandatory",
                    "urn:pulumi:test::lakehouse-platform::kubernetes:helm.sh/v4:Chart$kubernetes:core/v1:ConfigMap::trino:trino/trino-catalog",
                ],
            ],
        );
        assert.match(report.violations[0].message, /lakehouse\.properties"\] › s3\.endpoint = "http:\/\/garage:3900"/);
    });
});

describe("the pack configuration, as the CLI validates it", () => {
    const policies = () => sharedPack(identity).then((s) => s.info);

    it("merges a partial file over the defaults (and over the stack's settings)", async () => {
        const info = await policies();
        const stack = { doc: { "fqdn-resolves": { clusterDomain: "prod.lakehouse.internal" } }, source: "stack" };
        const config = packConfigOf(info, [
            stack,
            { doc: { "cross-namespace-fqdn": "remediate", all: "advisory" }, source: "partial.json" },
        ]);
        assert.equal(config["cross-namespace-fqdn"].enforcementLevel, "remediate");
        assert.equal(config["no-ip-endpoints"].enforcementLevel, "advisory");
        assert.equal(
            config["fqdn-resolves"].properties.clusterDomain,
            "prod.lakehouse.internal",
            "the stack's setting is kept",
        );
        assert.deepEqual(config["fqdn-resolves"].properties.allowedHosts, [], "schema defaults fill the rest");
    });

    it("refuses a mistyped level, an unknown policy or setting, a wrong type and a document that is not an object, naming each", async () => {
        const { policies: list } = await policies();
        const refused = (doc: unknown) => {
            try {
                reconcilePackConfig(list, parsePackConfig(doc, "x.json", list));
            } catch (e) {
                assert.ok(e instanceof PackConfigError);
                return e.message;
            }
            assert.fail(`accepted ${JSON.stringify(doc)}`);
        };
        assert.match(
            refused({ "cross-namespace-fqdn": "mandatry" }),
            /cross-namespace-fqdn: "mandatry" is not an enforcement level; use one of advisory, mandatory, remediate, disabled/,
        );
        assert.match(
            refused({ "cross-namespace-fqd": "advisory" }),
            /"cross-namespace-fqd" is not a policy of this pack; did you mean "cross-namespace-fqdn"\?/,
        );
        assert.match(
            refused({ "fqdn-resolves": { enforcementLevel: 3 } }),
            /fqdn-resolves\.enforcementLevel: 3 is not an enforcement level/,
        );
        assert.match(
            refused({ "fqdn-resolves": { clustrDomain: "x" } }),
            /fqdn-resolves\.clustrDomain: not a setting of this policy; did you mean "clusterDomain"\?/,
        );
        assert.match(
            refused({ "fqdn-resolves": { clusterDomain: 5 } }),
            /fqdn-resolves\.clusterDomain: must be string/,
        );
        assert.match(
            refused({ "no-ip-endpoints": { allowedHosts: ["a", 1] } }),
            /no-ip-endpoints\.allowedHosts\.1: must be string/,
        );
        assert.match(refused(null), /the file holds null; it must be a JSON object/);
        assert.match(refused(["advisory"]), /the file holds a list/);
        const many = refused({ a: "advisory", "fqdn-resolves": "off" });
        assert.match(many, /\(2 problems\)/);
    });
});
