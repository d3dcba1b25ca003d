import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { CHART_KEYS_DIR, ChartKeys, readChartKeys } from "../offline/chart-keys";
import { checkValues, loadChartKeys } from "./helpers/chart-keys";

const SHARED = path.resolve(__dirname, "..", "..", "shared", "charts");

describe("chart key lists", () => {
    const files = fs.readdirSync(CHART_KEYS_DIR).filter((f) => f.endsWith(".json"));

    it("keeps one list per pinned chart", () => {
        assert.deepEqual(files.sort(), ["airbyte-2.2.0.json", "dagster-1.9.4.json", "trino-1.42.2.json"]);
    });

    for (const file of files) {
        it(`${file} matches the upstream reference data it was copied from`, function () {
            const keys = JSON.parse(fs.readFileSync(path.join(CHART_KEYS_DIR, file), "utf8")) as ChartKeys;
            const dir = path.join(SHARED, keys.chart, keys.version);
            if (!fs.existsSync(dir)) this.skip(); // the project does not need ../shared; only this check reads it
            assert.deepEqual(readChartKeys(dir), keys);
        });
    }

    it("flags a key the chart never reads, and accepts free-form maps and keys read whole", () => {
        const keys = loadChartKeys("trino", "1.42.2");
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
            loadChartKeys("airbyte", "2.2.0"),
        );
        assert.deepEqual(report.unread, ["global.jobs.resources.requests.cpu"]);
    });
});
