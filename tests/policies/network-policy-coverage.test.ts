import { strict as assert } from "assert";
import { networkPolicyCoverage } from "../../policies/network-policy-coverage";
import { configMap, devPlatform, Fixture, messages, namespace, trinoRelease } from "../helpers/policy";

const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

function byName(ns: string): Record<string, unknown> {
    return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } };
}

function policy(namespace: string, name: string, spec: Record<string, unknown>): Fixture {
    return {
        type: NP,
        name: `${namespace}-${name}`,
        props: { metadata: { name, namespace }, spec: { podSelector: {}, ...spec } },
    };
}

const baseline = (ns: string, egress?: Record<string, unknown>[]) =>
    policy(ns, "lakehouse-baseline", {
        policyTypes: egress ? ["Ingress", "Egress"] : ["Ingress"],
        ingress: [{ from: [{ podSelector: {} }] }],
        ...(egress ? { egress } : {}),
    });
const admit = (to: string, from: string, ports: number[]) =>
    policy(to, `lakehouse-from-${from}`, {
        policyTypes: ["Ingress"],
        ingress: [{ from: [byName(from)], ports: ports.map((port) => ({ protocol: "TCP", port })) }],
    });
const allow = (from: string, to: string, ports: number[]) =>
    policy(from, `lakehouse-to-${to}`, {
        policyTypes: ["Egress"],
        egress: [{ to: [byName(to)], ports: ports.map((port) => ({ protocol: "TCP", port })) }],
    });

/** Trino reaches the metastore and Garage; nothing else is wired. */
const platform = [...devPlatform({ garage: "garage", database: "database", trino: "trino" }), trinoRelease()];
const dns = {
    ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
    ],
};
const covered = [
    baseline("garage"),
    baseline("database"),
    baseline("trino", [{ to: [{ podSelector: {} }] }, dns]),
    admit("database", "trino", [9083]),
    admit("garage", "trino", [3900]),
    allow("trino", "database", [9083]),
    allow("trino", "garage", [3900]),
];

describe("network-policy-coverage", () => {
    it("passes NetworkPolicies that admit exactly the wired connections", async () => {
        assert.deepEqual(await messages(networkPolicyCoverage, [...platform, ...covered]), []);
    });

    it("does not judge a stack without NetworkPolicies (switched off)", async () => {
        assert.deepEqual(await messages(networkPolicyCoverage, platform), []);
    });

    it("flags a wired connection no ingress rule admits, naming the value that makes it", async () => {
        const found = await messages(networkPolicyCoverage, [
            ...platform,
            ...covered.filter((f) => f.name !== "garage-lakehouse-from-trino"),
        ]);
        assert.equal(found.length, 1);
        assert.match(
            found[0],
            /Release trino: values\.catalogs\.lakehouse › s3\.endpoint: connects trino to garage on port 3900, but no NetworkPolicy in garage admits it/,
        );
    });

    it("flags a connection out of an isolated namespace that no egress rule lets out", async () => {
        const found = await messages(networkPolicyCoverage, [
            ...platform,
            ...covered.filter((f) => f.name !== "trino-lakehouse-to-database"),
        ]);
        assert.equal(found.length, 1);
        assert.match(
            found[0],
            /connects trino to database on port 9083, but trino's egress is restricted and no rule lets it out/,
        );
    });

    it("flags a connection a ConfigMap makes, too: the metastore's S3 endpoint", async () => {
        const hadoop = configMap("hive-metastore-conf", "database", {
            "core-site.xml":
                "<configuration><property><name>fs.s3a.endpoint</name><value>http://garage.garage.svc.cluster.local:3900</value></property></configuration>",
        });
        const found = await messages(networkPolicyCoverage, [...platform, hadoop, ...covered]);
        assert.equal(found.length, 1);
        assert.match(
            found[0],
            /ConfigMap hive-metastore-conf: data\["core-site.xml"\] › fs\.s3a\.endpoint: connects database to garage on port 3900/,
        );
    });

    it("flags a rule that admits a namespace nothing wires, or a port nothing uses", async () => {
        const extra = [...covered, admit("garage", "database", [3900]), admit("database", "trino", [5432])];
        const found = await messages(networkPolicyCoverage, [...platform, ...extra]);
        assert.equal(found.length, 2);
        assert.match(
            found.join("\n"),
            /NetworkPolicy garage\/lakehouse-from-database ingress\[0\]: admits namespace database on port 3900, but nothing in database is wired to garage on 3900/,
        );
        assert.match(
            found.join("\n"),
            /NetworkPolicy database\/lakehouse-from-trino ingress\[0\]: admits namespace trino on port 5432/,
        );
    });

    it("flags rules open to every source, every namespace or an address range", async () => {
        const open = [
            ...covered,
            policy("garage", "open", {
                policyTypes: ["Ingress"],
                ingress: [{ ports: [{ protocol: "TCP", port: 3900 }] }],
            }),
            policy("database", "any-namespace", {
                policyTypes: ["Ingress"],
                ingress: [{ from: [{ namespaceSelector: {} }] }],
            }),
            policy("trino", "cidr", {
                policyTypes: ["Ingress"],
                ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }],
            }),
        ];
        const found = (await messages(networkPolicyCoverage, [...platform, ...open])).join("\n");
        assert.match(found, /garage\/open ingress\[0\]: admits every source/);
        assert.match(found, /database\/any-namespace ingress\[0\]: selects every namespace/);
        assert.match(found, /trino\/cidr ingress\[0\]: admits the address range 10\.0\.0\.0\/8/);
    });

    it("flags an egress rule to a namespace nothing is wired to", async () => {
        const found = await messages(networkPolicyCoverage, [
            ...platform,
            ...covered,
            allow("trino", "airbyte", [8001]),
        ]);
        assert.deepEqual(found.length, 1);
        assert.match(
            found[0],
            /trino\/lakehouse-to-airbyte egress\[0\]: lets trino reach namespace airbyte on port 8001, but nothing in trino is wired to airbyte/,
        );
    });

    it("accepts client namespaces from its configuration, and only those", async () => {
        const clients = policy("trino", "lakehouse-from-clients", {
            policyTypes: ["Ingress"],
            ingress: [{ from: [byName("ingress-nginx")], ports: [{ protocol: "TCP", port: 8080 }] }],
        });
        assert.equal((await messages(networkPolicyCoverage, [...platform, ...covered, clients])).length, 1);
        assert.deepEqual(
            await messages(networkPolicyCoverage, [...platform, ...covered, clients], {
                clientNamespaces: ["ingress-nginx"],
            }),
            [],
        );
    });

    it("flags a platform namespace left without its baseline once the stack uses NetworkPolicies", async () => {
        const found = await messages(networkPolicyCoverage, [
            ...platform,
            ...covered.filter(
                (f) => f.name !== "garage-lakehouse-baseline" && f.name !== "garage-lakehouse-from-trino",
            ),
            admit("garage", "trino", [3900]),
        ]);
        assert.equal(found.length, 1);
        assert.match(found[0], /namespace garage is isolated but no rule admits its own pods/);
        const open = await messages(networkPolicyCoverage, [
            ...platform,
            ...covered.filter((f) => !f.name.startsWith("garage-")),
        ]);
        assert.match(open.join("\n"), /namespace garage has no NetworkPolicy isolating its pods' ingress/);
    });

    it("resolves namespace selectors through the labels the stack gives its namespaces", async () => {
        const byComponent = policy("garage", "lakehouse-from-trino", {
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [{ namespaceSelector: { matchLabels: { "lakehouse-platform/component": "trino" } } }],
                    ports: [{ protocol: "TCP", port: 3900 }],
                },
            ],
        });
        const resources = [
            ...platform,
            namespace("trino", "trino"),
            ...covered.filter((f) => f.name !== "garage-lakehouse-from-trino"),
            byComponent,
        ];
        assert.deepEqual(await messages(networkPolicyCoverage, resources), []);
    });
});
