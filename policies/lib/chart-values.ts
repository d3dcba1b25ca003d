// The value paths each chart version the platform installs is known to read, and the check of Helm
// values against them. Helm ignores a misspelt or moved key without a word: a setting the chart no
// longer reads (a key renamed between chart versions) silently does nothing, so a Release is only
// as checked as the version it installs. The program refuses a chart version with no recorded
// paths (config.ts), and the pack's `chart-values-known` checks every Release's values against the
// paths of its version: one list, one check, both sides.
//
// The lists live in the pack's folder (chart-keys/<chart>-<version>.json, written by
// `npm run chart-keys` from the chart itself), so a published pack carries them.
import * as fs from "fs";
import * as path from "path";

export interface ChartKeys {
    chart: string;
    version: string;
    /** Where the lists came from. */
    source: string;
    /** Every key path of the default values.yaml (subcharts under their name; list items as `<list>[]`). */
    defaults: string[];
    /** Defaults that are empty maps: free-form below (annotations, resources, ...). */
    emptyMaps: string[];
    /** Every value path a template reads. */
    templateReads: string[];
}

/** Set by the tests that run the program with a version recorded in a copy of the folder. */
let chosenDir: string | undefined;

/** Reads the lists from `dir` until called again (undefined: the pack's folder). For tests. */
export function readChartKeysFrom(dir: string | undefined): void {
    chosenDir = dir;
}

/**
 * The folder of recorded lists: beside the pack's PulumiPolicy.yaml, found from wherever this file
 * was compiled to (policies/lib, policies/bin/lib, or a build of the whole project).
 */
export function chartKeysDir(from?: string): string {
    if (from === undefined && chosenDir !== undefined) return chosenDir;
    from ??= __dirname;
    for (let d = from; ; d = path.dirname(d)) {
        if (fs.existsSync(path.join(d, "PulumiPolicy.yaml"))) return path.join(d, "chart-keys");
        if (fs.existsSync(path.join(d, "policies", "PulumiPolicy.yaml"))) return path.join(d, "policies", "chart-keys");
        if (path.dirname(d) === d)
            throw new Error(`no PulumiPolicy.yaml above ${from}: the pack's folder is incomplete`);
    }
}

export function chartKeysFile(chart: string, version: string, dir: string = chartKeysDir()): string {
    return path.join(dir, `${chart}-${version}.json`);
}

/** The recorded value paths of one chart version, or undefined when none are recorded. */
export function chartKeys(chart: string, version: string, dir: string = chartKeysDir()): ChartKeys | undefined {
    const file = chartKeysFile(chart, version, dir);
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as ChartKeys) : undefined;
}

/** The versions of a chart with recorded value paths, oldest first. */
export function recordedVersions(chart: string, dir: string = chartKeysDir()): string[] {
    if (!fs.existsSync(dir)) return [];
    const prefix = `${chart}-`;
    return fs
        .readdirSync(dir)
        .filter((f) => f.startsWith(prefix) && f.endsWith(".json") && /^\d/.test(f.slice(prefix.length)))
        .map((f) => f.slice(prefix.length, -".json".length))
        .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

/**
 * The chart's name as a Release names it: a repository chart by its name, a local directory by its
 * last segment (`charts/dagster`), a local archive by its file name without `-<version>.tgz`.
 */
export function chartNameOf(chart: string): string {
    const base = chart.replace(/\/+$/, "").split("/").pop() ?? chart;
    return base.endsWith(".tgz") ? base.replace(/(-\d[\w.+-]*)?\.tgz$/, "") : base;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export interface KeyReport {
    /** Paths the chart neither defaults nor reads: Helm ignores them. */
    unknown: string[];
    /** Paths accepted only because a template reads a parent whole: worth a look by hand. */
    readWhole: string[];
    /**
     * Values set on paths the defaults have but no template reads (neither the path nor a parent):
     * keys that are "real" in values.yaml yet change nothing.
     */
    unread: string[];
}

/**
 * Sorts each value path of `values`. A path is known when the defaults have it or a template reads
 * it (or reads something below it); free-form when it sits under a map whose default is empty; read
 * whole when a template reads one of its parents (with toYaml, range or with). Anything else Helm
 * would ignore. Items of a list whose default item is known (`<list>[]`) are checked key by key.
 */
export function checkValues(values: Record<string, unknown>, keys: ChartKeys): KeyReport {
    const defaults = new Set(keys.defaults);
    const emptyMaps = new Set(keys.emptyMaps);
    const reads = new Set(keys.templateReads);
    // Templates read a list whole (`range`); its items' keys are read through it.
    const readable = (p: string) => p.replace(/\[\]/g, "");
    const isRead = (p: string) => reads.has(readable(p));
    const readBelow = (p: string) => keys.templateReads.some((r) => r.startsWith(`${readable(p)}.`));
    // `global` alone is passed around whole by most charts, so it proves nothing about a key beneath it.
    const readParent = (p: string) => {
        const parts = p.split(".");
        for (let i = parts.length - 1; i > 0; i--) {
            const pre = parts.slice(0, i).join(".");
            if (pre !== "global" && !pre.endsWith(".global") && isRead(pre)) return true;
        }
        return false;
    };
    const report: KeyReport = { unknown: [], readWhole: [], unread: [] };
    const walk = (v: Record<string, unknown>, prefix: string) => {
        for (const [k, x] of Object.entries(v)) {
            const p = prefix === "" ? k : `${prefix}.${k}`;
            if (defaults.has(p) || isRead(p) || readBelow(p)) {
                if (isMap(x)) walk(x, p);
                else if (Array.isArray(x) && keys.defaults.some((d) => d.startsWith(`${p}[].`))) {
                    for (const item of x) if (isMap(item)) walk(item, `${p}[]`);
                } else if (!isRead(p) && !readParent(p)) report.unread.push(p);
            } else if (emptyMaps.has(prefix)) {
                // free-form below an empty default map (resources, annotations, ...), read if a parent is
                if (!readParent(p)) report.unread.push(p);
            } else if (readParent(p)) {
                report.readWhole.push(p);
            } else {
                report.unknown.push(p);
            }
        }
    };
    walk(values, "");
    return report;
}
