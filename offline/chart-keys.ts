// The value paths a chart version knows, recorded for the program's and the pack's check of Helm
// values (policies/lib/chart-values.ts): every key of its default values.yaml (subcharts under their
// name), which defaults are empty maps (free-form below), and every path its templates read. Helm
// ignores a misspelt key without a word, so a chart version is installed only once its paths are
// recorded here and reviewed.
//
// `npm run chart-keys -- <chart dir>...` writes policies/chart-keys/<chart>-<version>.json from a
// chart's own files (`helm pull <repo>/<chart> --version <v> --untar` gives them): values.yaml,
// Chart.yaml and the templates (or, for the upstream reference data in ../shared/charts, the
// template-keys.txt that stands in for its templates).
import * as fs from "fs";
import * as path from "path";
import { CORE_SCHEMA, load } from "js-yaml";
import { answersHelp, EXIT } from "./exit";
import { isMap } from "../policies/lib/strings";
import { type ChartKeys, chartKeysDir, chartKeysFile } from "../policies/lib/chart-values";

export type { ChartKeys };

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
    // Subcharts' defaults under their names: a pulled chart keeps them in charts/<name>/ (at any
    // depth); the reference data beside it, in <name>/.
    const subchartDefaults = (parent: string, prefix: string) => {
        for (const base of [parent, path.join(parent, "charts")]) {
            if (!fs.existsSync(base)) continue;
            for (const sub of fs.readdirSync(base, { withFileTypes: true })) {
                if (!sub.isDirectory() || sub.name === "charts" || sub.name === "templates") continue;
                const subValues = path.join(base, sub.name, "values.yaml");
                if (!fs.existsSync(subValues)) continue;
                const under = prefix === "" ? sub.name : `${prefix}.${sub.name}`;
                walkDefaults(
                    load(fs.readFileSync(subValues, "utf8"), { schema: CORE_SCHEMA }),
                    under,
                    defaults,
                    emptyMaps,
                );
                if (base !== parent) subchartDefaults(path.join(base, sub.name), under);
            }
        }
    };
    subchartDefaults(dir, "");
    // A pulled chart has its templates; the reference data in ../shared has their reads listed instead.
    const hasTemplates = fs.existsSync(path.join(dir, "templates"));
    const templateReads = hasTemplates
        ? [...templateValueReads(dir, "")]
        : fs
              .readFileSync(path.join(dir, "template-keys.txt"), "utf8")
              .split("\n")
              .filter((l) => l !== "" && !l.startsWith("#"));
    return {
        chart: chart.name,
        version: chart.version,
        source: hasTemplates
            ? `chart ${chart.name} ${chart.version}: key paths of its default values.yaml (and subcharts'), and the value paths its templates read`
            : `upstream chart ${chart.name} ${chart.version}: key paths of its default values.yaml (and subcharts'), and the value paths its templates read (reference data in ../shared/charts/${chart.name}/${chart.version})`,
        defaults: [...defaults].sort(),
        emptyMaps: [...emptyMaps].sort(),
        templateReads: [...new Set(templateReads)].sort(),
    };
}

/** Writes a chart's value paths where the program and the pack read them; returns what and where. */
export function recordChartKeys(chartDir: string, keysDir: string = chartKeysDir()): { keys: ChartKeys; file: string } {
    const keys = readChartKeys(chartDir);
    fs.mkdirSync(keysDir, { recursive: true });
    const file = chartKeysFile(keys.chart, keys.version, keysDir);
    fs.writeFileSync(file, JSON.stringify(keys, null, 1) + "\n");
    return { keys, file };
}

/** Every file below `dir`. */
function files(dir: string): string[] {
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/**
 * The value paths a chart's templates read, its subcharts' (charts/<name>/, at any depth) under
 * their names: `.Values.a.b` and `index .Values "a" "b"`, as written. A path read only through
 * `with` or a variable is missed; the check then calls a key below it unknown, which errs on the
 * side of a look by hand.
 */
export function templateValueReads(dir: string, prefix: string): Set<string> {
    const out = new Set<string>();
    const under = (p: string) => (prefix === "" ? p : `${prefix}.${p}`);
    const templates = path.join(dir, "templates");
    if (fs.existsSync(templates))
        for (const file of files(templates)) {
            const text = fs.readFileSync(file, "utf8");
            for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) out.add(under(m[1].slice(1)));
            for (const m of text.matchAll(/index\s+\$?\.Values((?:\s+"[^"]+")+)/g))
                out.add(under([...m[1].matchAll(/"([^"]+)"/g)].map((q) => q[1]).join(".")));
        }
    const subcharts = path.join(dir, "charts");
    if (fs.existsSync(subcharts))
        for (const sub of fs.readdirSync(subcharts, { withFileTypes: true }))
            if (sub.isDirectory())
                for (const p of templateValueReads(path.join(subcharts, sub.name), under(sub.name))) out.add(p);
    return out;
}

const USAGE = `usage: npm run chart-keys -- <chart dir>...   (e.g. trino after \`helm pull trino/trino --version 1.43.0 --untar\`)

Records the value paths a chart version knows in policies/chart-keys/<chart>-<version>.json: every
key of its defaults (values.yaml, subcharts' too) and every value path its templates read. The
program installs a chart version only once its paths are recorded, and the policy pack checks the
platform's values against them (chart-values-known). Review the plan after recording: a key the new
version no longer reads is named there.`;

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
    for (const dir of argv) {
        if (!fs.existsSync(path.join(dir, "Chart.yaml"))) {
            err(`chart-keys: ${dir} holds no Chart.yaml\n\n${USAGE}`);
            return EXIT.badInput;
        }
        const { keys, file } = recordChartKeys(dir);
        out(
            `wrote ${path.relative(process.cwd(), file)} (${keys.defaults.length} defaults, ${keys.templateReads.length} template reads)`,
        );
    }
    return EXIT.ok;
}
