// The end-to-end suite's own pieces that decide what it runs (tests/e2e/): which versions the
// program asks for, which names get addresses, how the negative controls differ from the real
// catalog. The suite itself runs the real software (`npm run test:e2e`).
import { strict as assert } from "assert";
import { shortNameCatalog } from "./e2e/checks";
import { shortHostProfiles } from "./e2e/dagster";
import { dagsterLibraryVersion } from "./e2e/versions";
import { nearestVersions } from "./e2e/install";
import { wantedOf } from "./e2e/main";
import { allocate, clusterNames } from "./e2e/names";
import { PlatformRun } from "./e2e/platform";
import { canonical } from "./e2e/servers";
import { run } from "./helpers/stack";

describe("the end-to-end suite's inputs", () => {
    it("takes the versions from the program's own config: images and the JDBC driver URL", async () => {
        const p = new PlatformRun((await run("dev")).raw);
        assert.deepEqual(wantedOf(p), {
            dagster: "1.9.4",
            garage: "2.3.0",
            hive: "4.0.1",
            postgres: "17.6",
            busybox: "1.37.0",
            jdbc: { group: "org.postgresql", artifact: "postgresql", version: "42.7.4" },
        });
    });

    it("gives every published service and every Garage pod a loopback address of its own", async () => {
        const p = new PlatformRun((await run("staging")).raw);
        const names = clusterNames(p);
        assert.ok(names.includes("trino.trino-staging.svc.cluster.local"));
        assert.deepEqual(
            names.filter((n) => n.includes("garage-headless")),
            [0, 1, 2].map((i) => `garage-${i}.garage-headless.garage-staging.svc.cluster.local`),
        );
        const table = allocate(names);
        assert.equal(new Set(table.values()).size, names.length);
        for (const a of table.values()) assert.match(a, /^127\.0\.1\.\d+$/);
    });

    it("writes exactly one host of the catalog as its short name in each negative control", () => {
        const catalog =
            "connector.name=iceberg\nhive.metastore.uri=thrift://hive-metastore.database.svc.cluster.local:9083\ns3.endpoint=http://garage.garage.svc.cluster.local:3900\n";
        assert.equal(
            shortNameCatalog(catalog, "hive.metastore.uri"),
            catalog.replace("hive-metastore.database.svc.cluster.local", "hive-metastore"),
        );
        assert.equal(
            shortNameCatalog(catalog, "s3.endpoint"),
            catalog.replace("garage.garage.svc.cluster.local", "garage"),
        );
    });

    it("installs Dagster at its chart's image version, with the integration libraries released beside it", async () => {
        const p = new PlatformRun((await run("dev", { overrides: { dagsterChartVersion: "1.9.4" } })).raw);
        assert.equal(wantedOf(p).dagster, "1.9.4");
        assert.equal(dagsterLibraryVersion("1.9.4"), "0.25.4");
        assert.equal(dagsterLibraryVersion("1.10.0"), "0.26.0");
        assert.throws(() => dagsterLibraryVersion("2.0.0"), /not a 1\.x\.y release/);
    });

    it("writes Dagster's Trino host as its short name in the negative control, and nothing else", () => {
        const profiles =
            "lakehouse:\n  target: dev\n  outputs:\n    dev:\n      type: trino\n      host: trino.trino.svc.cluster.local\n      port: 8080\n";
        const control = shortHostProfiles(profiles);
        assert.equal(control.short, "trino");
        assert.equal(control.host, "trino.trino.svc.cluster.local");
        assert.equal(control.text, profiles.replace("trino.trino.svc.cluster.local", "trino"));
    });

    it("tries the pinned version first, then the nearest ones", () => {
        assert.deepEqual(nearestVersions("480", 2), ["480", "481", "479", "482", "478"]);
    });

    it("compares Garage's state whatever order its lists come in", () => {
        assert.equal(canonical({ keys: [{ id: "b" }, { id: "a" }] }), canonical({ keys: [{ id: "a" }, { id: "b" }] }));
        assert.notEqual(canonical({ keys: [{ id: "a" }] }), canonical({ keys: [{ id: "a" }, { id: "b" }] }));
    });
});
