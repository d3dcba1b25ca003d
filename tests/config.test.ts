import { strict as assert } from "assert";
import { ConfigError, isExactVersion, isPinnedImage, parsePlatformConfig, parseQuantity } from "../components/config";

const PROJECT = "lakehouse-platform";
const VALID = { kubeContext: "kind-lakehouse" };

function parse(raw: Record<string, string>, stack = "dev") {
    return parsePlatformConfig({ ...VALID, ...raw }, PROJECT, stack);
}

function problemsOf(raw: Record<string, string>): ConfigError {
    try {
        parse(raw);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
        return err;
    }
    assert.fail(`config ${JSON.stringify(raw)} was accepted`);
}

describe("platform config", () => {
    it("applies the declared defaults", () => {
        const c = parse({});
        assert.equal(c.clusterDomain, "cluster.local");
        assert.equal(c.environment, "dev");
        assert.deepEqual(c.components, ["garage", "database", "trino", "airbyte", "dagster"]);
        assert.deepEqual(c.namespaces, { garage: "garage", database: "database", trino: "trino", airbyte: "airbyte", dagster: "dagster" });
        assert.equal(c.trino.chartVersion, "1.42.2");
        assert.deepEqual(c.garage.resources, { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } });
    });

    it("reads typed values as the CLI passes them (strings, arrays as JSON)", () => {
        const c = parse({ garageReplicas: "3", garageReplicationFactor: "3", components: '["garage","database"]', environment: "qa" });
        assert.equal(c.garage.replicas, 3);
        assert.equal(c.garage.replicationFactor, 3);
        assert.deepEqual(c.components, ["garage", "database"]);
        assert.equal(c.environment, "qa");
    });

    it("accepts a split stack: the components it needs come from its upstream stacks", () => {
        const query = parse({ components: '["trino"]', upstreamStacks: '["acme/lakehouse-platform/storage-prod"]' });
        assert.deepEqual(query.components, ["trino"]);
        assert.deepEqual(query.upstreamStacks, ["acme/lakehouse-platform/storage-prod"]);
        const storage = parse({ components: '["garage","database"]', downstreamComponents: '["dagster","trino"]' });
        assert.deepEqual(storage.downstreamComponents, ["trino", "dagster"]);
        assert.deepEqual(parse({}).stateful, { protect: false, retainOnDelete: false });
    });

    it("orders components by dependency whatever the order given", () => {
        assert.deepEqual(parse({ components: '["trino","garage","database"]' }).components, ["garage", "database", "trino"]);
    });

    // Each bad input must be rejected with a message that names the offending key and says what is valid.
    const badInputs: [string, Record<string, string>, string, RegExp][] = [
        ["upper-case namespace", { garageNamespace: "Garage" }, "garageNamespace", /DNS-1123 label/],
        ["underscore in a namespace", { trinoNamespace: "trino_ns" }, "trinoNamespace", /DNS-1123 label/],
        ["namespace starting with '-'", { airbyteNamespace: "-airbyte" }, "airbyteNamespace", /starting and ending with a letter or digit/],
        ["namespace over 63 characters", { dagsterNamespace: "d".repeat(64) }, "dagsterNamespace", /at most 63/],
        ["two components in one namespace", { databaseNamespace: "garage" }, "databaseNamespace", /garageNamespace already uses "garage"/],
        ["a system namespace", { trinoNamespace: "default" }, "trinoNamespace", /not a Kubernetes system namespace/],
        ["cluster domain with an empty label", { clusterDomain: "cluster..local" }, "clusterDomain", /no leading, trailing or double dot/],
        ["cluster domain in upper case", { clusterDomain: "Cluster.Local" }, "clusterDomain", /lower-case labels/],
        ["cluster domain with a trailing dot", { clusterDomain: "cluster.local." }, "clusterDomain", /trailing/],
        ["zero Garage replicas", { garageReplicas: "0" }, "garageReplicas", /at least 1/],
        ["negative Trino workers", { trinoWorkers: "-1" }, "trinoWorkers", /at least 1/],
        ["replicas that are not a number", { hiveMetastoreReplicas: "two" }, "hiveMetastoreReplicas", /an integer/],
        ["an unknown component", { components: '["garage","spark"]' }, "components", /unknown component "spark"; valid components are garage, database, trino, airbyte, dagster/],
        ["a component without what it needs", { components: '["trino"]' }, "components", /trino needs garage and database: add them to the list, or set lakehouse-platform:upstreamStacks/],
        ["an upstream stack name that is not one", { components: '["trino"]', upstreamStacks: '["acme/lakehouse platform/storage"]' }, "upstreamStacks", /not a stack name; use <org>\/<project>\/<stack>/],
        ["the stack itself as its upstream", { components: '["trino"]', upstreamStacks: '["acme/lakehouse-platform/dev"]' }, "upstreamStacks", /is this stack/],
        ["a downstream component the stack deploys itself", { downstreamComponents: '["trino"]' }, "downstreamComponents", /trino is deployed by this stack/],
        ["downstream components on a stack that issues no credentials", { components: '["trino"]', upstreamStacks: '["storage"]', downstreamComponents: '["dagster"]' }, "downstreamComponents", /only a stack that deploys garage or database/],
        ["an unknown downstream component", { components: '["garage"]', downstreamComponents: '["spark"]' }, "downstreamComponents", /unknown component "spark"/],
        ["a protect flag that is not a boolean", { protectStatefulResources: "yes" }, "protectStatefulResources", /true or false/],
        ["components that are not a list", { components: "garage" }, "components", /a list of strings/],
        ["a component listed twice", { components: '["garage","garage"]' }, "components", /listed twice/],
        ["no component at all", { components: "[]" }, "components", /at least one of/],
        ["a chart version range", { trinoChartVersion: "^1.42.0" }, "trinoChartVersion", /exact chart version/],
        ["chart version 'latest'", { airbyteChartVersion: "latest" }, "airbyteChartVersion", /no 'latest'/],
        ["an empty chart version", { dagsterChartVersion: "" }, "dagsterChartVersion", /exact chart version/],
        ["an untagged image", { garageImage: "dxflrs/garage" }, "garageImage", /pinned by tag or digest/],
        ["an image on :latest", { postgresImage: "postgres:latest" }, "postgresImage", /not ':latest'/],
        ["more Garage copies than nodes", { garageReplicationFactor: "3" }, "garageReplicationFactor", /at most lakehouse-platform:garageReplicas = 1/],
        ["a size that is not a quantity", { garageDataSize: "lots" }, "garageDataSize", /storage quantity/],
        ["a size in millibytes", { garageMetadataSize: "100m" }, "garageMetadataSize", /storage quantity/],
        ["a zero CPU request", { garageCpuRequest: "0" }, "garageCpuRequest", /CPU quantity/],
        ["a memory limit below the request", { trinoWorkerMemoryLimit: "1Gi" }, "trinoWorkerMemoryLimit", /at least the request lakehouse-platform:trinoWorkerMemoryRequest = "2Gi"/],
        ["a CPU limit below the request", { postgresCpuLimit: "50m" }, "postgresCpuLimit", /at least the request/],
        ["no target cluster", { kubeContext: "" }, "kubeContext", /never deploys to whatever context is current/],
        ["a misspelt key", { trinoWorker: "3" }, "trinoWorker", /did you mean lakehouse-platform:trinoWorkers\?/],
        ["an environment that is not a label", { environment: "Prod_1" }, "environment", /DNS-1123 label/],
        ["a heap bigger than the memory limit allows", { trinoWorkerHeap: "2G" }, "trinoWorkerHeap", /at most 85% of lakehouse-platform:trinoWorkerMemoryLimit = "2Gi"/],
        ["a heap that is not a JVM size", { trinoCoordinatorHeap: "1.5g" }, "trinoCoordinatorHeap", /JVM heap size such as 1536M/],
        ["a size profile that does not exist", { airbyteSize: "huge" }, "airbyteSize", /one of small, medium, large/],
        ["a boolean that is not one", { trinoKeepDemoCatalogs: "yes" }, "trinoKeepDemoCatalogs", /true or false/],
        ["a code location image with its tag", { dagsterUserCodeImage: "dagster/user-code-example:1.9.4" }, "dagsterUserCodeImage", /without tag/],
        ["a code location on :latest", { dagsterUserCodeTag: "latest" }, "dagsterUserCodeTag", /other than 'latest'/],
        ["a bucket name S3 refuses", { lakehouseBucket: "Lake_House" }, "lakehouseBucket", /S3 bucket name/],
        ["the same bucket for Airbyte's state and the warehouse", { airbyteBucket: "lakehouse" }, "airbyteBucket", /a bucket of its own/],
        ["a JDBC driver checksum that is not SHA-256", { hiveMetastoreJdbcDriverSha256: "abc" }, "hiveMetastoreJdbcDriverSha256", /64 lower-case hex/],
    ];

    for (const [what, raw, key, expected] of badInputs) {
        it(`rejects ${what}, naming ${key}`, () => {
            const err = problemsOf(raw);
            assert.ok(
                err.problems.some((p) => p.key === `${PROJECT}:${key}`),
                `no problem for ${key}: ${err.message}`,
            );
            assert.match(err.message, new RegExp(`${PROJECT}:${key} = `));
            assert.match(err.message, expected);
        });
    }

    it("reports every problem at once, in one error", () => {
        const err = problemsOf({ garageNamespace: "Garage", trinoWorkers: "0", clusterDomain: "local.", trinoChartVersion: "*" });
        const keys = err.problems.map((p) => p.key.split(":")[1]).sort();
        assert.deepEqual(keys, ["clusterDomain", "garageNamespace", "trinoChartVersion", "trinoWorkers"]);
        assert.match(err.message, /^invalid configuration for stack "dev" \(4 problems\)/);
        for (const key of keys) assert.match(err.message, new RegExp(`${PROJECT}:${key}`));
    });

    it("shows the bad value and what is valid", () => {
        const err = problemsOf({ garageReplicas: "0" });
        assert.deepEqual(err.problems, [{ key: `${PROJECT}:garageReplicas`, value: "0", expected: "an integer of at least 1" }]);
    });
});

describe("config value rules", () => {
    it("parses Kubernetes quantities", () => {
        assert.equal(parseQuantity("250m"), 0.25);
        assert.equal(parseQuantity("2"), 2);
        assert.equal(parseQuantity("512Mi"), 512 * 2 ** 20);
        assert.equal(parseQuantity("1G"), 1e9);
        assert.equal(parseQuantity("1.5Gi"), 1.5 * 2 ** 30);
        assert.equal(parseQuantity("2 Gi"), undefined);
        assert.equal(parseQuantity("Gi"), undefined);
    });

    it("accepts only exact chart versions", () => {
        for (const v of ["1.42.2", "2.2.0", "1.9.4", "v0.9.3", "1.0.0-rc.1"]) assert.ok(isExactVersion(v), v);
        for (const v of ["", "latest", "1.42", "^1.42.2", "~2.2.0", "1.x", ">=1.0.0", "*"]) assert.ok(!isExactVersion(v), v);
    });

    it("accepts only pinned images", () => {
        for (const v of ["postgres:17.6", "apache/hive:4.0.1", "registry.example.com:5000/team/img:1.0", `busybox@sha256:${"a".repeat(64)}`]) {
            assert.ok(isPinnedImage(v), v);
        }
        for (const v of ["postgres", "postgres:latest", "registry.example.com:5000/team/img", "img:", "a b:1"]) assert.ok(!isPinnedImage(v), v);
    });
});
