import { strict as assert } from "assert";
import { ConfigError } from "../components/config";
import { platformConfigOf } from "../offline/run-stack";
import { run, Run, runFailing } from "./helpers/stack";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const PROVIDER = "pulumi:providers:kubernetes";

describe("the program (index.ts) under mocks", () => {
    const runs: Record<string, Run> = {};
    before(async () => {
        for (const stack of ["dev", "staging", "prod"]) runs[stack] = await run(stack);
    });

    for (const stack of ["dev", "staging", "prod"]) {
        describe(`stack ${stack}`, () => {
            it("registers one labelled namespace per enabled component, with the stack's names", () => {
                const cfg = platformConfigOf(stack);
                const r = runs[stack];
                const namespaces = r.ofType(NAMESPACE);
                assert.deepEqual(
                    namespaces.map((n) => r.inputs(n).metadata.name).sort(),
                    cfg.components.map((c) => cfg.namespaces[c]).sort(),
                );
                for (const ns of namespaces) {
                    const labels = r.inputs(ns).metadata.labels;
                    assert.equal(labels["app.kubernetes.io/part-of"], "lakehouse-platform");
                    assert.equal(labels["lakehouse-platform/environment"], stack);
                    assert.equal(
                        cfg.namespaces[labels["lakehouse-platform/component"] as keyof typeof cfg.namespaces],
                        r.inputs(ns).metadata.name,
                    );
                    assert.match(labels["pod-security.kubernetes.io/enforce"], /^(baseline|restricted)$/);
                    assert.equal(labels["pod-security.kubernetes.io/warn"], "restricted");
                }
            });

            it("exports the namespaces and the address table", () => {
                const cfg = platformConfigOf(stack);
                const out = runs[stack].outputs as {
                    namespaces: Record<string, string>;
                    addresses: Record<string, { host: string; namespace: string; url: string }>;
                };
                assert.deepEqual(out.namespaces, Object.fromEntries(cfg.components.map((c) => [c, cfg.namespaces[c]])));
                assert.equal(
                    out.addresses.hiveMetastore.url,
                    `thrift://hive-metastore.${cfg.namespaces.database}.svc.${cfg.clusterDomain}:9083`,
                );
                for (const a of Object.values(out.addresses)) {
                    assert.ok(
                        Object.values(out.namespaces).includes(a.namespace),
                        `${a.host} is outside the stack's namespaces`,
                    );
                    assert.ok(a.host.endsWith(`.svc.${cfg.clusterDomain}`), a.host);
                }
            });

            it("sends every Kubernetes resource through the explicit provider of the stack's cluster", () => {
                const r = runs[stack];
                const providers = r.ofType(PROVIDER);
                assert.equal(providers.length, 1);
                assert.equal(r.inputs(providers[0]).context, platformConfigOf(stack).kubernetes.context);
                // Custom resources and provider-implemented components (helm.v4.Chart) alike.
                const k8sResources = r.resources.filter(
                    (x) => (x.custom || x.remote) && x.type.startsWith("kubernetes:"),
                );
                assert.ok(k8sResources.length > 0);
                for (const x of k8sResources)
                    assert.equal(x.provider, providers[0].urn, `${x.type} ${x.name} does not use the stack's provider`);
            });
        });
    }

    it("targets a different cluster context in each environment", () => {
        const contexts = ["dev", "staging", "prod"].map((s) => runs[s].inputs(runs[s].ofType(PROVIDER)[0]).context);
        assert.equal(new Set(contexts).size, 3);
    });

    it("registers only the namespaces of the components a stack enables", async () => {
        const r = await run("staging", { overrides: { "lakehouse-platform:components": ["garage", "database"] } });
        assert.deepEqual(
            r
                .ofType(NAMESPACE)
                .map((n) => r.inputs(n).metadata.name)
                .sort(),
            ["database-staging", "garage-staging"],
        );
        assert.deepEqual(Object.keys((r.outputs as { addresses: object }).addresses).sort(), [
            "garageS3",
            "hiveMetastore",
            "postgres",
        ]);
    });

    it("fails fast on a bad config, naming every offending key, before registering anything", async () => {
        const err = await runFailing("dev", {
            overrides: {
                "lakehouse-platform:trinoNamespace": "Trino",
                "lakehouse-platform:garageReplicas": 0,
                "lakehouse-platform:components": ["garage", "hdfs"],
            },
        });
        assert.ok(err.cause instanceof ConfigError);
        for (const key of ["trinoNamespace", "garageReplicas", "components"])
            assert.match(err.message, new RegExp(`lakehouse-platform:${key} = `));
        assert.deepEqual(
            err.resources.map((r) => r.type),
            ["pulumi:pulumi:Stack"],
            "only the stack root may exist when the config is invalid",
        );
    });
});
