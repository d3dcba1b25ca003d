// Checks generated Helm values against the key paths a pinned chart version knows (see
// offline/chart-keys.ts). A path is known when the defaults have it or a template reads it (or reads
// something below it); free-form when it sits under a map whose default is empty; read whole when a
// template reads one of its parents (with toYaml, range or with). Anything else Helm would ignore.
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
    const readBelow = (p: string) => keys.templateReads.some((r) => r.startsWith(`${p}.`));
    // `global` alone is passed around whole by most charts, so it proves nothing about a key beneath it.
    const readParent = (parts: string[]) => {
        for (let i = parts.length - 1; i > 0; i--) {
            const pre = parts.slice(0, i).join(".");
            if (pre !== "global" && !pre.endsWith(".global") && reads.has(pre)) return true;
        }
        return false;
    };
    const report: KeyReport = { unknown: [], readWhole: [], unread: [] };
    const walk = (v: Record<string, unknown>, prefix: string[]) => {
        for (const [k, x] of Object.entries(v)) {
            const parts = [...prefix, k];
            const p = parts.join(".");
            if (defaults.has(p) || reads.has(p) || readBelow(p)) {
                if (isMap(x)) walk(x, parts);
                else if (!reads.has(p) && !readParent(parts)) report.unread.push(p);
            } else if (emptyMaps.has(prefix.join("."))) {
                // free-form below an empty default map (resources, annotations, ...), read if a parent is
                if (!readParent(parts)) report.unread.push(p);
            } else if (readParent(parts)) {
                report.readWhole.push(p);
            } else {
                report.unknown.push(p);
            }
        }
    };
    walk(values, []);
    return report;
}
