// What the policies know of the platform: the Services its components expose (by the names the
// platform gives them) and the Services known charts create for a release. Policies judge what
// resources say and never import the program, so this is their own record, kept in step with
// components/addresses.ts by a test.
import { Component, helmFullname, isDnsLabel } from "./rules";
import { isMap } from "./strings";

export { COMPONENTS } from "./rules";
export type { Component } from "./rules";

export interface KnownService {
    name: string;
    component: Component;
    ports: number[];
    /** The port clients use instead when the service answers over TLS (Trino with HTTPS enabled). */
    tlsPort?: number;
}

/** Services another namespace reaches. */
export const PLATFORM_SERVICES: readonly KnownService[] = [
    { name: "garage", component: "garage", ports: [3900] },
    { name: "garage-headless", component: "garage", ports: [3901, 3903] },
    { name: "postgres", component: "database", ports: [5432] },
    { name: "hive-metastore", component: "database", ports: [9083] },
    { name: "trino", component: "trino", ports: [8080], tlsPort: 8443 },
    { name: "airbyte-airbyte-server-svc", component: "airbyte", ports: [8001] },
    { name: "dagster-dagster-webserver", component: "dagster", ports: [80] },
];

const BY_NAME = new Map(PLATFORM_SERVICES.map((s) => [s.name, s]));

export function platformService(name: string): KnownService | undefined {
    return BY_NAME.get(name);
}

export interface ServiceDecl {
    name: string;
    namespace: string;
    ports: number[];
    /** A headless Service: its pods have names `<pod>.<service>.<namespace>.svc.<domain>`. */
    headless: boolean;
    /** What declares it, for messages. */
    source: string;
}

/**
 * The component a split stack registers with the contracts it read from its upstream stacks (its
 * outputs). The engine shows a policy pack no reads (StackReferences, \`.get\`), not even in the
 * whole-stack pass, so this is where the pack finds the services other stacks deploy.
 */
export const UPSTREAM_STACKS_TYPE = "lakehouse:platform:UpstreamStacks";

/**
 * The platform's component. Its outputs hold what the stack outputs leave off to fit one screen:
 * the full contract, every address, the namespaces, the wiring and its checks (docs/outputs.md).
 */
export const PLATFORM_TYPE = "lakehouse:platform:LakehousePlatform";

/** The chart a Helm resource installs: `trino`, `repo/trino`, or a local path ending in the chart's name. */
export function chartName(chart: unknown): string | undefined {
    if (typeof chart !== "string" || chart === "") return undefined;
    return chart
        .replace(/\/+$/, "")
        .split("/")
        .pop()
        ?.replace(/-\d+(\.\d+)*\.tgz$/, "");
}

function num(v: unknown, fallback: number): number {
    return typeof v === "number" && Number.isInteger(v) ? v : fallback;
}

/** The HTTPS port of the trino chart's coordinator (`server.config.https`), when enabled. */
export function trinoHttpsPort(values: Record<string, unknown>): number | undefined {
    const server = isMap(values.server) ? values.server : {};
    const config = isMap(server.config) ? server.config : {};
    const https = isMap(config.https) ? config.https : {};
    return https.enabled === true ? num(https.port, 8443) : undefined;
}

/**
 * The platform Services a Helm release serves over TLS (`<namespace>/<service>`): their clients
 * use the TLS port.
 */
export function tlsServices(resources: readonly { type: string; name: string; props: unknown }[]): Set<string> {
    const out = new Set<string>();
    for (const r of resources) {
        if (!r.type.startsWith("kubernetes:helm.sh/") || !isMap(r.props)) continue;
        if (chartName(r.props.chart) !== "trino" || !isMap(r.props.values)) continue;
        if (trinoHttpsPort(r.props.values) === undefined) continue;
        const release = typeof r.props.name === "string" ? r.props.name : r.name;
        const namespace = typeof r.props.namespace === "string" ? r.props.namespace : "default";
        out.add(`${namespace}/${helmFullname(release, "trino")}`);
    }
    return out;
}

/**
 * The Services a known chart creates for a release, from the chart's templates (with the values
 * that name or number them).
 */
export function chartServices(
    chart: string | undefined,
    release: string,
    namespace: string,
    values: unknown,
): ServiceDecl[] {
    const v = isMap(values) ? values : {};
    const source = `chart ${chart} (release ${release})`;
    const decl = (name: string, ports: number[], headless = false): ServiceDecl => ({
        name,
        namespace,
        ports,
        headless,
        source,
    });
    switch (chart) {
        case "trino": {
            const full = helmFullname(release, "trino");
            const port = num(isMap(v.service) ? v.service.port : undefined, 8080);
            // With HTTPS enabled, the coordinator's Service adds its HTTPS port (8443 by default).
            const https = trinoHttpsPort(v);
            const ports = https !== undefined ? [port, https] : [port];
            return [decl(full, ports), decl(`${full}-worker`, [port], true)];
        }
        case "airbyte":
            return [
                decl(`${release}-airbyte-server-svc`, [8001]),
                decl(`${release}-airbyte-workload-api-server-svc`, [8007]),
                decl(`${release}-temporal`, [7233]),
            ];
        case "dagster": {
            const full = helmFullname(release, "dagster");
            const web = isMap(v.dagsterWebserver) ? v.dagsterWebserver : {};
            const nameOverride = typeof web.nameOverride === "string" ? web.nameOverride : "dagster-webserver";
            const webPort = num(isMap(web.service) ? web.service.port : undefined, 80);
            const out = [decl(`${full}-${nameOverride}`, [webPort])];
            const uds = v["dagster-user-deployments"];
            const deployments = isMap(uds) && Array.isArray(uds.deployments) ? uds.deployments : [];
            for (const d of deployments)
                if (isMap(d) && typeof d.name === "string") out.push(decl(d.name, [num(d.port, 3030)]));
            return out;
        }
        default:
            return [];
    }
}

export type HostForm =
    | { form: "fqdn"; service: string; namespace: string; pod?: string; domain: string }
    | { form: "svc-no-domain"; service: string; namespace: string; pod?: string }
    | { form: "namespace-only"; service: string; namespace: string }
    | { form: "short"; service: string }
    | { form: "other" };

/**
 * How a host names an in-cluster Service: fully (`svc.ns.svc.domain`), without the domain
 * (`svc.ns.svc`), by namespace only (`svc.ns`) or by its short name (`svc`). The last two are
 * recognised only for platform services, since any other `a.b` or `a` may be an outside host.
 */
export function hostForm(host: string): HostForm {
    const h = host.toLowerCase().replace(/\.$/, "");
    const at = h.indexOf(".svc.");
    const left = at >= 0 ? h.slice(0, at) : h.endsWith(".svc") ? h.slice(0, -4) : undefined;
    if (left !== undefined) {
        const parts = left.split(".");
        if ((parts.length === 2 || parts.length === 3) && parts.every((p) => isDnsLabel(p))) {
            const pod = parts.length === 3 ? parts[0] : undefined;
            const [service, namespace] = parts.slice(-2);
            if (at >= 0) return { form: "fqdn", service, namespace, pod, domain: h.slice(at + 5) };
            return { form: "svc-no-domain", service, namespace, pod };
        }
        return { form: "other" };
    }
    const parts = h.split(".");
    if (parts.length === 1 && platformService(parts[0])) return { form: "short", service: parts[0] };
    if (parts.length === 2 && platformService(parts[0]) && isDnsLabel(parts[1]))
        return { form: "namespace-only", service: parts[0], namespace: parts[1] };
    return { form: "other" };
}

export function fqdn(service: string, namespace: string, domain: string, pod?: string): string {
    return `${pod ? `${pod}.` : ""}${service}.${namespace}.svc.${domain}`;
}

/** A container of a PostgreSQL image (any registry or mirror, any tag): a server, or a client's psql. */
export function isPostgresImage(image: unknown): boolean {
    return typeof image === "string" && /(^|\/)postgres(:|@|$)/.test(image);
}

/**
 * A PostgreSQL container that serves: it declares the port it listens on (a wiring check's or an
 * init Job's psql, the image's other use, declares none).
 */
export function isPostgresServer(container: Record<string, unknown>): boolean {
    return isPostgresImage(container.image) && Array.isArray(container.ports) && container.ports.length > 0;
}

/** PostgreSQL started with TLS on (`-c ssl=on` among its arguments, as the platform starts it). */
export function postgresSslOn(container: Record<string, unknown>): boolean {
    const args = Array.isArray(container.args) ? container.args : [];
    return args.some((a) => typeof a === "string" && /^ssl=(on|true|yes|1)$/i.test(a));
}
