import { strict as assert } from "assert";
import {
    addressTable,
    endpoint,
    helmFullname,
    jdbcPostgresUrl,
    podEndpoint,
    PLATFORM_SERVICES,
    serviceEndpoint,
    urlOf,
} from "../components/addresses";
import { platformConfigOf as configOf } from "../offline/run-stack";

describe("address registry", () => {
    it("derives the FQDN, host:port and URLs from service, namespace, port and domain", () => {
        const ep = endpoint({ service: "hive-metastore", namespace: "database", port: 9083 }, "cluster.local");
        assert.equal(ep.host, "hive-metastore.database.svc.cluster.local");
        assert.equal(ep.hostPort, "hive-metastore.database.svc.cluster.local:9083");
        assert.equal(urlOf(ep, "thrift"), "thrift://hive-metastore.database.svc.cluster.local:9083");
        assert.equal(urlOf(ep, "http", "v1/info"), "http://hive-metastore.database.svc.cluster.local:9083/v1/info");
    });

    it("uses the cluster domain it is given, not cluster.local", () => {
        const ep = serviceEndpoint("garageS3", "garage-prod", "prod.lakehouse.internal");
        assert.equal(urlOf(ep, "http"), "http://garage.garage-prod.svc.prod.lakehouse.internal:3900");
        assert.equal(
            jdbcPostgresUrl(serviceEndpoint("postgres", "db", "corp.example"), "metastore"),
            "jdbc:postgresql://postgres.db.svc.corp.example:5432/metastore",
        );
    });

    it("addresses one pod of a StatefulSet through its headless Service", () => {
        const ep = podEndpoint(
            "garage-0",
            { service: "garage-headless", namespace: "garage", port: 3903 },
            "cluster.local",
        );
        assert.equal(ep.hostPort, "garage-0.garage-headless.garage.svc.cluster.local:3903");
    });

    it("names chart Services as the charts do for the chosen release names", () => {
        assert.equal(helmFullname("trino", "trino"), "trino");
        assert.equal(helmFullname("lake", "trino"), "lake-trino");
        assert.equal(helmFullname("dagster", "dagster"), "dagster");
        assert.equal(PLATFORM_SERVICES.trino.service, "trino");
        assert.equal(PLATFORM_SERVICES.airbyteServer.service, "airbyte-airbyte-server-svc");
        assert.equal(PLATFORM_SERVICES.dagsterWebserver.service, "dagster-dagster-webserver");
    });

    it("gives the table of the mission for the dev stack", () => {
        const c = configOf("dev");
        const t = addressTable(c.namespaces, c.clusterDomain, c.components);
        assert.deepEqual(Object.fromEntries(Object.entries(t).map(([id, a]) => [id, a.url])), {
            garageS3: "http://garage.garage.svc.cluster.local:3900",
            postgres: "postgres.database.svc.cluster.local:5432",
            hiveMetastore: "thrift://hive-metastore.database.svc.cluster.local:9083",
            trino: "http://trino.trino.svc.cluster.local:8080",
            airbyteServer: "http://airbyte-airbyte-server-svc.airbyte.svc.cluster.local:8001",
            dagsterWebserver: "http://dagster-dagster-webserver.dagster.svc.cluster.local:80",
        });
    });

    for (const stack of ["staging", "prod"]) {
        it(`puts every ${stack} address in ${stack}'s own namespaces and cluster domain`, () => {
            const c = configOf(stack);
            const t = addressTable(c.namespaces, c.clusterDomain, c.components);
            assert.equal(Object.keys(t).length, 6);
            for (const a of Object.values(t)) {
                assert.equal(a.namespace, c.namespaces[a.component]);
                assert.ok(a.namespace.endsWith(`-${stack}`), `${a.host} is not in a ${stack} namespace`);
                assert.equal(a.host, `${a.service}.${a.namespace}.svc.${c.clusterDomain}`);
            }
        });
    }

    it("lists only the services of the components a stack deploys", () => {
        const c = configOf("dev");
        assert.deepEqual(Object.keys(addressTable(c.namespaces, c.clusterDomain, ["garage", "database"])).sort(), [
            "garageS3",
            "hiveMetastore",
            "postgres",
        ]);
    });
});
