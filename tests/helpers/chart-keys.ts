// Checks generated Helm values against the key paths a pinned chart version knows (see
// offline/chart-keys.ts). A path is known when the defaults have it or a template reads it (or reads
// something below it); free-form when it sits under a map whose default is empty; read whole when a
// template reads one of its parents (with toYaml, range or with). Anything else Helm would ignore.
// Items of a list whose default item is known (`<list>[]`) are checked key by key.
import * as fs from "fs";
import { ChartKeys, chartKeysFile } from "../../offline/chart-keys";

export function loadChartKeys(chart: string, version: string): ChartKeys {
    return JSON.parse(fs.readFileSync(chartKeysFile(chart, version), "utf8")) as ChartKeys;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export interface KeyReport {
    unknown: string[];
    /** Paths accepted only because a template reads a parent whole: worth a look by hand. */
    readWhole: string[];
    /**
     * Values set on paths the defaults have but no template reads (neither the path nor a parent):
     * keys that are "real" in values.yaml yet change nothing.
     */
    unread: string[];
}

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
