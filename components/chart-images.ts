// The images each chart runs or launches with the platform's values, and the values that put them
// on a registry mirror (`imageRegistryMirror`). What the charts render by default is not in the
// values the program writes, so it is stated here for the chart versions this program pins, read
// from their templates; the real-engine suite compares the list with what the charts render under
// the real provider (every pod template, and the image names the workloads launch from).
import { mirrorImage } from "../policies/lib/rules";
import type { ChartName } from "./charts";

export interface ChartImage {
    /** Where the chart uses it, in words. */
    where: string;
    /** The reference as the cluster will pull it. */
    image: string;
}

/** Each pinned chart version's appVersion: the tag of its images that the values leave unset. */
const APP_VERSIONS: Record<ChartName, Record<string, string>> = {
    trino: { "1.42.2": "480" },
    airbyte: { "2.2.0": "2.2.0" },
    dagster: { "1.9.4": "1.9.4" },
};

/** The chart's default tag at `version`, or a placeholder naming it when this program does not pin that version. */
export function appVersionOf(chart: ChartName, version: string): string {
    return APP_VERSIONS[chart][version] ?? `<appVersion of ${chart} ${version}>`;
}

const m = (ref: string, mirror?: string) => mirrorImage(ref, mirror);

// ---- Trino ----

/** `image.registry` puts the one image (coordinator and workers) on the mirror; its repository stays. */
export function trinoImageValues(mirror?: string): Record<string, unknown> {
    return mirror ? { image: { registry: mirror } } : {};
}

export function trinoImages(version: string, mirror?: string): ChartImage[] {
    return [{ where: "coordinator and workers", image: m(`trinodb/trino:${appVersionOf("trino", version)}`, mirror) }];
}

// ---- Airbyte ----

/** Airbyte's images in chart 2.2.0 with the platform's values (community edition, no MinIO, no PostgreSQL). */
const AIRBYTE_WORKLOADS = [
    ["server", "airbyte/server"],
    ["worker", "airbyte/worker"],
    ["workload launcher", "airbyte/workload-launcher"],
    ["workload API server", "airbyte/workload-api-server"],
    ["cron", "airbyte/cron"],
    ["bootloader (Helm hook pod)", "airbyte/bootloader"],
] as const;
const AIRBYTE_LAUNCHED = [
    ["container orchestrator (CONTAINER_ORCHESTRATOR_IMAGE)", "airbyte/container-orchestrator"],
    ["connector sidecar (CONNECTOR_SIDECAR_IMAGE)", "airbyte/connector-sidecar"],
    ["workload init container (WORKLOAD_INIT_IMAGE)", "airbyte/workload-init-container"],
    ["connector profiler (CONNECTOR_PROFILER_IMAGE)", "airbyte/async-profiler"],
] as const;

/**
 * `global.image.registry` prefixes every image the chart renders and every connector image the
 * workload launcher pulls (JOB_KUBE_CONNECTOR_IMAGE_REGISTRY defaults to it); each of Airbyte's
 * repositories has a namespace (`airbyte/...`, `temporalio/...`), so the prefix keeps its path.
 */
export function airbyteImageValues(mirror?: string): Record<string, unknown> {
    return mirror ? { image: { registry: mirror } } : {};
}

export function airbyteImages(version: string, mirror?: string): ChartImage[] {
    const tag = appVersionOf("airbyte", version);
    return [
        ...AIRBYTE_WORKLOADS.map(([where, repo]) => ({ where, image: m(`${repo}:${tag}`, mirror) })),
        { where: "manifest server", image: m("airbyte/manifest-server:7.23.7", mirror) },
        { where: "temporal", image: m("temporalio/auto-setup:1.27.2", mirror) },
        ...AIRBYTE_LAUNCHED.map(([where, repo]) => ({ where, image: m(`${repo}:${tag}`, mirror) })),
        {
            where: "connectors (JOB_KUBE_CONNECTOR_IMAGE_REGISTRY, prefixed to airbyte/source-*, airbyte/destination-*)",
            image: mirror ? `${mirror}/airbyte/<connector>:<version>` : "airbyte/<connector>:<version>",
        },
    ];
}

// ---- Dagster ----

/** The Dagster image of the webserver, the daemon and the migration Job: the chart's own repository at its Dagster version. */
export function dagsterImage(chartVersion: string, mirror?: string): { repository: string; tag: string } {
    return { repository: m("docker.io/dagster/dagster-celery-k8s", mirror), tag: chartVersion };
}

/** The chart's init containers wait for PostgreSQL with these (even with its PostgreSQL off). */
const DAGSTER_BUSYBOX = { repository: "docker.io/busybox", tag: "1.28" };
const DAGSTER_PG_CHECK = { repository: "library/postgres", tag: "14.6" };

/**
 * On a mirror, the images the chart takes from its own defaults are stated: the init
 * containers' busybox and PostgreSQL client, and the run image the chart's env ConfigMaps name
 * (the code location's image, as runs use).
 */
export function dagsterImageValues(userCode: { image: string; tag: string }, mirror?: string): Record<string, unknown> {
    if (!mirror) return {};
    return {
        busybox: { image: { ...DAGSTER_BUSYBOX, repository: m(DAGSTER_BUSYBOX.repository, mirror) } },
        postgresql: { image: { ...DAGSTER_PG_CHECK, repository: m(DAGSTER_PG_CHECK.repository, mirror) } },
        pipelineRun: { image: { repository: userCode.image, tag: userCode.tag, pullPolicy: "IfNotPresent" } },
    };
}

export function dagsterImages(
    version: string,
    userCode: { image: string; tag: string },
    mirror?: string,
): ChartImage[] {
    const dagster = dagsterImage(version, mirror);
    const runImage = mirror
        ? `${userCode.image}:${userCode.tag}`
        : `docker.io/dagster/user-code-example:${appVersionOf("dagster", version)}`;
    return [
        { where: "webserver, daemon and the migration Job", image: `${dagster.repository}:${dagster.tag}` },
        {
            where: "init containers of the webserver and daemon (wait for PostgreSQL)",
            image: m(`${DAGSTER_PG_CHECK.repository}:${DAGSTER_PG_CHECK.tag}`, mirror),
        },
        {
            where: "init containers of the webserver and daemon (busybox)",
            image: m(`${DAGSTER_BUSYBOX.repository}:${DAGSTER_BUSYBOX.tag}`, mirror),
        },
        { where: "code location and its runs", image: `${userCode.image}:${userCode.tag}` },
        { where: "run image named in the chart's env ConfigMaps (DAGSTER_K8S_PIPELINE_RUN_IMAGE)", image: runImage },
    ];
}
