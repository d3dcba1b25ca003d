// The value paths a pinned chart version knows: every key of its default values.yaml (subcharts
// under their name), which defaults are empty maps (free-form below), and every path its templates
// read. Helm ignores a misspelt key without a word, so tests check generated values against these.
//
// `npm run chart-keys -- <chart defaults dir>...` writes tests/fixtures/chart-keys/<chart>-<version>.json
// from the upstream reference data (../shared/charts/<chart>/<version>: values.yaml, Chart.yaml,
// template-keys.txt); the project keeps only these key lists, not the upstream files.
import * as fs from "fs";
import * as path from "path";
import { CORE_SCHEMA, load } from "js-yaml";
import { answersHelp, EXIT } from "./exit";
import { PROJECT_DIR } from "./stack-config";
import { isMap } from "../policies/lib/strings";

export interface ChartKeys {
    chart: string;
    version: string;
    /** Where the lists came from. */
    source: string;
    defaults: string[];
    emptyMaps: string[];
    templateReads: string[];
}

/**
 * Records every key path of a defaults tree. The items of a list of maps (such as Dagster's
 * `deployments`) are described by the list's first item, under `<path>[]`.
 */
function walkDefaults(value: unknown, prefix: string, defaults: Set<string>, emptyMaps: Set<string>): void {
    if (Array.isArray(value)) {
        if (isMap(value[0])) walkDefaults(value[0], `${prefix}[]`, defaults, emptyMaps);
        return;
    }
    if (!isMap(value)) return;
    if (Object.keys(value).length === 0 && prefix !== "") emptyMaps.add(prefix);
    for (const [k, v] of Object.entries(value)) {
        const p = prefix === "" ? k : `${prefix}.${k}`;
        defaults.add(p);
        walkDefaults(v, p, defaults, emptyMaps);
    }
}

export function readChartKeys(dir: string): ChartKeys {
    const chart = load(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8"), { schema: CORE_SCHEMA }) as {
        name: string;
        version: string;
    };
    const defaults = new Set<string>();
    const emptyMaps = new Set<string>();
    walkDefaults(
        load(fs.readFileSync(path.join(dir, "values.yaml"), "utf8"), { schema: CORE_SCHEMA }),
        "",
        defaults,
        emptyMaps,
    );
    for (const sub of fs.readdirSync(dir)) {
        const subValues = path.join(dir, sub, "values.yaml");
        if (fs.existsSync(subValues))
            walkDefaults(load(fs.readFileSync(subValues, "utf8"), { schema: CORE_SCHEMA }), sub, defaults, emptyMaps);
    }
    const templateReads = fs
        .readFileSync(path.join(dir, "template-keys.txt"), "utf8")
        .split("\n")
        .filter((l) => l !== "" && !l.startsWith("#"));
    return {
        chart: chart.name,
        version: chart.version,
        source: `upstream chart ${chart.name} ${chart.version}: key paths of its default values.yaml (and subcharts'), and the value paths its templates read (reference data in ../shared/charts/${chart.name}/${chart.version})`,
        defaults: [...defaults].sort(),
        emptyMaps: [...emptyMaps].sort(),
        templateReads: [...new Set(templateReads)].sort(),
    };
}

export const CHART_KEYS_DIR = path.join(PROJECT_DIR, "tests", "fixtures", "chart-keys");

export function chartKeysFile(chart: string, version: string): string {
    return path.join(CHART_KEYS_DIR, `${chart}-${version}.json`);
}

const USAGE = `usage: npm run chart-keys -- <chart defaults dir>...   (e.g. ../shared/charts/trino/1.42.2)

Writes tests/fixtures/chart-keys/<chart>-<version>.json: every value path the chart version's
defaults (values.yaml) and templates (template-keys.txt) know, for the values tests.`;

export function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): number {
    if (answersHelp(argv, USAGE, out)) return EXIT.ok;
    if (argv.length === 0 || argv.some((a) => a.startsWith("-"))) {
        err(`chart-keys: give one or more chart directories\n\n${USAGE}`);
        return EXIT.badInput;
    }
    fs.mkdirSync(CHART_KEYS_DIR, { recursive: true });
    for (const dir of argv) {
        if (!fs.existsSync(path.join(dir, "Chart.yaml"))) {
            err(`chart-keys: ${dir} holds no Chart.yaml\n\n${USAGE}`);
            return EXIT.badInput;
        }
        const keys = readChartKeys(dir);
        const file = chartKeysFile(keys.chart, keys.version);
        fs.writeFileSync(file, JSON.stringify(keys, null, 1) + "\n");
        out(
            `wrote ${path.relative(process.cwd(), file)} (${keys.defaults.length} defaults, ${keys.templateReads.length} template reads)`,
        );
    }
    return EXIT.ok;
}
