import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as os from "os";
import { ChartKeys, readChartKeys, recordChartKeys, templateValueReads } from "../offline/chart-keys";
import { chartKeys, chartKeysDir, chartNameOf, checkValues, recordedVersions } from "../policies/lib/chart-values";
import { CERTIFICATES_CHART } from "../components/certificates";

const PROJECT_DIR = path.resolve(__dirname, "..");

const CHART_KEYS_DIR = chartKeysDir();

const SHARED = path.resolve(__dirname, "..", "..", "shared", "charts");

describe("chart key lists", () => {
    const files = fs.readdirSync(CHART_KEYS_DIR).filter((f) => f.endsWith(".json"));

    it("is found beside the pack's PulumiPolicy.yaml from the sources and from both builds", () => {
        const root = path.resolve(__dirname, "..");
        for (const from of ["policies/lib", "policies/bin/lib", ".build/policies/lib"])
            assert.equal(chartKeysDir(path.join(root, from)), path.join(root, "policies", "chart-keys"), from);
    });

    it("keeps one list per pinned chart", () => {
        assert.deepEqual(files.sort(), [
            "airbyte-2.2.0.json",
            "dagster-1.9.4.json",
            "lakehouse-certificates-0.1.0.json",
            "trino-1.42.2.json",
        ]);
    });

    for (const file of files) {
        it(`${file} matches the chart it was recorded from`, function () {
            const keys = JSON.parse(fs.readFileSync(path.join(CHART_KEYS_DIR, file), "utf8")) as ChartKeys;
            // The platform's own chart is in this repository; the upstream ones in ../shared's reference data.
            const own = path.join(PROJECT_DIR, "charts", keys.chart);
            const dir = keys.chart === CERTIFICATES_CHART.name ? own : path.join(SHARED, keys.chart, keys.version);
            if (!fs.existsSync(dir)) this.skip(); // the project does not need ../shared; only this check reads it
            assert.deepEqual(readChartKeys(dir), keys);
        });
    }

    it("flags a key the chart never reads, and accepts free-form maps and keys read whole", () => {
        const keys = chartKeys("trino", "1.42.2")!;
        const report = checkValues(
            {
                coordinator: { jvm: { maxHeap: "1G" }, resources: { limits: { cpu: "1" } }, annotations: { a: "b" } },
                catalogs: { mine: "connector.name=memory" },
                additionalCatalogs: { old: "x" },
                nonsense: true,
            },
            keys,
        );
        assert.deepEqual(report.unknown, ["coordinator.jvm.maxHeap", "nonsense"]);
        assert.deepEqual(report.readWhole, ["catalogs.mine"]);
        assert.deepEqual(
            report.unread,
            [],
            "resources, annotations and additionalCatalogs are read whole by the templates",
        );
    });

    it("flags a key the defaults have but no template reads", () => {
        // airbyte 2.2.0 ships `global.jobs.resources` in its defaults; its templates read
        // `global.workloads.resources.*` instead.
        const report = checkValues(
            { global: { jobs: { resources: { requests: { cpu: "1" } } } } },
            chartKeys("airbyte", "2.2.0")!,
        );
        assert.deepEqual(report.unread, ["global.jobs.resources.requests.cpu"]);
    });

    it("reads the value paths of a chart's own templates as the upstream reference data lists them", function () {
        // The bundled dagster 1.9.4 chart has its templates; ../shared has upstream's list for it.
        const reference = path.join(SHARED, "dagster", "1.9.4", "template-keys.txt");
        if (!fs.existsSync(reference)) this.skip();
        const ours = templateValueReads(path.resolve(__dirname, "..", "charts", "dagster"), "");
        const theirs = fs
            .readFileSync(reference, "utf8")
            .split("\n")
            .filter((l) => l !== "" && !l.startsWith("#"));
        // Three lines of the reference come from no `.Values` read: a template's `define` name
        // (postgresql.validateValues.ldapConfigurationMethod) and reads through `with`; a missed read
        // makes a key below it "unknown", the side of caution.
        const quirks = ["postgresql.ldapConfigurationMethod", "rabbitmq.ldap", "redis.spreadConstraints"];
        assert.deepEqual(
            theirs.filter((p) => !ours.has(p)),
            quirks,
        );
        assert.deepEqual(
            [...ours].filter((p) => !theirs.includes(p)),
            [],
        );
    });

    it("records a new version from the chart's files, which the check then uses", () => {
        // What a user does before moving to another chart version: the pulled chart in, its list out.
        const chart = fs.mkdtempSync(path.join(os.tmpdir(), "chart-keys-"));
        const keysDir = path.join(chart, "keys");
        fs.cpSync(path.resolve(__dirname, "..", "charts", "dagster"), path.join(chart, "dagster"), { recursive: true });
        const chartYaml = path.join(chart, "dagster", "Chart.yaml");
        fs.writeFileSync(chartYaml, fs.readFileSync(chartYaml, "utf8").replace(/^version: .*$/m, "version: 1.9.5"));
        const { file } = recordChartKeys(path.join(chart, "dagster"), keysDir);
        assert.equal(path.basename(file), "dagster-1.9.5.json");
        assert.deepEqual(recordedVersions("dagster", keysDir), ["1.9.5"]);
        const keys = chartKeys("dagster", "1.9.5", keysDir)!;
        assert.ok(keys.defaults.includes("dagster-user-deployments.deployments[].name"), "the subchart's defaults");
        assert.ok(keys.defaults.includes("postgresql.image.tag"), "a pulled chart's subcharts under charts/");
        assert.deepEqual(checkValues({ dagsterWebserver: { replicaCount: 2 }, dagsterWebsrver: {} }, keys).unknown, [
            "dagsterWebsrver",
        ]);
    });

    it("names a Release's chart as the lists do", () => {
        assert.equal(chartNameOf("trino"), "trino");
        assert.equal(chartNameOf("charts/dagster"), "dagster");
        assert.equal(chartNameOf("./vendor/charts/dagster/"), "dagster");
        assert.equal(chartNameOf("vendor/trino-1.42.2.tgz"), "trino");
        assert.equal(chartNameOf("oci://registry.example.com/charts/airbyte"), "airbyte");
    });
});
