// Components built alone, as a library user would build one inside a program of their own: each
// takes its endpoints as arguments, parents every child, and publishes what others need, without
// the platform around it.
import { strict as assert } from "assert";
import { endpoint, urlOf } from "../components/addresses";
import { garageConsumers } from "../components/platform";
import { Garage } from "../components/garage";
import { Trino } from "../components/trino";
import { platformConfigOf } from "../offline/run-stack";
import { run } from "./helpers/stack";

const cfg = platformConfigOf("dev");

describe("components built alone", () => {
    it("Trino: only its Release, parented to it, wired to the addresses it is given", async () => {
        const metastore = endpoint({ service: "metastore", namespace: "meta", port: 9083 }, "example.internal");
        const s3 = endpoint({ service: "objects", namespace: "s3", port: 3900 }, "example.internal");
        let published: Record<string, unknown> = {};
        const r = await run("dev", {
            program: () => {
                const trino = new Trino("alone", {
                    namespace: "query",
                    clusterDomain: "example.internal",
                    environment: "test",
                    chart: cfg.trino.chart,
                    workers: 2,
                    coordinator: cfg.trino.coordinator,
                    worker: cfg.trino.worker,
                    catalogName: "lake",
                    keepDemoCatalogs: false,
                    metastore: { service: metastore, url: urlOf(metastore, "thrift") },
                    s3: { service: s3, url: urlOf(s3, "http") },
                    s3Region: "eu-west-1",
                    s3CredentialsSecret: "my-key",
                });
                published = { url: trino.coordinatorUrl, catalog: trino.catalog, wiring: trino.wiring };
                return {};
            },
        });
        const custom = r.resources.filter((x) => x.custom);
        assert.deepEqual(
            custom.map((x) => `${x.type} ${x.name}`),
            ["kubernetes:helm.sh/v3:Release alone"],
        );
        const component = r.resources.find((x) => x.type === "lakehouse:query:Trino")!;
        assert.equal(custom[0].parent, component.urn);
        const catalog = r.inputs(custom[0]).values.catalogs.lake as string;
        assert.match(catalog, /hive\.metastore\.uri=thrift:\/\/metastore\.meta\.svc\.example\.internal:9083/);
        assert.match(catalog, /s3\.endpoint=http:\/\/objects\.s3\.svc\.example\.internal:3900/);
        assert.match(catalog, /s3\.region=eu-west-1/);
        // The release name is fixed (RELEASES), not the Pulumi name: the chart names its Services after it.
        assert.equal(published.url, "http://trino.query.svc.example.internal:8080");
        assert.equal(published.catalog, "lake");
        assert.deepEqual(
            (published.wiring as { from: string; to: string }[]).map((e) => `${e.from}→${e.to}`),
            ["trino→database", "trino→garage"],
        );
    });

    it("Garage: its StatefulSet, bootstrap and consumer Secrets, every one parented to it, nothing of the platform", async () => {
        const r = await run("dev", {
            program: () => {
                new Garage("store", {
                    namespace: "objects",
                    clusterDomain: cfg.clusterDomain,
                    environment: "test",
                    image: cfg.garage.image,
                    toolsImage: cfg.images.busybox,
                    replicas: 3,
                    replicationFactor: 3,
                    dataSize: "1Gi",
                    metadataSize: "1Gi",
                    resources: cfg.garage.resources,
                    buckets: [cfg.buckets.lakehouse],
                    consumers: garageConsumers(cfg).filter((c) => c.name === "trino"),
                    daemonGenerations: { adminToken: 1, rpcSecret: 1 },
                });
                return {};
            },
        });
        const garage = r.resources.find((x) => x.type === "lakehouse:storage:Garage")!;
        const byUrn = new Map(r.resources.map((x) => [x.urn, x]));
        for (const x of r.resources) {
            if (x === garage || x.type === "pulumi:providers:kubernetes" || x.type === "pulumi:providers:random")
                continue;
            let p = x.parent;
            while (p && p !== garage.urn) p = byUrn.get(p)?.parent;
            assert.equal(p, garage.urn, `${x.type} ${x.name} is Garage's`);
        }
        const sts = r.one("kubernetes:apps/v1:StatefulSet", "store");
        assert.equal(r.inputs(sts).spec.replicas, 3);
        assert.equal(r.inputs(sts).metadata.namespace, "objects");
        assert.ok(r.ofType("kubernetes:batch/v1:Job").some((j) => r.inputs(j).metadata.name === "garage-bootstrap"));
        assert.equal(r.ofType("kubernetes:core/v1:Namespace").length, 0, "no namespace: the platform makes those");
        assert.equal(r.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").length, 0);
    });
});
