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

            it("publishes every service at the address the platform's view derives, on one screen", () => {
                const cfg = platformConfigOf(stack);
                const view = runs[stack].view as {
                    namespaces: Record<string, string>;
                    addresses: Record<string, { host: string; namespace: string; url: string; component: string }>;
                };
                assert.deepEqual(
                    view.namespaces,
                    Object.fromEntries(cfg.components.map((c) => [c, cfg.namespaces[c]])),
                );
                assert.equal(
                    view.addresses.hiveMetastore.url,
                    `thrift://hive-metastore.${cfg.namespaces.database}.svc.${cfg.clusterDomain}:9083`,
                );
                for (const a of Object.values(view.addresses)) {
                    assert.ok(
                        Object.values(view.namespaces).includes(a.namespace),
                        `${a.host} is outside the stack's namespaces`,
                    );
                    assert.ok(a.host.endsWith(`.svc.${cfg.clusterDomain}`), a.host);
                }
                // The stack outputs name each service once, by the address its clients use.
                const components = runs[stack].outputs.components as Record<
                    string,
                    { namespace: string; services: Record<string, string> }
                >;
                const published = Object.values(components).flatMap((c) => Object.values(c.services));
                assert.deepEqual(
                    published.sort(),
                    Object.values(view.addresses)
                        .map((a) => a.url)
                        .sort(),
                );
                // `pulumi up` prints every stack output, a line per value (as JSON indents them): one
                // screen, 70 lines for the contract and the data settings, and Airbyte's admin
                // password, the one output for people (masked), on a line of its own.
                const lines = JSON.stringify(runs[stack].outputs, null, 4).split("\n").length;
                assert.ok(lines <= 71, `the stack outputs take ${lines} lines, more than a screen`);
            });

            it("sends every Kubernetes resource through the explicit provider of the stack's cluster", () => {
                const r = runs[stack];
                const cfg = platformConfigOf(stack);
                const providers = r.ofType(PROVIDER);
                const main = r.one(PROVIDER, "kubernetes");
                // With retainStatefulResources, a second provider on the same cluster takes over
                // what a destroy kept (upsertExistingObjects); the rest stays on the main one.
                assert.deepEqual(
                    providers.map((p) => p.name).sort(),
                    cfg.stateful.retainOnDelete ? ["kubernetes", "kubernetes-retained"] : ["kubernetes"],
                );
                for (const p of providers) {
                    assert.equal(r.inputs(p).context, cfg.kubernetes.context);
                    // Provider config travels as strings.
                    assert.equal(
                        String(r.inputs(p).enableSecretMutable),
                        "true",
                        "Secrets change in place, never absent",
                    );
                    assert.equal(
                        String(r.inputs(p).enableConfigMapMutable),
                        "true",
                        "ConfigMaps change in place, never absent",
                    );
                }
                const retained = providers.find((p) => p.name === "kubernetes-retained");
                assert.equal(r.inputs(main).upsertExistingObjects, undefined);
                if (retained) {
                    assert.equal(String(r.inputs(retained).upsertExistingObjects), "true");
                    assert.equal(String(r.inputs(retained).enablePatchForce), "true");
                }
                // Custom resources and provider-implemented components (helm.v4.Chart) alike.
                const k8sResources = r.resources.filter(
                    (x) => (x.custom || x.remote) && x.type.startsWith("kubernetes:"),
                );
                assert.ok(k8sResources.length > 0);
                for (const x of k8sResources) {
                    // Only what is kept on delete goes through the retained objects' provider.
                    const want = retained && x.retainOnDelete ? retained.urn : main.urn;
                    assert.equal(x.provider, want, `${x.type} ${x.name} does not use the stack's provider`);
                }
            });
        });
    }

    it("targets a different cluster context in each environment", () => {
        const contexts = ["dev", "staging", "prod"].map(
            (s) => runs[s].inputs(runs[s].one(PROVIDER, "kubernetes")).context,
        );
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
        assert.deepEqual(Object.keys((r.view as { addresses: object }).addresses).sort(), [
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
