// NetworkPolicies generated from the wiring, judged with the same reading of NetworkPolicy
// semantics the `network-policy-coverage` policy uses (policies/lib/network.ts).
import { strict as assert } from "assert";
import type { WiringEdge } from "../components/addresses";
import { COMPONENTS } from "../components/config";
import { clusterObjectsOf } from "../offline/engine";
import { unwrapSecrets } from "../offline/engine";
import { engineResources, platformConfigOf } from "../offline/run-stack";
import { judgeRun, mandatoryOf } from "./helpers/policy";
import {
    egressRulesAdmitting,
    ingressRulesAdmitting,
    namespaceLabels,
    NETWORK_POLICY_TYPE,
    parseNetworkPolicies,
    ParsedNetworkPolicy,
} from "../policies/lib/network";
import { run, Run } from "./helpers/stack";

const P = "lakehouse-platform";
const ON = { [`${P}:networkPolicies`]: true };

interface Judged {
    policies: ParsedNetworkPolicy[];
    labelsOf: (ns: string) => Record<string, string>;
    namespaces: Record<string, string>;
    edges: { from: string; to: string; port: number }[];
}

function judge(r: Run, stack: string, overrides: Record<string, unknown> = {}): Judged {
    const resources = engineResources(r.raw).map((x) => ({
        type: x.type,
        name: x.name,
        urn: x.urn,
        props: unwrapSecrets(x.inputs),
    }));
    const cfg = platformConfigOf(stack, overrides);
    const ns = cfg.namespaces;
    const edges = (r.view.wiring as WiringEdge[]).map((e) => ({ from: ns[e.from], to: ns[e.to], port: e.port }));
    return { policies: parseNetworkPolicies(resources), labelsOf: namespaceLabels(resources), namespaces: ns, edges };
}

/** Every namespace a rule of `policy` names, by its namespaceSelector. */
function namedNamespaces(policy: ParsedNetworkPolicy, direction: "ingress" | "egress"): string[] {
    return (policy[direction] ?? []).flatMap((rule) =>
        (rule.peers ?? []).flatMap((p) =>
            p.kind === "namespaces" ? [p.matchLabels["kubernetes.io/metadata.name"]] : [],
        ),
    );
}

function assertFollowsWiring(j: Judged, restrictedEgress: string[], deployed = Object.values(j.namespaces)): void {
    for (const e of j.edges) {
        const admitted = ingressRulesAdmitting(j.policies, e.from, e.to, e.port, j.labelsOf);
        assert.equal(
            admitted.length,
            1,
            `${e.from} → ${e.to}:${e.port} is admitted by ${admitted.length} ingress rules`,
        );
        if (restrictedEgress.includes(e.from)) {
            assert.equal(
                egressRulesAdmitting(j.policies, e.from, e.to, e.port, j.labelsOf).filter(
                    (x) => x.rule.peers !== undefined,
                ).length,
                1,
                `egress ${e.from} → ${e.to}:${e.port}`,
            );
        }
    }
    const platform = Object.values(j.namespaces);
    const ports = [80, 443, 3900, 3901, 3903, 5432, 8001, 8080, 9083, 22];
    for (const from of platform) {
        for (const to of platform) {
            if (from === to || j.edges.some((e) => e.from === from && e.to === to)) continue;
            for (const port of ports)
                assert.deepEqual(
                    ingressRulesAdmitting(j.policies, from, to, port, j.labelsOf),
                    [],
                    `${from} → ${to}:${port} has no edge but is admitted`,
                );
            for (const p of j.policies.filter((x) => x.namespace === to))
                assert.ok(!namedNamespaces(p, "ingress").includes(from), `${p.namespace}/${p.name} names ${from}`);
        }
    }
    // Each deployed namespace is isolated for ingress and admits its own pods.
    for (const ns of deployed) {
        assert.ok(
            j.policies.some(
                (p) => p.namespace === ns && p.name === "lakehouse-baseline" && p.allPods && p.ingress !== undefined,
            ),
            `${ns} has no baseline`,
        );
        assert.equal(ingressRulesAdmitting(j.policies, ns, ns, 12345, j.labelsOf).length, 1, `${ns}'s own pods`);
    }
}

describe("NetworkPolicies from the wiring", () => {
    it("dev (switched on): every wired edge is admitted by exactly one rule, and a pair without an edge by none", async () => {
        const r = await run("dev", { overrides: ON });
        const j = judge(r, "dev", ON);
        assert.equal(j.edges.length, 11);
        assertFollowsWiring(j, ["garage", "database", "trino"]);
        // Trino's egress is exactly its wiring, its own pods and DNS: not Airbyte, not the internet.
        assert.deepEqual(egressRulesAdmitting(j.policies, "trino", "airbyte", 8001, j.labelsOf), []);
        const trinoBaseline = j.policies.find((p) => p.namespace === "trino" && p.name === "lakehouse-baseline")!;
        assert.deepEqual(
            trinoBaseline.egress!.flatMap((rule) => rule.ports ?? []).map((p) => `${p.protocol}/${p.port}`),
            ["UDP/53", "TCP/53"],
        );
        // Airbyte's connectors and Dagster's runs reach sources the platform cannot know: their egress stays open.
        for (const ns of ["airbyte", "dagster"])
            assert.ok(
                j.policies.filter((p) => p.namespace === ns).every((p) => p.egress === undefined),
                ns,
            );
    });

    for (const stack of ["staging", "prod"]) {
        it(`${stack}: on by default, with ${stack}'s namespaces in every rule`, async () => {
            const r = await run(stack);
            const j = judge(r, stack);
            assertFollowsWiring(j, [j.namespaces.garage, j.namespaces.database, j.namespaces.trino]);
            for (const p of j.policies) {
                assert.match(p.namespace, new RegExp(`-${stack}$`));
                for (const ns of [...namedNamespaces(p, "ingress"), ...namedNamespaces(p, "egress")])
                    assert.match(ns, new RegExp(`-${stack}$`), `${p.namespace}/${p.name}`);
            }
        });
    }

    it("lets the metastore download its JDBC driver on the port its URL names (an artifact mirror on plain HTTP, Maven Central on 443)", async () => {
        const egressPorts = async (url: string) => {
            const sha = "188976721ead8e8627eb6d8389d500dccc0c9bebd885268a3047180274a6031e";
            const r = await run("staging", {
                overrides: { hiveMetastoreJdbcDriverUrl: url, hiveMetastoreJdbcDriverSha256: sha },
            });
            type Policy = {
                metadata: { name: string; namespace: string };
                spec: { egress: { ports?: { port: number }[] }[] };
            };
            const baseline = r
                .ofType(NETWORK_POLICY_TYPE)
                .map((p) => p.inputs as unknown as Policy)
                .find((p) => p.metadata.namespace === "database-staging" && p.metadata.name === "lakehouse-baseline");
            return baseline!.spec.egress
                .flatMap((rule) => rule.ports ?? [])
                .map((p) => p.port)
                .filter((p) => p !== 53);
        };
        assert.deepEqual(
            await egressPorts("https://repo1.maven.org/maven2/org/postgresql/postgresql/42.7.4/postgresql-42.7.4.jar"),
            [443],
        );
        assert.deepEqual(
            await egressPorts(
                "http://maven.artifacts.svc.cluster.local/maven2/org/postgresql/postgresql/42.7.4/postgresql-42.7.4.jar",
            ),
            [80],
        );
        assert.deepEqual(
            await egressPorts(
                "http://nexus.tools.svc.cluster.local:8081/repository/maven/org/postgresql/postgresql/42.7.4/postgresql-42.7.4.jar",
            ),
            [8081],
        );
    });

    it("is off in dev, where laptops reach everything while people work", async () => {
        const r = await run("dev");
        assert.deepEqual(r.ofType(NETWORK_POLICY_TYPE), []);
    });

    it("follows the wiring when a component goes: no rule is left for an edge that no longer exists", async () => {
        const overrides = { ...ON, [`${P}:components`]: ["garage", "database", "trino"] };
        const r = await run("dev", { overrides });
        const j = judge(r, "dev", overrides);
        const admits = (r2: Run) =>
            r2
                .ofType(NETWORK_POLICY_TYPE)
                .map((p) => r2.inputs(p).metadata.labels["lakehouse-platform/admits"])
                .filter(Boolean);
        assert.deepEqual([...new Set(admits(r))].sort(), ["database", "trino"]);
        assert.deepEqual(
            j.policies.map((p) => p.namespace).filter((ns) => !["garage", "database", "trino"].includes(ns)),
            [],
        );
        assert.equal(j.edges.length, 3);
        assertFollowsWiring(j, ["garage", "database", "trino"], ["garage", "database", "trino"]);
    });

    it("admits configured client namespaces to the user-facing services only, and the policy knows them", async () => {
        const overrides = { ...ON, [`${P}:networkPolicyClientNamespaces`]: ["ingress-nginx"] };
        const r = await run("dev", { overrides });
        const j = judge(r, "dev", overrides);
        const admitted = (to: string, port: number) =>
            ingressRulesAdmitting(j.policies, "ingress-nginx", to, port, j.labelsOf).length;
        assert.equal(admitted("trino", 8080), 1);
        assert.equal(admitted("airbyte", 8001), 1);
        assert.equal(admitted("dagster", 80), 1);
        assert.equal(admitted("garage", 3900), 0);
        assert.equal(admitted("database", 5432), 0);
        assert.equal(admitted("trino", 8081), 0);
        const withClients = await judgeRun(r.raw, { settings: platformConfigOf("dev", overrides) });
        assert.deepEqual(mandatoryOf(withClients), []);
        const withoutClients = await judgeRun(r.raw, { settings: platformConfigOf("dev", ON) });
        assert.deepEqual(
            mandatoryOf(withoutClients)
                .map((v) => v.message.split(":")[0])
                .sort(),
            [
                "NetworkPolicy airbyte/lakehouse-from-clients ingress[0]",
                "NetworkPolicy dagster/lakehouse-from-clients ingress[0]",
                "NetworkPolicy trino/lakehouse-from-clients ingress[0]",
            ],
        );
    });

    it("in split stacks, the stack that makes a connection admits it in the target's namespace", async () => {
        const storageName = "acme/lakehouse-platform/storage-dev";
        const storage = await run("dev", {
            overrides: { ...ON, [`${P}:components`]: ["garage", "database"], [`${P}:downstreamComponents`]: ["trino"] },
        });
        const query = await run("dev", {
            overrides: { ...ON, [`${P}:components`]: ["trino"], [`${P}:upstreamStacks`]: [storageName] },
            stackReferences: { [storageName]: storage.outputs },
            cluster: clusterObjectsOf(storage.raw.resources),
        });
        const placed = (r: Run) =>
            r
                .ofType(NETWORK_POLICY_TYPE)
                .map((p) => `${r.inputs(p).metadata.namespace}/${r.inputs(p).metadata.name}`)
                .sort();
        assert.deepEqual(placed(storage), [
            "database/lakehouse-baseline",
            "database/lakehouse-to-garage",
            "garage/lakehouse-baseline",
            "garage/lakehouse-from-database",
        ]);
        assert.deepEqual(placed(query), [
            "database/lakehouse-from-trino",
            "garage/lakehouse-from-trino",
            "trino/lakehouse-baseline",
            "trino/lakehouse-to-database",
            "trino/lakehouse-to-garage",
        ]);
        // Together they are exactly the single stack's policies for these three namespaces.
        const single = await run("dev", { overrides: { ...ON, [`${P}:components`]: ["garage", "database", "trino"] } });
        assert.deepEqual([...placed(storage), ...placed(query)].sort(), placed(single));
        const report = await judgeRun(query.raw, { settings: platformConfigOf("dev") });
        assert.deepEqual(mandatoryOf(report), []);
    });

    it("names a NetworkPolicy after what it admits, in the namespace of the component it protects", async () => {
        const r = await run("staging");
        for (const p of r.ofType(NETWORK_POLICY_TYPE)) {
            const meta = r.inputs(p).metadata;
            const component = meta.labels["lakehouse-platform/component"];
            assert.ok((COMPONENTS as readonly string[]).includes(component));
            assert.equal(
                meta.namespace,
                platformConfigOf("staging").namespaces[component as (typeof COMPONENTS)[number]],
            );
            assert.match(meta.name, /^lakehouse-(baseline|from-[a-z]+|to-[a-z]+)$/);
        }
    });
});
