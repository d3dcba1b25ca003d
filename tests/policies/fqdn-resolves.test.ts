import { UPSTREAM_STACKS_TYPE } from "../../policies/lib/platform";
import { strict as assert } from "assert";
import { fqdnResolves } from "../../policies/fqdn-resolves";
import {
    configMap,
    deployment,
    devPlatform,
    Fixture,
    messages,
    service,
    T,
    trinoCatalog,
    trinoRelease,
} from "../helpers/policy";

const STAGING = {
    garage: "garage-staging",
    database: "database-staging",
    trino: "trino-staging",
    airbyte: "airbyte-staging",
    dagster: "dagster-staging",
};

describe("policy fqdn-resolves", () => {
    it("accepts full names of Services the stack declares, on ports they expose", async () => {
        assert.deepEqual(await messages(fqdnResolves, [...devPlatform(), trinoRelease()]), []);
    });

    it("flags a Service looked for in the wrong namespace, and says where it is", async () => {
        const catalog = trinoCatalog({ metastore: "thrift://hive-metastore.hive.svc.cluster.local:9083" });
        const [found, ...rest] = await messages(fqdnResolves, [...devPlatform(), trinoRelease(catalog)]);
        assert.deepEqual(rest, []);
        assert.match(
            found,
            /values\.catalogs\.lakehouse › hive\.metastore\.uri = "thrift:\/\/hive-metastore\.hive\.svc\.cluster\.local:9083"/,
        );
        assert.match(
            found,
            /no Service hive-metastore in namespace hive.*hive-metastore is in namespace database: use "hive-metastore\.database\.svc\.cluster\.local"/,
        );
    });

    it("flags a port the Service does not expose", async () => {
        const env = [
            { name: "DATABASE_URL", value: "jdbc:postgresql://postgres.database.svc.cluster.local:5433/airbyte" },
        ];
        const [found] = await messages(fqdnResolves, [...devPlatform(), deployment("server", "airbyte", { env })]);
        assert.match(
            found,
            /Service postgres in database \(kubernetes:core\/v1:Service "database-postgres"\) exposes port 5432, not 5433/,
        );
    });

    it("flags a name in another cluster domain than the cluster's", async () => {
        const [found] = await messages(fqdnResolves, [...devPlatform(), trinoRelease()], {
            clusterDomain: "prod.lakehouse.internal",
        });
        assert.match(
            found,
            /the cluster domain is "prod\.lakehouse\.internal", not "cluster\.local"; use "hive-metastore\.database\.svc\.prod\.lakehouse\.internal"/,
        );
    });

    it("checks the stack's own namespaces: a dev address in a staging stack points at nothing", async () => {
        const resources = [...devPlatform(STAGING), trinoRelease(trinoCatalog(), "trino-staging")];
        const found = await messages(fqdnResolves, resources);
        assert.equal(found.length, 2);
        assert.match(
            found[0],
            /no Service hive-metastore in namespace database .*use "hive-metastore\.database-staging\.svc\.cluster\.local"/,
        );
        const fixed = trinoRelease(
            trinoCatalog({
                metastore: "thrift://hive-metastore.database-staging.svc.cluster.local:9083",
                s3: "http://garage.garage-staging.svc.cluster.local:3900",
            }),
            "trino-staging",
        );
        assert.deepEqual(await messages(fqdnResolves, [...devPlatform(STAGING), fixed]), []);
    });

    it("knows the Services charts create for a release", async () => {
        const profiles =
            "lakehouse:\n  outputs:\n    dev:\n      host: trino.trino.svc.cluster.local\n      port: 8080\n";
        const dagster: Fixture = {
            type: T.release,
            name: "dagster",
            props: {
                chart: "dagster",
                name: "dagster",
                namespace: "dagster",
                version: "1.9.4",
                values: { "dagster-user-deployments": { deployments: [{ name: "lakehouse", port: 3030 }] } },
            },
        };
        const env = [
            { name: "TRINO_URL", value: "http://trino.trino.svc.cluster.local:8080" },
            {
                name: "AIRBYTE_API_URL",
                value: "http://airbyte-airbyte-server-svc.airbyte.svc.cluster.local:8001/api/public/v1",
            },
            { name: "WEB", value: "http://dagster-dagster-webserver.dagster.svc.cluster.local" },
            { name: "CODE", value: "lakehouse.dagster.svc.cluster.local:3030" },
        ];
        const airbyte: Fixture = {
            type: T.release,
            name: "airbyte",
            props: { chart: "airbyte", name: "airbyte", namespace: "airbyte", version: "2.2.0", values: {} },
        };
        const resources = [
            ...devPlatform(),
            trinoRelease(),
            airbyte,
            dagster,
            configMap("dbt", "dagster", { "profiles.yml": profiles }),
            deployment("code", "dagster", { env }),
        ];
        assert.deepEqual(await messages(fqdnResolves, resources), []);
        const wrongRelease = { ...airbyte, props: { ...airbyte.props, name: "ingest" } };
        const [found] = await messages(fqdnResolves, [
            ...devPlatform(),
            trinoRelease(),
            wrongRelease,
            deployment("code", "dagster", { env: [env[1]] }),
        ]);
        assert.match(found, /no Service airbyte-airbyte-server-svc in namespace airbyte/);
    });

    it("accepts Services an upstream stack publishes, as the stack's UpstreamStacks component holds them", async () => {
        const services = {
            garage: { services: { s3: { service: "garage", namespace: "garage", port: 3900 } } },
            database: { services: { hiveMetastore: { service: "hive-metastore", namespace: "database", port: 9083 } } },
        };
        const upstream: Fixture = {
            type: UPSTREAM_STACKS_TYPE,
            name: "upstream",
            props: { stacks: { "organization/lakehouse-platform/storage-dev": { components: services } } },
        };
        assert.deepEqual(await messages(fqdnResolves, [upstream, trinoRelease()]), []);
        assert.equal((await messages(fqdnResolves, [trinoRelease()])).length, 2);
        // A StackReference is a read: the engine never shows it to the pack, so it resolves nothing.
        const reference: Fixture = {
            type: T.stackReference,
            name: "storage",
            props: { name: "organization/lakehouse-platform/storage-dev", outputs: { components: services } },
        };
        assert.equal((await messages(fqdnResolves, [reference, trinoRelease()])).length, 2);
    });

    it("accepts pod names through a headless Service only", async () => {
        const env = [
            { name: "GARAGE_ADMIN_URL", value: "http://garage-0.garage-headless.garage.svc.cluster.local:3903" },
        ];
        assert.deepEqual(await messages(fqdnResolves, [...devPlatform(), deployment("job", "garage", { env })]), []);
        const [found] = await messages(fqdnResolves, [
            ...devPlatform(),
            deployment("job", "garage", {
                env: [{ name: "X", value: "http://garage-0.garage.garage.svc.cluster.local:3900" }],
            }),
        ]);
        assert.match(found, /garage-0\.garage names a pod, but Service garage .* is not headless/);
    });

    it("leaves alone names the config allows, and outside hosts", async () => {
        const env = [
            { name: "DNS", value: "kube-dns.kube-system.svc.cluster.local:53" },
            { name: "OUT", value: "https://s3.amazonaws.com" },
        ];
        const resources = [...devPlatform(), deployment("x", "trino", { env })];
        assert.equal((await messages(fqdnResolves, resources)).length, 1);
        assert.deepEqual(
            await messages(fqdnResolves, resources, { allowedHosts: ["*.kube-system.svc.cluster.local"] }),
            [],
        );
        assert.equal(service("x", "y", [1]).type, T.service);
    });
});
