// Environments and split stacks: each environment's addresses stay in its own namespaces, and the
// platform split across stacks (storage + database / query / ingestion / orchestration) hands every
// chart exactly the values the single stack does, through the output contract.
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { WiringEdge } from "../components/addresses";
import { CONTRACT_VERSION, ContractError, CREDENTIALS_NEEDED } from "../components/contract";
import { checkUpstream } from "../components/upstream";
import { databaseConsumers, garageConsumers } from "../components/platform";
import { ClusterObject, clusterObjectsOf } from "../offline/engine";
import { platformConfigOf } from "../offline/run-stack";
import { beyondTlsAdvisories, judgeRun } from "./helpers/policy";
import { configStrings } from "../policies/lib/strings";
import { RecordedResource, run, Run, runFailing } from "./helpers/stack";
import { assertOneCheckPerEdge, Entry, scriptOf } from "./helpers/wiring-checks";

const P = "lakehouse-platform";
const STORAGE = "organization/lakehouse-platform/storage-dev";
const QUERY = "organization/lakehouse-platform/query-dev";
const INGESTION = "organization/lakehouse-platform/ingestion-dev";

/** The recommended split, as overrides of the dev stack file (so namespaces and sizes are dev's). */
const SPLIT = {
    storage: {
        [`${P}:components`]: ["garage", "database"],
        [`${P}:downstreamComponents`]: ["trino", "airbyte", "dagster"],
    },
    query: { [`${P}:components`]: ["trino"], [`${P}:upstreamStacks`]: [STORAGE] },
    ingestion: { [`${P}:components`]: ["airbyte"], [`${P}:upstreamStacks`]: [STORAGE] },
    orchestration: { [`${P}:components`]: ["dagster"], [`${P}:upstreamStacks`]: [STORAGE, QUERY, INGESTION] },
};

const SVC_HOST = /\b([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\.([a-z0-9.-]*[a-z0-9])/g;

/** Every `<service>.<namespace>.svc.<domain>` in the strings a run hands to Kubernetes and its outputs. */
function hostsOf(r: Run): { namespace: string; domain: string; text: string }[] {
    const found: { namespace: string; domain: string; text: string }[] = [];
    const scan = (value: string) => {
        for (const m of value.matchAll(SVC_HOST)) found.push({ namespace: m[3], domain: m[5], text: m[0] });
    };
    for (const res of r.resources) configStrings(res.type, r.inputs(res), (s) => scan(s.value));
    scan(JSON.stringify(r.outputs));
    return found;
}

/** The values a consumer is configured with: the inputs of its charts, ConfigMaps and workloads. */
function configuredBy(r: Run, component: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const res of r.resources) {
        if (!res.custom || res.read) continue;
        const labels = (r.inputs(res).metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {};
        const isChart = res.type.startsWith("kubernetes:helm.sh");
        if (
            (isChart && res.name === component) ||
            (!isChart &&
                labels["lakehouse-platform/component"] === component &&
                res.type !== "kubernetes:core/v1:Secret")
        ) {
            out[`${res.type} ${res.name}`] = r.inputs(res);
        }
    }
    return out;
}

function decoded(r: Run, secret: RecordedResource): Record<string, string> {
    const inputs = r.inputs(secret);
    if (inputs.stringData) return inputs.stringData;
    return Object.fromEntries(
        Object.entries(inputs.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
    );
}

function secretNamed(r: Run, namespace: string, name: string): RecordedResource {
    const found = r
        .ofType("kubernetes:core/v1:Secret")
        .filter((s) => !s.read && r.inputs(s).metadata?.name === name && r.inputs(s).metadata?.namespace === namespace);
    assert.equal(found.length, 1, `one Secret ${namespace}/${name}`);
    return found[0];
}

describe("environments", () => {
    const stacks = ["dev", "staging", "prod"];
    for (const stack of stacks) {
        it(`${stack}: every address is in ${stack}'s namespaces and cluster domain, and none is another stack's`, async () => {
            const r = await run(stack);
            const cfg = platformConfigOf(stack);
            const own = new Set(Object.values(cfg.namespaces));
            const others = stacks
                .filter((s) => s !== stack)
                .flatMap((s) => Object.values(platformConfigOf(s).namespaces))
                .filter((ns) => !own.has(ns));
            const hosts = hostsOf(r);
            assert.ok(hosts.length > 20, `${hosts.length} addresses`);
            for (const h of hosts) {
                assert.ok(own.has(h.namespace), `${h.text} is outside ${stack}'s namespaces`);
                assert.equal(h.domain, cfg.clusterDomain, h.text);
            }
            for (const res of r.resources) {
                const ns = r.inputs(res).metadata?.namespace ?? r.inputs(res).namespace;
                if (typeof ns === "string") assert.ok(own.has(ns), `${res.type} ${res.name} is in ${ns}`);
                if (res.type === "kubernetes:core/v1:Namespace")
                    assert.ok(!others.includes(r.inputs(res).metadata.name));
            }
            const components = r.outputs.components as Record<string, { namespace: string }>;
            for (const [c, contract] of Object.entries(components))
                assert.equal(contract.namespace, cfg.namespaces[c as keyof typeof cfg.namespaces]);
        });
    }

    it("prod protects and retains what holds data, staging retains it, dev neither", async () => {
        const expectations = { dev: [false, false], staging: [false, true], prod: [true, true] } as const;
        for (const [stack, [protect, retain]] of Object.entries(expectations)) {
            const r = await run(stack);
            const cfg = platformConfigOf(stack);
            const stateful = [
                r.one("kubernetes:apps/v1:StatefulSet", "garage"),
                r.one("kubernetes:apps/v1:StatefulSet", "postgres"),
                r.one("kubernetes:core/v1:Namespace", "namespaces-garage"),
                r.one("kubernetes:core/v1:Namespace", "namespaces-database"),
                r.one("random:index/randomPassword:RandomPassword", "postgres-superuser"),
            ];
            for (const res of stateful) {
                assert.equal(res.protect, protect, `${stack}: ${res.type} ${res.name} protect`);
                assert.equal(res.retainOnDelete, retain, `${stack}: ${res.type} ${res.name} retainOnDelete`);
            }
            // Stateless parts stay replaceable.
            for (const name of ["trino", "airbyte", "dagster"])
                assert.equal(r.one("kubernetes:core/v1:Namespace", `namespaces-${name}`).protect, false);
            assert.equal(r.one("kubernetes:apps/v1:Deployment", "hive-metastore").protect, false);
            for (const sts of r.ofType("kubernetes:apps/v1:StatefulSet")) {
                assert.deepEqual(r.inputs(sts).spec.persistentVolumeClaimRetentionPolicy, {
                    whenDeleted: "Retain",
                    whenScaled: "Retain",
                });
            }
            assert.equal(cfg.stateful.protect, protect);
        }
    });
});

describe("split stacks", () => {
    let single: Run;
    let storage: Run;
    let query: Run;
    let ingestion: Run;
    let orchestration: Run;
    let cluster: ClusterObject[];

    before(async () => {
        single = await run("dev");
        storage = await run("dev", { overrides: SPLIT.storage });
        cluster = clusterObjectsOf(storage.raw.resources);
        query = await run("dev", { overrides: SPLIT.query, stackReferences: { [STORAGE]: storage.outputs }, cluster });
        ingestion = await run("dev", {
            overrides: SPLIT.ingestion,
            stackReferences: { [STORAGE]: storage.outputs },
            cluster,
        });
        orchestration = await run("dev", {
            overrides: SPLIT.orchestration,
            stackReferences: { [STORAGE]: storage.outputs, [QUERY]: query.outputs, [INGESTION]: ingestion.outputs },
            cluster,
        });
    });

    it("every stack publishes the versioned contract, with Secret names and never a value", () => {
        for (const r of [single, storage, query]) {
            assert.equal(r.outputs.contractVersion, CONTRACT_VERSION);
            // What other stacks read carries no secret; Airbyte's admin password, for people, is the
            // one secret output, outside the contract.
            const { airbyteAdminPassword, ...contract } = r.raw.outputs;
            const text = JSON.stringify(contract);
            assert.ok(!text.includes(pulumi.runtime.specialSecretSig), "no secret in the contract's outputs");
            if (airbyteAdminPassword !== undefined)
                assert.ok(JSON.stringify(airbyteAdminPassword).includes(pulumi.runtime.specialSecretSig));
        }
        const garage = (storage.outputs.components as any).garage;
        assert.deepEqual(Object.keys(storage.outputs.components as object).sort(), ["database", "garage"]);
        assert.equal(garage.services.s3, "http://garage.garage.svc.cluster.local:3900");
        assert.deepEqual(garage.credentials.trino, {
            namespace: "garage",
            secretName: "trino-garage-credentials",
            accessKeyIdKey: "AWS_ACCESS_KEY_ID",
            secretAccessKeyKey: "AWS_SECRET_ACCESS_KEY",
            buckets: ["lakehouse"],
            generation: 1,
        });
        // No key material anywhere in the outputs, by value.
        const keys = decoded(storage, secretNamed(storage, "garage", "trino-garage-credentials"));
        assert.ok(!JSON.stringify(storage.outputs).includes(keys.AWS_SECRET_ACCESS_KEY));
        assert.deepEqual(Object.keys(query.outputs.components as object), ["trino"]);
    });

    it("docs/outputs.md documents every output of the contract", () => {
        const doc = fs.readFileSync(path.join(__dirname, "..", "docs", "outputs.md"), "utf8");
        const mentioned = (text: string) =>
            assert.ok(
                doc.includes(`\`${text}\``) || doc.includes(`${text}\``) || doc.includes(`\`${text}`),
                `docs/outputs.md does not document ${text}`,
            );
        for (const key of Object.keys(single.outputs)) mentioned(key);
        assert.ok(doc.includes(`\`contractVersion\` is \`${CONTRACT_VERSION}\``));
        for (const [component, contract] of Object.entries(
            single.outputs.components as Record<string, Record<string, any>>,
        )) {
            for (const [key, value] of Object.entries(contract)) {
                if (key === "services") {
                    for (const name of Object.keys(value as Record<string, string>))
                        mentioned(`${component}.services.${name}`);
                } else if (key === "credentials") {
                    mentioned(`${component}.credentials.<consumer>`);
                    for (const [consumer, ref] of Object.entries(value as Record<string, object>)) {
                        mentioned(consumer);
                        for (const field of Object.keys(ref)) mentioned(field);
                    }
                } else if (typeof value === "object") {
                    for (const sub of Object.keys(value)) mentioned(`${component}.${key}.${sub}`);
                } else {
                    mentioned(`${component}.${key}`);
                }
            }
        }
    });

    it("the storage stack issues the downstream stacks' credentials in its own namespaces", () => {
        for (const [ns, name] of [
            ["garage", "trino-garage-credentials"],
            ["garage", "airbyte-garage-credentials"],
            ["garage", "dagster-garage-credentials"],
            ["database", "airbyte-postgres-credentials"],
            ["database", "dagster-postgres-credentials"],
            ["database", "hive-metastore-garage-credentials"],
        ]) {
            secretNamed(storage, ns, name);
        }
        for (const ns of ["trino", "airbyte", "dagster"]) {
            assert.equal(
                storage.resources.filter((res) => storage.inputs(res).metadata?.namespace === ns).length,
                0,
                `nothing in ${ns}`,
            );
        }
        // The same keys as the single stack's: Garage imports exactly these.
        assert.deepEqual(
            decoded(storage, secretNamed(storage, "garage", "trino-garage-credentials")),
            decoded(single, secretNamed(single, "trino", "trino-garage-credentials")),
        );
    });

    it("the query stack registers exactly Trino and the checks of its edges, wired from the referenced outputs with the single stack's values", () => {
        const kinds = query.resources.map((res) => `${res.type} ${res.name}${res.read ? " (read)" : ""}`).sort();
        assert.deepEqual(kinds, [
            "kubernetes:batch/v1:Job wiring-checks-trino",
            "kubernetes:core/v1:ConfigMap wiring-checks-trino-script",
            "kubernetes:core/v1:Namespace namespaces-trino",
            "kubernetes:core/v1:Secret trino-garage-credentials",
            "kubernetes:core/v1:Secret trino-garage-credentials-source (read)",
            "kubernetes:helm.sh/v3:Release trino",
            "lakehouse:platform:LakehousePlatform lakehouse",
            "lakehouse:platform:Namespaces namespaces",
            // The contracts it read, for the policy pack (which the engine shows no reads).
            "lakehouse:platform:UpstreamStacks upstream",
            "lakehouse:platform:WiringChecks wiring-checks",
            "lakehouse:query:Trino trino",
            "pulumi:providers:kubernetes kubernetes",
            // Its own last deployment, which the data guard compares (components/data-guard.ts).
            "pulumi:pulumi:StackReference deployed (read)",
            `pulumi:pulumi:StackReference ${STORAGE} (read)`,
        ]);
        assert.deepEqual(
            query.inputs(query.one("kubernetes:helm.sh/v3:Release", "trino")),
            single.inputs(single.one("kubernetes:helm.sh/v3:Release", "trino")),
        );
        const copy = secretNamed(query, "trino", "trino-garage-credentials");
        assert.deepEqual(
            decoded(query, copy),
            decoded(single, secretNamed(single, "trino", "trino-garage-credentials")),
        );
        assert.ok(query.raw.resources.find((res) => res.urn === copy.urn)!.inputs.data !== undefined);
        // The chart waits for the copied key, as it waits for Garage in the single stack.
        const trino = query.one("lakehouse:query:Trino", "trino");
        assert.ok(trino.dependencies.includes(copy.urn));
    });

    it("ingestion and orchestration get the single stack's values too, and the split's wiring is the single stack's", () => {
        assert.deepEqual(configuredBy(ingestion, "airbyte"), configuredBy(single, "airbyte"));
        assert.deepEqual(configuredBy(orchestration, "dagster"), configuredBy(single, "dagster"));
        assert.ok(Object.keys(configuredBy(orchestration, "dagster")).length >= 2);
        for (const [r, consumer, issuer] of [
            [ingestion, "airbyte", "postgres"],
            [orchestration, "dagster", "postgres"],
            [orchestration, "dagster", "garage"],
        ] as const) {
            const name = `${consumer}-${issuer}-credentials`;
            assert.deepEqual(
                decoded(r, secretNamed(r, consumer, name)),
                decoded(single, secretNamed(single, consumer, name)),
                name,
            );
        }
        const edges = (r: Run) => (r.view.wiring as WiringEdge[]).map((e) => JSON.stringify(e));
        assert.deepEqual([storage, query, ingestion, orchestration].flatMap(edges).sort(), edges(single).sort());
    });

    it("a stack builds the same on an upstream last deployed with contract version 1 (every service in full)", async () => {
        // What the storage stack published before version 2: the full form, which its platform component still holds.
        const full = storage.view.contract as Record<string, unknown>;
        const v1 = { ...full, contractVersion: 1 };
        assert.equal(typeof (full.components as any).garage.services.s3, "object");
        const onV1 = await run("dev", { overrides: SPLIT.query, stackReferences: { [STORAGE]: v1 }, cluster });
        const objects = (r: Run) => r.resources.map((res) => JSON.stringify([res.type, res.name, r.inputs(res)]));
        assert.deepEqual(objects(onV1), objects(query));
    });

    it("the policy pack passes every split stack, resolving addresses through the referenced outputs", async () => {
        for (const r of [storage, query, ingestion, orchestration]) {
            const report = await judgeRun(r.raw, { settings: platformConfigOf("dev") });
            assert.deepEqual(beyondTlsAdvisories(report.violations), [], r.raw.stack);
        }
    });

    describe("fails before any Kubernetes resource, naming what is wrong", () => {
        const failQuery = async (outputs: Record<string, unknown>, overrides: Record<string, unknown> = {}) => {
            const err = await runFailing("dev", {
                overrides: { ...SPLIT.query, ...overrides },
                stackReferences: { [STORAGE]: outputs },
                cluster,
            });
            assert.deepEqual(
                err.resources.filter((r) => r.type.startsWith("kubernetes:")),
                [],
                "no Kubernetes resource was registered",
            );
            // The offline plan refuses the same outputs before it runs anything, with the same words.
            const settings = platformConfigOf("dev", { ...SPLIT.query, ...overrides });
            assert.throws(
                () => checkUpstream(settings, { [STORAGE]: outputs }),
                (e: unknown) => e instanceof ContractError && e.message === (err.cause as Error).message,
            );
            return err.message;
        };
        const without = (path: string): Record<string, unknown> => {
            const copy = structuredClone(storage.outputs);
            const parts = path.split(".");
            const last = parts.pop()!;
            delete (parts.reduce((o: any, p) => o[p], copy) as Record<string, unknown>)[last];
            return copy;
        };

        it("a referenced stack without the component the stack needs", async () => {
            const message = await failQuery(without("components.database"));
            assert.match(message, new RegExp(`publishes the output "components.database", which trino needs`));
            assert.match(message, /organization\/lakehouse-platform\/storage-dev/);
        });

        it("a referenced stack without a field of the contract", async () => {
            const message = await failQuery(without("components.garage.services.s3"));
            assert.match(
                message,
                /stack organization\/lakehouse-platform\/storage-dev .* lacks the output "components\.garage\.services\.s3" \(undefined, not the Garage S3 API's address in namespace "garage" and domain "cluster\.local"\)/,
            );
        });

        it("a referenced stack whose published address is not in its component's namespace and domain", async () => {
            const moved = structuredClone(storage.outputs) as any;
            moved.components.database.services.hiveMetastore =
                "thrift://hive-metastore.elsewhere.svc.cluster.local:9083";
            assert.match(
                await failQuery(moved),
                /lacks the output "components\.database\.services\.hiveMetastore" \("thrift:\/\/hive-metastore\.elsewhere\.svc\.cluster\.local:9083", not the Hive Metastore's address in namespace "database"/,
            );
        });

        it("a referenced stack from before the contract, or on an older or newer one", async () => {
            assert.match(await failQuery(without("contractVersion")), /publishes no output "contractVersion"/);
            assert.match(
                await failQuery({ ...storage.outputs, contractVersion: 0 }),
                /publishes output contract version 0; this program reads version 1 or 2/,
            );
            assert.match(
                await failQuery({ ...storage.outputs, contractVersion: 3 }),
                /contract version 3, newer than the version 2/,
            );
        });

        it("a referenced stack that issues no credentials for this stack's component", async () => {
            const storageWithoutTrino = await run("dev", {
                overrides: { ...SPLIT.storage, [`${P}:downstreamComponents`]: ["airbyte"] },
            });
            const message = await failQuery(storageWithoutTrino.outputs);
            assert.match(
                message,
                /publishes no Garage key for trino \(output "components\.garage\.credentials\.trino"\): add trino to lakehouse-platform:downstreamComponents/,
            );
        });

        it("a referenced stack in another namespace, environment or cluster domain", async () => {
            assert.match(
                await failQuery(storage.outputs, { [`${P}:databaseNamespace`]: "metastore" }),
                /deploys database in namespace "database", this stack's lakehouse-platform:databaseNamespace is "metastore"/,
            );
            assert.match(
                await failQuery(storage.outputs, { [`${P}:environment`]: "prod" }),
                /is environment "dev", this stack is "prod"/,
            );
            assert.match(
                await failQuery(storage.outputs, { [`${P}:clusterDomain`]: "prod.lakehouse.internal" }),
                /cluster domain "cluster.local"/,
            );
        });

        it("two referenced stacks deploying one component", async () => {
            const err = await runFailing("dev", {
                overrides: { ...SPLIT.query, [`${P}:upstreamStacks`]: [STORAGE, "acme/lakehouse-platform/other"] },
                stackReferences: { [STORAGE]: storage.outputs, "acme/lakehouse-platform/other": storage.outputs },
            });
            assert.match(
                err.message,
                /stacks organization\/lakehouse-platform\/storage-dev and acme\/lakehouse-platform\/other both deploy garage/,
            );
        });
    });

    it("each split stack checks exactly the edges it makes, from its own namespaces; together, the single stack's checks", () => {
        const split = { storage, query, ingestion, orchestration };
        for (const [name, r] of Object.entries(split)) assertOneCheckPerEdge(r, name);
        assert.deepEqual(
            (storage.view.wiringChecks as Entry[]).map((c) => c.id),
            ["database-1"],
        );
        assert.deepEqual(
            (query.view.wiringChecks as Entry[]).map((c) => c.id),
            ["trino-1", "trino-2"],
        );
        // What the query stack's checks reach is the storage stack's: they wait for Trino (which waits for its copied key).
        const trinoCheck = query.one("kubernetes:batch/v1:Job", "wiring-checks-trino");
        const waits = trinoCheck.dependencies.map((u) => `${query.byUrn(u)?.type} ${query.byUrn(u)?.name}`);
        assert.ok(waits.includes("kubernetes:helm.sh/v3:Release trino"), waits.join(", "));
        const all = Object.values(split).flatMap((r) => r.view.wiringChecks as Entry[]);
        const key = (c: Entry) => `${c.id} ${c.from}→${c.to} ${c.address} ${c.job}`;
        assert.deepEqual(all.map(key).sort(), (single.view.wiringChecks as Entry[]).map(key).sort());
        // The same script text as the single stack's, namespace by namespace.
        for (const ns of ["database", "trino", "airbyte", "dagster"]) {
            const owner = Object.values(split).find((r) =>
                (r.view.wiringChecks as Entry[]).some((c) => c.job.startsWith(`${ns}/`)),
            )!;
            assert.equal(scriptOf(owner, ns), scriptOf(single, ns), ns);
        }
    });

    it("issues exactly the credentials each component says it needs from another", () => {
        const cfg = platformConfigOf("dev");
        for (const [issuer, consumers] of [
            ["garage", garageConsumers(cfg)],
            ["database", databaseConsumers(cfg)],
        ] as const) {
            const needed = Object.entries(CREDENTIALS_NEEDED).flatMap(([component, needs]) =>
                needs.filter((n) => n.issuer === issuer).map((n) => `${component}:${n.consumer}`),
            );
            // The database's own login (the metastore's) never crosses a stack.
            const crossing = consumers.filter((c) => c.component !== issuer);
            assert.deepEqual(crossing.map((c) => `${c.component}:${c.name}`).sort(), needed.sort(), issuer);
        }
    });

    it("copying fails on the missing Secret when the storage stack is not deployed", async () => {
        const err = await runFailing("dev", {
            overrides: SPLIT.query,
            stackReferences: { [STORAGE]: storage.outputs },
            cluster: [],
        });
        assert.match(err.message, /kubernetes:core\/v1:Secret "garage\/trino-garage-credentials": it does not exist/);
    });
});
