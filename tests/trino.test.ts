import { strict as assert } from "assert";
import { parse as parseProperties } from "dot-properties";
import { queryMemoryPerNodeMb, jvmBytes } from "../components/trino";
import { platformConfigOf } from "../offline/run-stack";
import { checkValues, chartKeys } from "../policies/lib/chart-values";
import { run, Run } from "./helpers/stack";

const CHART = "kubernetes:helm.sh/v3:Release";

function trinoRelease(r: Run) {
    return r.inputs(r.one(CHART, "trino"));
}

function catalogOf(r: Run, name = "lakehouse"): Record<string, string> {
    return parseProperties(trinoRelease(r).values.catalogs[name]) as Record<string, string>;
}

describe("Trino", () => {
    const runs: Record<string, Run> = {};
    before(async () => {
        for (const stack of ["dev", "staging", "prod"]) runs[stack] = await run(stack);
    });

    for (const stack of ["dev", "staging"]) {
        describe(`in ${stack}`, () => {
            it("installs the pinned trino/trino chart from its repository into the Trino namespace", () => {
                const cfg = platformConfigOf(stack);
                const chart = trinoRelease(runs[stack]);
                assert.equal(chart.namespace, cfg.namespaces.trino);
                assert.equal(chart.chart, "trino");
                assert.equal(chart.version, cfg.trino.chartVersion);
                assert.equal(chart.repositoryOpts.repo, "https://trinodb.github.io/charts");
                assert.equal(chart.name, "trino", "the release name decides the Service name");
            });

            it("gives the Iceberg catalog exactly the properties Trino 480+ reads, with FQDN addresses", () => {
                const cfg = platformConfigOf(stack);
                const catalog = catalogOf(runs[stack]);
                assert.deepEqual(catalog, {
                    "connector.name": "iceberg",
                    "iceberg.catalog.type": "hive_metastore",
                    "hive.metastore.uri": `thrift://hive-metastore.${cfg.namespaces.database}.svc.${cfg.clusterDomain}:9083`,
                    "fs.native-s3.enabled": "true",
                    "s3.endpoint": `http://garage.${cfg.namespaces.garage}.svc.${cfg.clusterDomain}:3900`,
                    "s3.region": "us-east-1",
                    "s3.path-style-access": "true",
                    "s3.aws-access-key": "${ENV:AWS_ACCESS_KEY_ID}",
                    "s3.aws-secret-key": "${ENV:AWS_SECRET_ACCESS_KEY}",
                });
                assert.ok(
                    !Object.keys(catalog).some((k) => k.startsWith("hive.s3.")),
                    "legacy hive.s3.* properties were removed in Trino 481",
                );
            });

            it("keeps key material out of the values: credentials come from Trino's Garage Secret", () => {
                const r = runs[stack];
                const values = JSON.stringify(trinoRelease(r).values);
                const secret = r.inputs(r.one("kubernetes:core/v1:Secret", "garage-trino-credentials"));
                assert.equal(secret.metadata.namespace, platformConfigOf(stack).namespaces.trino);
                for (const v of Object.values<string>(secret.stringData))
                    assert.ok(!values.includes(v), "a Garage key is in Trino's values");
                assert.deepEqual(trinoRelease(r).values.envFrom, [{ secretRef: { name: "trino-garage-credentials" } }]);
            });

            it("publishes the coordinator endpoint of the Service the chart creates, and the catalog name", () => {
                const cfg = platformConfigOf(stack);
                const out = runs[stack].one("lakehouse:query:Trino", "trino").outputs as any;
                assert.equal(out.coordinatorUrl, `http://trino.${cfg.namespaces.trino}.svc.${cfg.clusterDomain}:8080`);
                assert.equal(out.catalog, "lakehouse");
            });
        });
    }

    it("sets only keys the pinned chart version reads", () => {
        // Key paths of trino 1.42.2's default values.yaml and of every value its templates read,
        // copied from the upstream chart (tests/fixtures/chart-keys/trino-1.42.2.json, `npm run chart-keys`).
        for (const stack of ["dev", "staging", "prod"]) {
            const chart = trinoRelease(runs[stack]);
            const report = checkValues(chart.values, chartKeys("trino", chart.version)!);
            assert.deepEqual(report.unknown, [], `${stack}: keys the chart never reads`);
            assert.deepEqual(report.unread, [], `${stack}: keys the defaults have but no template reads`);
            // Read whole by the templates (toYaml or range): the catalogs and the security contexts.
            for (const p of report.readWhole) assert.match(p, /^(catalogs|securityContext|containerSecurityContext)\./);
        }
    });

    it("removes the demo catalogs unless the config keeps them", async () => {
        assert.deepEqual(Object.keys(trinoRelease(runs.dev).values.catalogs).sort(), ["lakehouse", "tpcds", "tpch"]);
        assert.equal(trinoRelease(runs.dev).values.catalogs.tpch, null);
        const kept = await run("dev", {
            overrides: {
                "lakehouse-platform:trinoKeepDemoCatalogs": true,
                "lakehouse-platform:trinoCatalogName": "iceberg",
            },
        });
        assert.deepEqual(Object.keys(trinoRelease(kept).values.catalogs), ["iceberg"]);
    });

    it("sizes workers, heap, requests and limits from config: small in dev, real in prod", () => {
        for (const stack of ["dev", "staging", "prod"]) {
            const cfg = platformConfigOf(stack);
            const v = trinoRelease(runs[stack]).values;
            assert.equal(v.server.workers, cfg.trino.workers);
            for (const node of ["coordinator", "worker"] as const) {
                assert.equal(v[node].jvm.maxHeapSize, cfg.trino[node].heap);
                assert.deepEqual(v[node].resources, {
                    requests: cfg.trino[node].resources.requests,
                    limits: cfg.trino[node].resources.limits,
                });
                // Trino refuses to start when query memory per node plus the 30% heap headroom exceeds the heap.
                const perNode = Number(/^(\d+)MB$/.exec(v[node].config.query.maxMemoryPerNode)![1]) * 2 ** 20;
                assert.ok(perNode + 0.3 * jvmBytes(cfg.trino[node].heap)! <= jvmBytes(cfg.trino[node].heap)!);
            }
        }
        const dev = trinoRelease(runs.dev).values;
        const prod = trinoRelease(runs.prod).values;
        assert.ok(jvmBytes(dev.worker.jvm.maxHeapSize)! <= 2 * 2 ** 30, "dev must fit a laptop cluster");
        assert.ok(prod.server.workers > dev.server.workers);
        assert.ok(jvmBytes(prod.worker.jvm.maxHeapSize)! >= 8 * 2 ** 30);
        assert.equal(queryMemoryPerNodeMb("12G"), 6144);
    });
});
