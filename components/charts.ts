// Where each Helm chart comes from: the upstream repository by default, or the user's own source
// (a mirror's chart repository, an OCI registry, a chart archive or directory on disk), read from
// one key per chart (`trinoChart`, `airbyteChart`, `dagsterChart`) and handed to the Release as
// Helm takes it: a repository URL with the chart's name and version, an `oci://` reference with the
// version, or a local path (whose Chart.yaml must name the chart and its pinned version).
import * as pulumi from "@pulumi/pulumi";
import type { Login } from "./config";
import * as fs from "fs";
import * as path from "path";
import { load } from "js-yaml";
import * as tar from "tar";

export type ChartName = "trino" | "airbyte" | "dagster";

/**
 * The default source of each chart. Dagster's is the upstream 1.9.4 chart kept in this repository
 * (`charts/dagster`, made by `npm run bundle-chart`): upstream's values schema refers to
 * kubernetesjsonschema.dev, which answers 404 since December 2025 (dagster-io/dagster#33134) and
 * which no air-gapped cluster reaches, and Helm fetches it on every install and upgrade.
 */
export const CHART_SOURCES: Record<ChartName, string> = {
    trino: "https://trinodb.github.io/charts",
    airbyte: "https://airbytehq.github.io/charts",
    dagster: "charts/dagster",
};

export function chartSourceDescription(chart: ChartName): string {
    return `Where the ${chart} chart comes from: a chart repository (https:// or http://, as helm repo add takes it), an OCI chart reference (oci://host/path/${chart}), or a chart archive (.tgz) or directory on disk, relative to the project; its version is ${chart}ChartVersion.`;
}

export type ChartSource =
    | { kind: "repository"; url: string }
    | { kind: "oci"; reference: string }
    | { kind: "local"; path: string; archive: boolean };

export interface ChartSpec {
    /** The chart's name (in its Chart.yaml and in a repository's index). */
    name: ChartName;
    version: string;
    source: ChartSource;
    /** The login to its https:// repository (`chartRepositoryUsername`); undefined: anonymous. */
    login?: Login;
}

/** A host name or IP address with an optional port (`registry.corp:5000`, `10.0.0.5`, `[::1]:8443`). */
const HOST =
    /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:]+\])(?::\d{1,5})?$/i;

export function isHostPort(s: string): boolean {
    const port = /:(\d+)$/.exec(s)?.[1];
    return HOST.test(s) && (port === undefined || (Number(port) > 0 && Number(port) < 65536));
}

/** What a chart source value means, or why it is not one (the message names what would be valid). */
export function parseChartSource(value: string): ChartSource | { problem: string } {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
    if (scheme === "https" || scheme === "http") {
        let url: URL;
        try {
            url = new URL(value);
        } catch {
            return { problem: "a chart repository URL such as https://charts.example.com/stable" };
        }
        if (!isHostPort(url.host) || url.search || url.hash)
            return {
                problem: "a chart repository URL such as https://charts.example.com/stable (no query, no fragment)",
            };
        return { kind: "repository", url: value.replace(/\/+$/, "") };
    }
    if (scheme === "oci") {
        const rest = value.slice("oci://".length);
        const [host, ...repo] = rest.split("/");
        if (!isHostPort(host) || repo.length === 0 || repo.some((p) => !/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(p)))
            return {
                problem:
                    "an OCI chart reference such as oci://registry.example.com/charts/<chart> (no tag: the version key gives it)",
            };
        return { kind: "oci", reference: value };
    }
    if (scheme !== undefined)
        return {
            problem: `a chart source over https://, http:// or oci://, or a path on disk; "${scheme}://" is none of them`,
        };
    return { kind: "local", path: value, archive: /\.tgz$/.test(value) };
}

/** Chart.yaml of a chart directory or archive (`<chart>/Chart.yaml` inside it), or undefined. */
export function localChartYaml(file: string): string | undefined {
    if (!fs.existsSync(file)) return undefined;
    if (fs.statSync(file).isDirectory()) {
        const yaml = path.join(file, "Chart.yaml");
        return fs.existsSync(yaml) ? fs.readFileSync(yaml, "utf8") : undefined;
    }
    let found: string | undefined;
    try {
        tar.t({
            file,
            sync: true,
            onReadEntry(entry) {
                if (/^[^/]+\/Chart\.yaml$/.test(entry.path)) {
                    const chunks: Buffer[] = [];
                    entry.on("data", (c: Buffer) => chunks.push(c));
                    entry.on("end", () => (found ??= Buffer.concat(chunks).toString("utf8")));
                } else entry.resume();
            },
        });
    } catch {
        return undefined;
    }
    return found;
}

/**
 * What is wrong with a local chart for `name` at `version` (resolved from `cwd`), or undefined:
 * it exists, holds a Chart.yaml, and that names the chart and the pinned version.
 */
export function localChartProblem(
    source: { path: string; archive: boolean },
    name: ChartName,
    version: string,
    cwd: string,
): string | undefined {
    const file = path.resolve(cwd, source.path);
    const where = `relative to the project (${cwd})`;
    if (!fs.existsSync(file)) return `a chart archive (.tgz) or directory on disk, ${where}; nothing is at ${file}`;
    const text = localChartYaml(file);
    if (text === undefined)
        return source.archive || fs.statSync(file).isFile()
            ? `a chart archive (.tgz, as helm package makes it) holding <chart>/Chart.yaml; ${file} is not one`
            : `a chart directory holding Chart.yaml; ${file} has none`;
    let chart: { name?: unknown; version?: unknown };
    try {
        chart = (load(text) as typeof chart | null) ?? {};
    } catch {
        return `a chart whose Chart.yaml is YAML; ${file}'s is not`;
    }
    if (chart.name !== name) return `the ${name} chart; ${file} holds the chart ${JSON.stringify(chart.name)}`;
    if (String(chart.version) !== version)
        return `the ${name} chart at ${name}ChartVersion = ${JSON.stringify(version)}; ${file} holds version ${JSON.stringify(String(chart.version))} (set ${name}ChartVersion to it, or point at the chart of that version)`;
    return undefined;
}

/** The Release's chart arguments: what Helm needs to find the chart at its version. */
export function releaseChart(spec: ChartSpec): {
    chart: string;
    version: string;
    repositoryOpts?: { repo: string; username?: string; password?: pulumi.Input<string> };
} {
    switch (spec.source.kind) {
        case "repository": {
            const login = spec.login
                ? { username: spec.login.username, password: pulumi.secret(spec.login.password) }
                : {};
            return { chart: spec.name, version: spec.version, repositoryOpts: { repo: spec.source.url, ...login } };
        }
        case "oci":
            return { chart: spec.source.reference, version: spec.version };
        case "local":
            // The path stays as the stack gives it: Helm resolves it from the project, where the CLI
            // runs the provider. Helm ignores the version of a local chart; it is given all the same
            // (checked against the chart's Chart.yaml), so the state and the policy pack see it.
            return { chart: spec.source.path, version: spec.version };
    }
}

/** Where a chart comes from, for the plan: `https://... (repository)`, `charts/dagster (directory)`, ... */
export function describeChartSource(spec: ChartSpec): string {
    switch (spec.source.kind) {
        case "repository":
            return `${spec.name} ${spec.version} from the chart repository ${spec.source.url}`;
        case "oci":
            return `${spec.source.reference}:${spec.version} (OCI)`;
        case "local":
            return `${spec.name} ${spec.version} from ${spec.source.archive ? "the archive" : "the directory"} ${spec.source.path}`;
    }
}
