// The one registry of in-cluster addresses. Every host, host:port and URL the platform uses is
// derived here from (service, namespace, port, cluster domain); no other code spells a host.
// A short name (`garage`) or a namespace-only name (`garage.garage`) resolves only through the
// caller's DNS search path, so every address here is the full <service>.<namespace>.svc.<domain>.
import { helmFullname } from "../policies/lib/rules";
import type { ComponentName } from "./config";

export interface ServiceRef {
    service: string;
    namespace: string;
    port: number;
}

/** An address one component hands another: the Service, and the URL (or host:port) clients use. */
export interface Address {
    service: Endpoint;
    url: string;
}

export interface Endpoint extends ServiceRef {
    clusterDomain: string;
    /** `<service>.<namespace>.svc.<clusterDomain>` */
    host: string;
    /** `<host>:<port>` */
    hostPort: string;
}

export function serviceHost(service: string, namespace: string, clusterDomain: string): string {
    return `${service}.${namespace}.svc.${clusterDomain}`;
}

export function endpoint(ref: ServiceRef, clusterDomain: string): Endpoint {
    const host = serviceHost(ref.service, ref.namespace, clusterDomain);
    return { ...ref, clusterDomain, host, hostPort: hostPortOf(host, ref.port) };
}

/** `scheme://host:port[/path]`, for http, thrift, s3 and similar schemes. */
/** `<host>:<port>` */
export function hostPortOf(host: string, port: number): string {
    return `${host}:${port}`;
}

export function urlOf(ep: Pick<Endpoint, "hostPort">, scheme: string, path = ""): string {
    const suffix = path === "" ? "" : path.startsWith("/") ? path : `/${path}`;
    return `${scheme}://${ep.hostPort}${suffix}`;
}

/** `jdbc:postgresql://host:port/database`, and `?name=value&...` with connection parameters (pgJDBC's, e.g. sslmode). */
export function jdbcPostgresUrl(ep: Endpoint, database: string, params: Record<string, string> = {}): string {
    const query = Object.entries(params).map(([k, v]) => {
        // Written as they are (a path stays readable); a value that would need escaping is a bug here.
        if (!/^[A-Za-z0-9._/-]+$/.test(`${k}${v}`)) throw new Error(`internal error: JDBC parameter ${k}=${v}`);
        return `${k}=${v}`;
    });
    return urlOf(ep, "jdbc:postgresql", database) + (query.length === 0 ? "" : `?${query.join("&")}`);
}

/**
 * Every name a Service answers to: its FQDN, the one clients are given, then the shorter forms a
 * pod of its own namespace may use. A server's certificate carries them all.
 */
export function serviceNames(ep: Pick<Endpoint, "host" | "service" | "namespace">): string[] {
    return [ep.host, `${ep.service}.${ep.namespace}.svc`, `${ep.service}.${ep.namespace}`];
}

/** The address of one pod of a StatefulSet behind its headless Service. */
export function podEndpoint(pod: string, headless: ServiceRef, clusterDomain: string): Endpoint {
    return endpoint({ ...headless, service: `${pod}.${headless.service}` }, clusterDomain);
}

// Helm's `<chart>.fullname`, as the policy pack computes it for the same charts.
export { helmFullname };

/** Helm release names are set explicitly: without one, every Service the chart creates changes. */
export const RELEASES = {
    trino: "trino",
    airbyte: "airbyte",
    dagster: "dagster",
} as const;

export interface PlatformService {
    component: ComponentName;
    service: string;
    port: number;
    /** Scheme of the URL clients use; absent for raw TCP (PostgreSQL). */
    scheme?: string;
    /** The port and scheme clients use instead when the service answers over TLS (Trino with `trinoAuthentication`). */
    tls?: { port: number; scheme: string };
    /**
     * The Service, port and scheme clients use instead when the service is behind its login
     * (Dagster's webserver with `dagsterLogin`: an authenticating proxy in its namespace).
     */
    login?: { service: string; port: number; scheme: string };
    /** People and tools outside the platform use it (a UI or API), so client namespaces may reach it. */
    userFacing?: boolean;
    description: string;
}

/** Every Service another namespace reaches, with the name the owning code or chart creates. */
export const PLATFORM_SERVICES = {
    garageS3: { component: "garage", service: "garage", port: 3900, scheme: "http", description: "Garage S3 API" },
    postgres: { component: "database", service: "postgres", port: 5432, description: "metadata PostgreSQL" },
    hiveMetastore: {
        component: "database",
        service: "hive-metastore",
        port: 9083,
        scheme: "thrift",
        description: "Hive Metastore",
    },
    trino: {
        component: "trino",
        service: helmFullname(RELEASES.trino, "trino"),
        port: 8080,
        scheme: "http",
        tls: { port: 8443, scheme: "https" },
        userFacing: true,
        description: "Trino coordinator",
    },
    airbyteServer: {
        component: "airbyte",
        service: `${RELEASES.airbyte}-airbyte-server-svc`,
        port: 8001,
        scheme: "http",
        userFacing: true,
        description: "Airbyte server (UI and API)",
    },
    dagsterWebserver: {
        component: "dagster",
        service: `${helmFullname(RELEASES.dagster, "dagster")}-dagster-webserver`,
        port: 80,
        scheme: "http",
        // oauth2-proxy's default port: an unprivileged one, as its image runs as a user.
        login: { service: "dagster-login", port: 4180, scheme: "http" },
        userFacing: true,
        description: "Dagster webserver",
    },
} as const satisfies Record<string, PlatformService>;

export type ServiceId = keyof typeof PLATFORM_SERVICES;

/** One row of the address table published as a stack output. */
export interface AddressEntry extends Endpoint {
    component: ComponentName;
    /** The URL clients use, or `host:port` for raw TCP services. */
    url: string;
}

/** How clients enter a service: on its TLS port (`tls`), or through its login (`login`). */
export interface EntryOptions {
    tls?: boolean;
    login?: boolean;
}

/**
 * The Service of `id` as clients reach it: through its login when `login` (and it has one), on
 * its TLS port when `tls` (and it has one), else itself.
 */
export function serviceEndpoint(
    id: ServiceId,
    namespace: string,
    clusterDomain: string,
    entry: EntryOptions = {},
): Endpoint {
    const s: PlatformService = PLATFORM_SERVICES[id];
    if (entry.login && s.login)
        return endpoint({ service: s.login.service, namespace, port: s.login.port }, clusterDomain);
    const port = entry.tls && s.tls ? s.tls.port : s.port;
    return endpoint({ service: s.service, namespace, port }, clusterDomain);
}

export function addressEntry(
    id: ServiceId,
    namespace: string,
    clusterDomain: string,
    entry: EntryOptions = {},
): AddressEntry {
    return entryAt(id, serviceEndpoint(id, namespace, clusterDomain, entry));
}

/** The scheme of service `id` on `port`: its TLS scheme on its TLS port, its login's on its login's. */
export function schemeAt(id: ServiceId, port: number): string | undefined {
    const s: PlatformService = PLATFORM_SERVICES[id];
    if (s.tls && port === s.tls.port) return s.tls.scheme;
    if (s.login && port === s.login.port) return s.login.scheme;
    return s.scheme;
}

/** The address table's row of service `id` at `ep`: its URL in the service's scheme, or host:port. */
export function entryAt(id: ServiceId, ep: Endpoint): AddressEntry {
    const s: PlatformService = PLATFORM_SERVICES[id];
    const scheme = schemeAt(id, ep.port);
    return { ...ep, component: s.component, url: scheme ? urlOf(ep, scheme) : ep.hostPort };
}

/** The address table of the platform services whose component is in `components`. */
export function addressTable(
    namespaces: Record<ComponentName, string>,
    clusterDomain: string,
    components: readonly ComponentName[],
    tls: readonly ServiceId[] = [],
    login: readonly ServiceId[] = [],
): Partial<Record<ServiceId, AddressEntry>> {
    const table: Partial<Record<ServiceId, AddressEntry>> = {};
    for (const id of Object.keys(PLATFORM_SERVICES) as ServiceId[]) {
        const component = PLATFORM_SERVICES[id].component;
        if (components.includes(component))
            table[id] = addressEntry(id, namespaces[component], clusterDomain, {
                tls: tls.includes(id),
                login: login.includes(id),
            });
    }
    return table;
}

/**
 * One connection of the platform's call graph: `from` reaches `to`'s service at `address`,
 * configured in the value `via`. The wiring feeds the stack outputs, the plan and the
 * NetworkPolicies.
 */
export interface WiringEdge {
    from: ComponentName;
    to: ComponentName;
    service: ServiceId;
    host: string;
    port: number;
    /** The address exactly as configured (URL, host:port or host). */
    address: string;
    /** The resource that carries it (type and Pulumi name) and the value's path in it. */
    via: { type: string; name: string; path: string };
}

export function wire(
    from: ComponentName,
    service: ServiceId,
    target: Endpoint,
    address: string,
    via: WiringEdge["via"],
): WiringEdge {
    return {
        from,
        to: PLATFORM_SERVICES[service].component,
        service,
        host: target.host,
        port: target.port,
        address,
        via,
    };
}

/** The URL of the service an edge reaches (`tcp://` for raw TCP), whatever form its address takes (a bare host, a URL with a path). */
export function edgeUrl(edge: Pick<WiringEdge, "service" | "host" | "port">, path = ""): string {
    const scheme = schemeAt(edge.service, edge.port);
    return urlOf({ hostPort: hostPortOf(edge.host, edge.port) }, scheme ?? "tcp", path);
}
