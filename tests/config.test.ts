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
        assert.deepEqual(c.namespaces, {
            garage: "garage",
            database: "database",
            trino: "trino",
            airbyte: "airbyte",
            dagster: "dagster",
        });
        assert.equal(c.trino.chartVersion, "1.42.2");
        assert.deepEqual(c.garage.resources, {
            requests: { cpu: "100m", memory: "256Mi" },
            limits: { cpu: "1", memory: "1Gi" },
        });
    });

    it("reads typed values as the CLI passes them (strings, arrays as JSON)", () => {
        const c = parse({
            garageReplicas: "3",
            garageReplicationFactor: "3",
            components: '["garage","database"]',
            environment: "qa",
        });
        assert.equal(c.garage.replicas, 3);
        assert.equal(c.garage.replicationFactor, 3);
        assert.deepEqual(c.components, ["garage", "database"]);
        assert.equal(c.environment, "qa");
    });

    it("refuses trinoAuthentication where Trino and Dagster are in different stacks, naming the key", () => {
        const upstream = '["acme/lakehouse-platform/storage-prod"]';
        const err = problemsOf({ components: '["trino"]', upstreamStacks: upstream, trinoAuthentication: "true" });
        assert.equal(err.problems.length, 1);
        assert.equal(err.problems[0].key, "lakehouse-platform:trinoAuthentication");
        assert.match(err.problems[0].expected, /same stack \(this one deploys Trino without Dagster\)/);
        assert.equal(parse({ trinoAuthentication: "true" }).trino.authentication, true);
    });

    it("refuses postgresTls where the database and Dagster are in different stacks, naming the key", () => {
        const upstream = '["acme/lakehouse-platform/storage-prod"]';
        const err = problemsOf({ components: '["database"]', upstreamStacks: upstream, postgresTls: "true" });
        assert.equal(err.problems.length, 1);
        assert.equal(err.problems[0].key, "lakehouse-platform:postgresTls");
        assert.match(err.problems[0].expected, /same stack \(this one deploys the database without Dagster\)/);
        assert.equal(parse({ postgresTls: "true" }).database.postgres.tls, true);
        assert.equal(parse({}).database.postgres.tls, false);
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
        assert.deepEqual(parse({ components: '["trino","garage","database"]' }).components, [
            "garage",
            "database",
            "trino",
        ]);
    });

    // Each bad input must be rejected with a message that names the offending key and says what is valid.
    const badInputs: [string, Record<string, string>, string, RegExp][] = [
        ["upper-case namespace", { garageNamespace: "Garage" }, "garageNamespace", /DNS-1123 label/],
        ["underscore in a namespace", { trinoNamespace: "trino_ns" }, "trinoNamespace", /DNS-1123 label/],
        [
            "namespace starting with '-'",
            { airbyteNamespace: "-airbyte" },
            "airbyteNamespace",
            /starting and ending with a letter or digit/,
        ],
        ["namespace over 63 characters", { dagsterNamespace: "d".repeat(64) }, "dagsterNamespace", /at most 63/],
        [
            "two components in one namespace",
            { databaseNamespace: "garage" },
            "databaseNamespace",
            /garageNamespace already uses "garage"/,
        ],
        ["a system namespace", { trinoNamespace: "default" }, "trinoNamespace", /not a Kubernetes system namespace/],
        [
            "cluster domain with an empty label",
            { clusterDomain: "cluster..local" },
            "clusterDomain",
            /no leading, trailing or double dot/,
        ],
        ["cluster domain in upper case", { clusterDomain: "Cluster.Local" }, "clusterDomain", /lower-case labels/],
        ["cluster domain with a trailing dot", { clusterDomain: "cluster.local." }, "clusterDomain", /trailing/],
        ["zero Garage replicas", { garageReplicas: "0" }, "garageReplicas", /an integer from 1 to 100/],
        ["negative Trino workers", { trinoWorkers: "-1" }, "trinoWorkers", /an integer from 1 to 500/],
        ["replicas that are not a number", { hiveMetastoreReplicas: "two" }, "hiveMetastoreReplicas", /an integer/],
        [
            "an unknown component",
            { components: '["garage","spark"]' },
            "components",
            /unknown component "spark"; valid components are garage, database, trino, airbyte, dagster/,
        ],
        [
            "a component without what it needs",
            { components: '["trino"]' },
            "components",
            /trino needs garage and database: add them to the list, or set lakehouse-platform:upstreamStacks/,
        ],
        [
            "an upstream stack name that is not one",
            { components: '["trino"]', upstreamStacks: '["acme/lakehouse platform/storage"]' },
            "upstreamStacks",
            /not a stack name; use <org>\/<project>\/<stack>/,
        ],
        [
            "the stack itself as its upstream",
            { components: '["trino"]', upstreamStacks: '["acme/lakehouse-platform/dev"]' },
            "upstreamStacks",
            /is this stack/,
        ],
        [
            "a downstream component the stack deploys itself",
            { downstreamComponents: '["trino"]' },
            "downstreamComponents",
            /trino is deployed by this stack/,
        ],
        [
            "downstream components on a stack that issues no credentials",
            { components: '["trino"]', upstreamStacks: '["storage"]', downstreamComponents: '["dagster"]' },
            "downstreamComponents",
            /only a stack that deploys garage or database/,
        ],
        [
            "an unknown downstream component",
            { components: '["garage"]', downstreamComponents: '["spark"]' },
            "downstreamComponents",
            /unknown component "spark"/,
        ],
        [
            "a protect flag that is not a boolean",
            { protectStatefulResources: "yes" },
            "protectStatefulResources",
            /true or false/,
        ],
        ["components that are not a list", { components: "garage" }, "components", /a list of strings/],
        ["a component listed twice", { components: '["garage","garage"]' }, "components", /listed twice/],
        ["no component at all", { components: "[]" }, "components", /at least one of/],
        ["a chart version range", { trinoChartVersion: "^1.42.0" }, "trinoChartVersion", /exact chart version/],
        ["chart version 'latest'", { airbyteChartVersion: "latest" }, "airbyteChartVersion", /no 'latest'/],
        ["an empty chart version", { dagsterChartVersion: "" }, "dagsterChartVersion", /exact chart version/],
        [
            "an untagged image",
            { garageImage: "dxflrs/garage" },
            "garageImage",
            /pinned by tag or by a full sha256 digest/,
        ],
        [
            "an image whose repository is not lower case",
            { busyboxImage: "BusyBox:1.37.0" },
            "busyboxImage",
            /lower-case repository/,
        ],
        [
            "an image with a truncated digest",
            { curlImage: "curlimages/curl@sha256:0123abcd" },
            "curlImage",
            /full sha256 digest/,
        ],
        ["an image with a space", { postgresImage: "a b:1" }, "postgresImage", /image reference/],
        ["an image with a tag that is not one", { postgresImage: "postgres:-bad" }, "postgresImage", /image reference/],
        [
            "an image with a tag of 200 characters",
            { postgresImage: `postgres:${"a".repeat(200)}` },
            "postgresImage",
            /image reference/,
        ],
        [
            "replicas beyond Kubernetes' int32",
            { hiveMetastoreReplicas: "99999999999999999999" },
            "hiveMetastoreReplicas",
            /an integer from 1 to 20/,
        ],
        ["100,000 Trino workers", { trinoWorkers: "100000" }, "trinoWorkers", /an integer from 1 to 500/],
        ["a 1-byte Garage volume", { garageDataSize: "1" }, "garageDataSize", /from 1Gi to 1Pi/],
        ["a volume of 999999Ei", { postgresStorageSize: "999999Ei" }, "postgresStorageSize", /from 1Gi to 1Pi/],
        ["a heap of 0M", { trinoWorkerHeap: "0M" }, "trinoWorkerHeap", /at least 512M/],
        ["a CPU request in bytes", { garageCpuRequest: "100Mi" }, "garageCpuRequest", /CPU quantity such as 500m or 2/],
        [
            "a chart version whose value paths are not recorded",
            { trinoChartVersion: "1.43.0", airbyteChartVersion: "2.3.0" },
            "trinoChartVersion",
            /a version whose value paths are recorded \(1\.42\.2\).*helm pull trino --repo https:\/\/trinodb\.github\.io\/charts --version 1\.43\.0 --untar.*npm run chart-keys -- trino.*policies\/chart-keys\/trino-1\.43\.0\.json/,
        ],
        [
            "a local Dagster chart that does not exist",
            { dagsterChart: "./vendor/charts/dagster" },
            "dagsterChart",
            /a chart archive \(\.tgz\) or directory on disk, relative to the project .*nothing is at/,
        ],
        [
            "a chart source of an unknown scheme",
            { trinoChart: "s3://charts/trino" },
            "trinoChart",
            /https:\/\/, http:\/\/ or oci:\/\/, or a path on disk; "s3:\/\/" is none of them/,
        ],
        [
            "an OCI reference with a tag",
            { airbyteChart: "oci://registry.example.com/charts/airbyte:2.2.0" },
            "airbyteChart",
            /no tag: the version key gives it/,
        ],
        [
            "a chart repository URL with a bad host",
            { trinoChart: "https://charts..example.com" },
            "trinoChart",
            /a chart repository URL/,
        ],
        [
            "a local chart of another version",
            { dagsterChartVersion: "1.9.5" },
            "dagsterChart",
            /holds version "1\.9\.4" \(set dagsterChartVersion to it/,
        ],
        [
            "a local directory that is not a chart",
            { dagsterChart: "components" },
            "dagsterChart",
            /a chart directory holding Chart\.yaml; .*components has none/,
        ],
        [
            "a local archive that is not a chart",
            { trinoChart: "package-lock.json" },
            "trinoChart",
            /a chart archive \(\.tgz, as helm package makes it\) holding <chart>\/Chart\.yaml/,
        ],
        [
            "a local chart of another chart",
            { trinoChart: "charts/dagster" },
            "trinoChart",
            /the trino chart; .*holds the chart "dagster"/,
        ],
        [
            "a mirror that is not a host",
            { imageRegistryMirror: "https://registry.example.com" },
            "imageRegistryMirror",
            /a registry host with an optional port and path/,
        ],
        [
            "a mirror without a registry host",
            { imageRegistryMirror: "mirror" },
            "imageRegistryMirror",
            /a registry host with an optional port and path/,
        ],
        [
            "a code location image that is not a repository",
            { dagsterUserCodeImage: "Dagster/User Code" },
            "dagsterUserCodeImage",
            /image repository without tag/,
        ],
        ["an image on :latest", { postgresImage: "postgres:latest" }, "postgresImage", /not ':latest'/],
        [
            "more Garage copies than nodes",
            { garageReplicationFactor: "3" },
            "garageReplicationFactor",
            /at most lakehouse-platform:garageReplicas = 1/,
        ],
        ["a size that is not a quantity", { garageDataSize: "lots" }, "garageDataSize", /storage quantity/],
        ["a size in millibytes", { garageMetadataSize: "100m" }, "garageMetadataSize", /storage quantity/],
        ["a zero CPU request", { garageCpuRequest: "0" }, "garageCpuRequest", /CPU quantity/],
        [
            "a memory limit below the request",
            { trinoWorkerMemoryLimit: "1Gi" },
            "trinoWorkerMemoryLimit",
            /at least the request lakehouse-platform:trinoWorkerMemoryRequest = "2Gi"/,
        ],
        ["a CPU limit below the request", { postgresCpuLimit: "50m" }, "postgresCpuLimit", /at least the request/],
        ["no target cluster", { kubeContext: "" }, "kubeContext", /never deploys to whatever context is current/],
        ["an environment that is not a label", { environment: "Prod_1" }, "environment", /DNS-1123 label/],
        [
            "a heap bigger than the memory limit allows",
            { trinoWorkerHeap: "2G" },
            "trinoWorkerHeap",
            /at most 85% of lakehouse-platform:trinoWorkerMemoryLimit = "2Gi"/,
        ],
        [
            "a heap that is not a JVM size",
            { trinoCoordinatorHeap: "1.5g" },
            "trinoCoordinatorHeap",
            /JVM heap size of at least 512M, such as 1536M/,
        ],
        ["a size profile that does not exist", { airbyteSize: "huge" }, "airbyteSize", /one of small, medium, large/],
        ["a boolean that is not one", { trinoKeepDemoCatalogs: "yes" }, "trinoKeepDemoCatalogs", /true or false/],
        [
            "a code location image with its tag",
            { dagsterUserCodeImage: "dagster/user-code-example:1.9.4" },
            "dagsterUserCodeImage",
            /without tag/,
        ],
        ["a code location on :latest", { dagsterUserCodeTag: "latest" }, "dagsterUserCodeTag", /other than 'latest'/],
        ["a bucket name S3 refuses", { lakehouseBucket: "Lake_House" }, "lakehouseBucket", /S3 bucket name/],
        [
            "the same bucket for Airbyte's state and the warehouse",
            { airbyteBucket: "lakehouse" },
            "airbyteBucket",
            /a bucket of its own/,
        ],
        [
            "a JDBC driver checksum that is not SHA-256",
            { hiveMetastoreJdbcDriverSha256: "abc" },
            "hiveMetastoreJdbcDriverSha256",
            /64 lower-case hex/,
        ],
    ];

    for (const [what, raw, key, expected] of badInputs) {
        it(`rejects ${what}, naming ${key}`, () => {
            const err = problemsOf(raw);
            assert.ok(
                err.problems.some((p) => p.key === `${PROJECT}:${key}`),
                `no problem for ${key}: ${err.message}`,
            );
            // The bad value is shown; an empty one where empty is the default reads as not set.
            assert.match(err.message, new RegExp(`${PROJECT}:${key} (= |\\(not set\\))`));
            assert.match(err.message, expected);
        });
    }

    it("reports every problem at once, in one error", () => {
        const err = problemsOf({
            garageNamespace: "Garage",
            trinoWorkers: "0",
            clusterDomain: "local.",
            trinoChartVersion: "*",
        });
        const keys = err.problems.map((p) => p.key.split(":")[1]).sort();
        assert.deepEqual(keys, ["clusterDomain", "garageNamespace", "trinoChartVersion", "trinoWorkers"]);
        assert.match(err.message, /^invalid configuration for stack "dev" \(4 problems\)/);
        for (const key of keys) assert.match(err.message, new RegExp(`${PROJECT}:${key}`));
    });

    it('shows the bad value and what is valid; an empty value as "", a missing (or default-empty) one as (not set)', () => {
        const err = problemsOf({ garageReplicas: "0" });
        assert.deepEqual(err.problems, [
            {
                key: `${PROJECT}:garageReplicas`,
                value: "0",
                expected: "an integer from 1 to 100 (a Garage cluster of more nodes is a deployment of its own)",
            },
        ]);
        assert.match(problemsOf({ lakehouseBucket: "" }).message, /lakehouse-platform:lakehouseBucket = "": /);
        // Pulumi.yaml gives kubeContext the default "" (the CLI requires a default), which means unset.
        assert.match(problemsOf({ kubeContext: "" }).message, /lakehouse-platform:kubeContext \(not set\): set/);
        assert.match(parseError({}, {}).message, /lakehouse-platform:kubeContext \(not set\): set/);
        assert.match(err.message, /\nNo resource was registered\.$/);
    });

    it("blames a CPU request in bytes on the request, not on the limit", () => {
        const err = problemsOf({ postgresCpuRequest: "100Mi" });
        assert.deepEqual(
            err.problems.map((p) => p.key),
            [`${PROJECT}:postgresCpuRequest`],
        );
    });
});

function parseError(raw: Record<string, string>, options: Parameters<typeof parsePlatformConfig>[3]): ConfigError {
    try {
        parsePlatformConfig(raw, PROJECT, "dev", options);
    } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err;
    }
    assert.fail("accepted");
}

describe("platform config: secrets and keys the program does not read", () => {
    const SECRET = "kubeconfig-contents-hunter2";

    it("names a secret under a misspelt key and never prints its value", () => {
        const err = parseError({ ...VALID, kubeconfg: SECRET }, { secretKeys: new Set(["kubeconfg"]) });
        assert.match(
            err.message,
            /lakehouse-platform:kubeconfg \(value not shown\): not a key of this project; did you mean lakehouse-platform:kubeconfig\?/,
        );
        assert.ok(!err.message.includes(SECRET));
        assert.ok(!JSON.stringify(err.problems.map(({ key, expected }) => ({ key, expected }))).includes(SECRET));
    });

    it("never prints the value of an unknown key, secret or not", () => {
        const err = parseError({ ...VALID, trinoWorker: "s3cr3t-or-not" }, {});
        assert.match(
            err.message,
            /lakehouse-platform:trinoWorker \(value not shown\): not a key of this project; did you mean lakehouse-platform:trinoWorkers\?/,
        );
        assert.ok(!err.message.includes("s3cr3t-or-not"));
    });

    it("takes a plain-HTTP driver URL (an artifact mirror in the cluster) only with the jar's checksum pinned", () => {
        const url =
            "http://maven.artifacts.svc.cluster.local/maven2/org/postgresql/postgresql/42.7.4/postgresql-42.7.4.jar";
        const err = parseError({ ...VALID, hiveMetastoreJdbcDriverUrl: url }, {});
        assert.match(
            err.message,
            /lakehouse-platform:hiveMetastoreJdbcDriverUrl = "http:\/\/maven[^"]+": an https:\/\/ URL of a \.jar \(http:\/\/ too once lakehouse-platform:hiveMetastoreJdbcDriverSha256 pins the jar\)/,
        );
        const sha = "188976721ead8e8627eb6d8389d500dccc0c9bebd885268a3047180274a6031e";
        const cfg = parsePlatformConfig(
            { ...VALID, hiveMetastoreJdbcDriverUrl: url, hiveMetastoreJdbcDriverSha256: sha },
            PROJECT,
            "dev",
        );
        assert.equal(cfg.database.metastore.jdbcDriverUrl, url);
    });

    it("masks a secret value that is invalid", () => {
        const url = "http://user:token@repo.example.com/driver.jar";
        const err = parseError(
            { ...VALID, hiveMetastoreJdbcDriverUrl: url },
            { secretKeys: new Set(["hiveMetastoreJdbcDriverUrl"]) },
        );
        assert.match(
            err.message,
            /lakehouse-platform:hiveMetastoreJdbcDriverUrl \(value not shown\): an https:\/\/ URL of a \.jar/,
        );
        assert.ok(!err.message.includes("token"));
    });

    it("names keys under a misspelt project prefix, the Kubernetes provider's own keys, and other namespaces", () => {
        const foreign = {
            "lakehouse-platfrom:trinoWorkers": "3",
            "kubernetes:context": "kind-x",
            "kubernetes:namespace": "x",
            "acme:thing": "y",
            "pulumi:tags": "{}",
        };
        const err = parseError({ ...VALID }, { foreign });
        const byKey = Object.fromEntries(err.problems.map((p) => [p.key, p.expected]));
        assert.match(
            byKey["lakehouse-platfrom:trinoWorkers"],
            /"lakehouse-platfrom" is not this project's name; did you mean lakehouse-platform:trinoWorkers\?/,
        );
        assert.match(
            byKey["kubernetes:context"],
            /every resource goes through the stack's explicit Kubernetes provider, built from lakehouse-platform:kubeContext; set that key instead/,
        );
        assert.match(
            byKey["kubernetes:namespace"],
            /takes only lakehouse-platform:kubeContext or lakehouse-platform:kubeconfig/,
        );
        assert.match(byKey["acme:thing"], /not read by this program/);
        assert.equal(byKey["pulumi:tags"], undefined, "Pulumi's own keys are Pulumi's");
        for (const v of ["kind-x", '"y"']) assert.ok(!err.message.includes(v));
    });

    it("keeps which keys are secret, for the resources that take them", () => {
        const c = parsePlatformConfig(
            { kubeconfig: "/home/me/.kube/config", hiveMetastoreJdbcDriverUrl: "https://u:t@repo.example.com/x.jar" },
            PROJECT,
            "dev",
            { secretKeys: new Set(["kubeconfig", "hiveMetastoreJdbcDriverUrl"]) },
        );
        assert.deepEqual(c.kubernetes.secret, { context: false, kubeconfig: true });
        assert.equal(c.database.metastore.jdbcDriverUrlSecret, true);
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
        for (const v of ["", "latest", "1.42", "^1.42.2", "~2.2.0", "1.x", ">=1.0.0", "*"])
            assert.ok(!isExactVersion(v), v);
    });

    it("accepts only pinned images", () => {
        for (const v of [
            "postgres:17.6",
            "apache/hive:4.0.1",
            "registry.example.com:5000/team/img:1.0",
            `busybox@sha256:${"a".repeat(64)}`,
        ]) {
            assert.ok(isPinnedImage(v), v);
        }
        for (const v of ["postgres", "postgres:latest", "registry.example.com:5000/team/img", "img:", "a b:1"])
            assert.ok(!isPinnedImage(v), v);
    });
});
