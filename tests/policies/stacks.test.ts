import { strict as assert } from "assert";
import * as fc from "fast-check";
import { PLATFORM_SERVICES as PROGRAM_SERVICES } from "../../components/addresses";
import { platformConfigOf, policyConfigOf } from "../../offline/run-stack";
import { loadProject, stackConfig } from "../../offline/stack-config";
import { stackSettings } from "../../policies/lib/config";
import { PLATFORM_SERVICES } from "../../policies/lib/platform";
import { POLICIES } from "../../policies/policies";
import { serversUseTls } from "../../policies/servers-use-tls";
import { plannedStack, run } from "../helpers/stack";
import { beyondTlsAdvisories, judgeRun, mandatoryOf, runPack, T } from "../helpers/policy";

describe("the policy pack on this project's stacks, through the CLI's protocol", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: no mandatory violation, and no advisory but servers-use-tls's for the servers its settings leave without TLS, in an update and in a first preview (unknowns)`, async () => {
            const cfg = platformConfigOf(stack);
            const withoutTls = [
                ...(cfg.trino.authentication ? [] : ['kubernetes:helm.sh/v3:Release "trino"']),
                ...(cfg.database.postgres.tls ? [] : ['kubernetes:apps/v1:StatefulSet "postgres"']),
            ];
            const named = (vs: { policy: string; message: string }[]) =>
                vs
                    .filter((v) => v.policy === serversUseTls.name)
                    .map((v) => withoutTls.find((s) => v.message.includes(s)) ?? v.message)
                    .sort();
            // The update is the stack's plan (`npm run plan`, shared with the other tests that read it).
            const update = (await plannedStack(stack)).policy.violations;
            const preview = (await judgeRun((await run(stack, { preview: true })).raw)).violations;
            for (const [what, vs] of [
                [stack, update],
                [`${stack} (preview)`, preview],
            ] as const) {
                assert.deepEqual(beyondTlsAdvisories(vs), [], what);
                assert.deepEqual(named(vs), [...withoutTls].sort(), what);
            }
        });
    }

    it("postgres-clients-verify: dev with postgresTls passes as the program writes it, and fails once a client stops verifying", async () => {
        const r = await run("dev", { overrides: { "lakehouse-platform:postgresTls": true } });
        assert.deepEqual(beyondTlsAdvisories((await judgeRun(r.raw)).violations), []);
        const report = await judgeRun(r.raw, {
            edit: (resources) =>
                resources.map((x) => {
                    if (x.name !== "hive-metastore-conf") return x;
                    const weak = JSON.parse(
                        JSON.stringify(x.inputs).replace("sslmode=verify-full", "sslmode=require"),
                    ) as Record<string, unknown>;
                    return { ...x, inputs: weak, outputs: weak };
                }),
        });
        const found = mandatoryOf(report);
        assert.deepEqual(
            found.map((v) => v.policy),
            ["postgres-clients-verify"],
        );
        assert.match(
            found[0].message,
            /hive-metastore-conf.*sslmode is "require": the server's certificate is not verified/,
        );
    });

    it("catches a wrong address the program could produce: Trino pointed at a metastore namespace that does not exist", async () => {
        const r = await run("staging", {
            overrides: { "lakehouse-platform:components": ["garage", "database", "trino"] },
        });
        const report = await judgeRun(r.raw, {
            edit: (resources) =>
                resources.map((x) => {
                    // The values, and the check the program would generate from them.
                    if (x.type !== T.release && x.name !== "wiring-checks-trino-script") return x;
                    const wrong = JSON.parse(
                        JSON.stringify(x.inputs).replace(
                            /hive-metastore\.database-staging/g,
                            "hive-metastore.database",
                        ),
                    ) as Record<string, unknown>;
                    return { ...x, inputs: wrong, outputs: wrong };
                }),
        });
        const found = mandatoryOf(report);
        const resolves = found.filter((v) => v.policy === "fqdn-resolves");
        // Once in the values, once in the wiring check's script (each of its mentions).
        assert.equal(resolves.filter((v) => v.urn.endsWith("$kubernetes:helm.sh/v3:Release::trino")).length, 1);
        assert.ok(
            resolves.filter((v) => v.urn.endsWith("$kubernetes:core/v1:ConfigMap::wiring-checks-trino-script"))
                .length >= 1,
        );
        for (const v of resolves)
            assert.match(v.message, /use "hive-metastore\.database-staging\.svc\.cluster\.local"/);
        assert.ok(
            resolves.some(
                (v) =>
                    v.urn ===
                    "urn:pulumi:staging::lakehouse-platform::lakehouse:platform:LakehousePlatform$lakehouse:query:Trino$kubernetes:helm.sh/v3:Release::trino",
            ),
        );
        // The NetworkPolicies still admit the connection the values no longer make, both ways.
        const coverage = found.filter((v) => v.policy === "network-policy-coverage").map((v) => v.message);
        assert.equal(found.length, resolves.length + coverage.length);
        assert.deepEqual(coverage.map((m) => m.split(":")[0]).sort(), [
            "NetworkPolicy database-staging/lakehouse-from-trino ingress[0]",
            "NetworkPolicy trino-staging/lakehouse-to-database egress[0]",
        ]);
        assert.match(coverage.join("\n"), /nothing in trino-staging is wired to database-staging on 9083/);
    });

    it("knows every Service the program publishes, by the same name and port", () => {
        for (const s of Object.values(PROGRAM_SERVICES)) {
            const known = PLATFORM_SERVICES.find((k) => k.name === s.service);
            assert.ok(known, `the policies do not know ${s.service}`);
            assert.equal(known.component, s.component);
            assert.ok(known.ports.includes(s.port));
            const tls = (s as { tls?: { port: number } }).tls;
            assert.equal(known.tlsPort, tls?.port, `${s.service}'s TLS port`);
        }
    });
});

describe("every policy, on arbitrary input", () => {
    // Nested values of any shape, with strings that look like addresses, configuration text and credentials.
    const text = fc.oneof(
        fc.string(),
        fc.constantFrom(
            "garage:3900",
            "http://garage.garage:3900",
            "thrift://hive-metastore.hive.svc.cluster.local:9083",
            "10.0.0.1:80",
            "[::]:3900",
            "password",
            "${ENV:X}",
            "GK0123456789abcdef01234567",
        ),
        fc.constantFrom(
            "a=b\nhost=trino:8080",
            "key: value\nhost: trino\n",
            "<configuration><property><name>x</name><value>garage:3900</value></property></configuration>",
            '[s]\nk = "v"\n',
            "<a",
            "x:\n  - [",
            "=\n=\n",
        ),
    );
    const value = fc.letrec((tie) => ({
        node: fc.oneof(
            { depthSize: "small" },
            text,
            fc.integer(),
            fc.boolean(),
            fc.constant(null),
            fc.constant(undefined),
            fc.array(tie("node"), { maxLength: 4 }),
            fc.dictionary(
                fc.oneof(
                    fc.string(),
                    fc.constantFrom(
                        "env",
                        "data",
                        "values",
                        "metadata",
                        "host",
                        "password",
                        "image",
                        "containers",
                        "spec",
                        "namespace",
                        "chart",
                        "name",
                        "value",
                    ),
                ),
                tie("node"),
                { maxKeys: 5 },
            ),
        ),
    })).node;
    const types = fc.constantFrom(
        T.release,
        T.chart,
        T.configMap,
        T.deployment,
        T.job,
        T.service,
        T.namespace,
        T.secret,
        T.stackReference,
        "kubernetes:batch/v1:CronJob",
        "kubernetes:core/v1:Pod",
        "random:index/randomPassword:RandomPassword",
    );
    // Properties always travel as a map (a protobuf Struct); anything may be inside.
    const resource = fc.record({
        type: types,
        name: fc.string(),
        props: fc.dictionary(
            fc.constantFrom("metadata", "spec", "values", "data", "chart", "namespace", "version", "name", "x"),
            value,
            { maxKeys: 5 },
        ),
    });

    it("never fails the gate, whatever the resources: the pack over the protocol, every policy, advisory or remediate", async () => {
        await fc.assert(
            fc.asyncProperty(
                fc.array(resource, { maxLength: 6 }),
                fc.constantFrom<"advisory" | "remediate">("advisory", "remediate"),
                async (resources, level) => {
                    const fixtures = resources.map((r, i) => ({
                        type: r.type,
                        name: r.name,
                        urn: `urn:pulumi:test::lakehouse-platform::${r.type}::r${i}`,
                        props: JSON.parse(JSON.stringify(r.props ?? {})) as Record<string, unknown>,
                    }));
                    // A PolicyFailure (a policy that threw) rejects here and fails the property.
                    await runPack(fixtures, { all: level });
                },
            ),
            // Fewer runs than the direct calls below (300), which put every policy to the same
            // arbitrary input: these add the pack's own path (protocol, config, remediation).
            { numRuns: 60 },
        );
    });

    it("never throws when called directly with malformed props or config", async () => {
        await fc.assert(
            fc.asyncProperty(value, value, types, async (props, cfg, type) => {
                for (const policy of POLICIES) {
                    const getConfig = <C>() => cfg as C;
                    if ("validateStack" in policy) {
                        const resources = [
                            { type, name: "x", urn: "u", props, opts: {}, dependencies: [], propertyDependencies: {} },
                        ];
                        await policy.validateStack({ resources, getConfig } as never, () => undefined);
                    } else {
                        const args = { type, name: "x", urn: "u", props, getConfig } as never;
                        if (typeof policy.validateResource === "function")
                            await policy.validateResource(args, () => undefined);
                        if (policy.remediateResource) await policy.remediateResource(args);
                    }
                }
            }),
            { numRuns: 300 },
        );
    });
});

describe("the pack itself", () => {
    it("has the policies of the platform, each named, described and at its default level", () => {
        const levels = Object.fromEntries(POLICIES.map((p) => [p.name, p.enforcementLevel]));
        assert.deepEqual(levels, {
            "cross-namespace-fqdn": "mandatory",
            "fqdn-resolves": "mandatory",
            "no-ip-endpoints": "mandatory",
            "no-plaintext-credentials": "mandatory",
            "trino-clients-authenticate": "mandatory",
            "postgres-clients-verify": "mandatory",
            "airbyte-auth-on": "mandatory",
            "login-proxy-closed": "mandatory",
            "servers-use-tls": "advisory",
            "configuration-readable": "mandatory",
            "component-namespace": "mandatory",
            "network-policy-coverage": "mandatory",
            "chart-version-pinned": "advisory",
            "chart-values-known": "mandatory",
            "image-tag-pinned": "advisory",
        });
        for (const p of POLICIES) assert.ok(p.description.length > 40, p.name);
    });

    describe("the pack reads the stack's settings from the stack itself, as the program does", () => {
        /** What the pack decides from a stack's config as the CLI hands it over (PULUMI_CONFIG). */
        const packReads = (stack: string, overrides: Record<string, unknown> = {}) => {
            const project = loadProject();
            return stackSettings({
                PULUMI_CONFIG: JSON.stringify(stackConfig(project, stack, overrides).config),
                PULUMI_NODEJS_PROJECT: project.name,
            });
        };
        /** What the program decides from the same config. */
        const programReads = (stack: string, overrides: Record<string, unknown> = {}) => {
            const { clusterDomain, namespaces, clientNamespaces } = policyConfigOf(platformConfigOf(stack, overrides));
            return { clusterDomain, namespaces, clientNamespaces };
        };

        for (const stack of ["dev", "staging", "prod"])
            it(`${stack}: the same cluster domain, namespaces and client namespaces`, () =>
                assert.deepEqual(packReads(stack), programReads(stack)));

        it("a stack file that moves Trino: the pack follows it with no file of its own", () => {
            const moved = { "lakehouse-platform:trinoNamespace": "query-staging" };
            assert.equal(packReads("staging", moved)?.namespaces.trino, "query-staging");
            assert.deepEqual(packReads("staging", moved), programReads("staging", moved));
        });

        it("any namespaces, cluster domain and client namespaces a stack may set", () => {
            const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
            fc.assert(
                fc.property(
                    fc.uniqueArray(label, { minLength: 7, maxLength: 7 }),
                    fc.array(label, { minLength: 1, maxLength: 3 }),
                    fc.boolean(),
                    (names, domain, clients) => {
                        const [g, d, t, a, dg, c1, c2] = names;
                        if ([g, d, t, a, dg].some((n) => n.startsWith("kube") || n === "default")) return;
                        const overrides = {
                            "lakehouse-platform:garageNamespace": g,
                            "lakehouse-platform:databaseNamespace": d,
                            "lakehouse-platform:trinoNamespace": t,
                            "lakehouse-platform:airbyteNamespace": a,
                            "lakehouse-platform:dagsterNamespace": dg,
                            "lakehouse-platform:clusterDomain": domain.join("."),
                            ...(clients ? { "lakehouse-platform:networkPolicyClientNamespaces": [c1, c2] } : {}),
                        };
                        assert.deepEqual(packReads("dev", overrides), programReads("dev", overrides));
                    },
                ),
                { numRuns: 40 },
            );
        });

        it("without a stack (offline, fixtures) it reads nothing, and the policy config decides", () => {
            assert.equal(stackSettings({}), undefined);
            assert.equal(stackSettings({ PULUMI_CONFIG: "{}" }), undefined, "no project: not this CLI's pack run");
        });
    });
});
