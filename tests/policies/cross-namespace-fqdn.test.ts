import { strict as assert } from "assert";
import { crossNamespaceFqdn } from "../../policies/cross-namespace-fqdn";
import { configMap, deployment, messages, run, T, trinoCatalog, trinoRelease } from "../helpers/policy";

const STAGING = {
    garage: "garage-staging",
    database: "database-staging",
    trino: "trino-staging",
    airbyte: "airbyte-staging",
    dagster: "dagster-staging",
};

describe("policy cross-namespace-fqdn", () => {
    it("accepts full names, outside hosts and local port-forwards", async () => {
        const catalog = trinoCatalog({
            extra: "hive.s3.endpoint=https://s3.amazonaws.com\ndocs=https://example.com:443/x\nlocal=localhost:8080",
        });
        assert.deepEqual(await messages(crossNamespaceFqdn, [trinoRelease(catalog)]), []);
        const env = [
            { name: "TRINO_HOST", value: "trino.trino.svc.cluster.local" },
            { name: "UPSTREAM", value: "https://example.com" },
            { name: "BUCKET_URL", value: "s3://lakehouse/warehouse" },
        ];
        assert.deepEqual(await messages(crossNamespaceFqdn, [deployment("app", "dagster", { env })]), []);
    });

    it("flags a short name inside catalog properties, with the path, the text and the full name", async () => {
        const [message, ...rest] = await messages(crossNamespaceFqdn, [
            trinoRelease(trinoCatalog({ s3: "http://garage:3900" })),
        ]);
        assert.deepEqual(rest, []);
        assert.match(
            message,
            /^kubernetes:helm\.sh\/v3:Release "trino" \(namespace trino\): values\.catalogs\.lakehouse › s3\.endpoint = "http:\/\/garage:3900": "garage" is a short name/,
        );
        assert.match(message, /use "garage\.garage\.svc\.cluster\.local"/);
    });

    it("flags a namespace-only name and a name without the cluster domain", async () => {
        const catalog = trinoCatalog({
            metastore: "thrift://hive-metastore.database:9083",
            s3: "http://garage.garage.svc:3900",
        });
        const found = await messages(crossNamespaceFqdn, [trinoRelease(catalog)]);
        assert.equal(found.length, 2);
        assert.match(
            found[0],
            /hive\.metastore\.uri = "thrift:\/\/hive-metastore\.database:9083": "hive-metastore\.database" names the namespace but not the cluster domain.*use "hive-metastore\.database\.svc\.cluster\.local"/,
        );
        assert.match(
            found[1],
            /s3\.endpoint = "http:\/\/garage\.garage\.svc:3900": the name lacks the cluster domain "cluster\.local".*use "garage\.garage\.svc\.cluster\.local"/,
        );
    });

    it("finds host fields in YAML inside a ConfigMap and in env variables", async () => {
        const profiles =
            "lakehouse:\n  target: dev\n  outputs:\n    dev:\n      type: trino\n      host: trino\n      port: 8080\n";
        const cm = await messages(crossNamespaceFqdn, [configMap("dbt", "dagster", { "profiles.yml": profiles })]);
        assert.equal(cm.length, 1);
        assert.match(
            cm[0],
            /data\["profiles\.yml"\] › lakehouse\.outputs\.dev\.host = "trino": "trino" is a short name.*use "trino\.trino\.svc\.cluster\.local"/,
        );
        const env = await messages(crossNamespaceFqdn, [
            deployment("code", "dagster", {
                env: [{ name: "TRINO_HOST", value: "trino" }],
                args: ["--db", "postgres:5432"],
            }),
        ]);
        assert.equal(env.length, 2);
        assert.match(env[0], /containers\["code"\]\.env\["TRINO_HOST"\] = "trino"/);
        assert.match(
            env[1],
            /containers\["code"\]\.args\[1\] = "postgres:5432".*use "postgres\.database\.svc\.cluster\.local"/,
        );
    });

    it("finds hosts in Hadoop XML and TOML text", async () => {
        const xml =
            '<?xml version="1.0"?>\n<configuration>\n  <property>\n    <name>fs.s3a.endpoint</name>\n    <value>http://garage:3900</value>\n  </property>\n</configuration>\n';
        const found = await messages(crossNamespaceFqdn, [
            configMap("conf", "trino", {
                "core-site.xml": xml,
                "other.toml": '[db]\nurl = "postgres.database:5432"\n',
            }),
        ]);
        assert.equal(found.length, 2);
        assert.match(found[0], /data\["core-site\.xml"\] › fs\.s3a\.endpoint = "http:\/\/garage:3900"/);
        assert.match(found[1], /data\["other\.toml"\] › db\.url = "postgres\.database:5432"/);
    });

    it("lets a component refer to its own services by short name", async () => {
        assert.deepEqual(
            await messages(crossNamespaceFqdn, [
                configMap("local", "garage", { "client.properties": "endpoint=http://garage:3900" }),
            ]),
            [],
        );
        assert.deepEqual(
            await messages(crossNamespaceFqdn, [
                configMap("local", "database", { url: "hive-metastore.database:9083" }),
            ]),
            [],
        );
    });

    it("gives the full name in the stack's own namespaces and cluster domain", async () => {
        const config = { namespaces: STAGING, clusterDomain: "prod.lakehouse.internal" };
        const [found] = await messages(
            crossNamespaceFqdn,
            [trinoRelease(trinoCatalog({ s3: "http://garage:3900" }), "trino-staging")],
            config,
        );
        assert.match(found, /use "garage\.garage-staging\.svc\.prod\.lakehouse\.internal"/);
    });

    it("offers no fix when its config does not describe the stack's namespaces", async () => {
        const [found] = await messages(crossNamespaceFqdn, [
            trinoRelease(trinoCatalog({ s3: "http://garage:3900" }), "trino-staging"),
        ]);
        assert.match(found, /"garage" is a short name/);
        assert.match(found, /set this policy's `namespaces`/);
        const report = await run(
            crossNamespaceFqdn,
            [trinoRelease(trinoCatalog({ s3: "http://garage:3900" }), "trino-staging")],
            { enforcementLevel: "remediate" },
        );
        assert.deepEqual(report.remediations, []);
    });

    it("rewrites the values to the full names when set to remediate", async () => {
        const catalog = trinoCatalog({
            metastore: "thrift://hive-metastore:9083",
            s3: "http://garage.garage:3900",
            extra: "docs=https://example.com",
        });
        const code = deployment("code", "dagster", {
            env: [
                { name: "TRINO_HOST", value: "trino" },
                { name: "DB", value: "postgres:5432" },
            ],
        });
        const report = await run(crossNamespaceFqdn, [trinoRelease(catalog), code], { enforcementLevel: "remediate" });
        assert.equal(report.remediations.length, 2);
        const fixedCatalog = report.remediations[0].props.values.catalogs.lakehouse as string;
        assert.match(
            fixedCatalog,
            /hive\.metastore\.uri=thrift:\/\/hive-metastore\.database\.svc\.cluster\.local:9083\n/,
        );
        assert.match(fixedCatalog, /s3\.endpoint=http:\/\/garage\.garage\.svc\.cluster\.local:3900\n/);
        assert.match(fixedCatalog, /docs=https:\/\/example\.com$/);
        const env = (report.remediations[1].props as any).spec.template.spec.containers[0].env;
        assert.deepEqual(env, [
            { name: "TRINO_HOST", value: "trino.trino.svc.cluster.local" },
            { name: "DB", value: "postgres.database.svc.cluster.local:5432" },
        ]);
        // Validation runs on the remediated props, as CrossGuard does: nothing is left to report.
        assert.deepEqual(report.violations, []);
    });

    it("ignores what is not configuration: names, labels and image references", async () => {
        // `trino:480` is an image (repository trino, tag 480), not the host trino on port 480.
        const fixture = deployment("trino", "dagster", {
            image: "trino:480",
            env: [{ name: "SIDECAR_IMAGE", value: "trino:480" }],
        });
        (fixture.props as any).metadata.labels = { app: "garage:3900" };
        assert.equal(fixture.type, T.deployment);
        assert.deepEqual(await messages(crossNamespaceFqdn, [fixture]), []);
        // The same text under any other name is a host and a port.
        assert.equal(
            (
                await messages(crossNamespaceFqdn, [
                    deployment("x", "dagster", { env: [{ name: "COORDINATOR", value: "trino:480" }] }),
                ])
            ).length,
            1,
        );
    });
});
