import { StackValidationPolicy } from "@pulumi/policy";
import { resourceLabel } from "./lib/report";
import { chartName, isPostgresImage, postgresSslOn } from "./lib/platform";
import { containersOf, HELM_TYPES, isMap } from "./lib/strings";

type Resource = { type: string; name: string; props: unknown; urn: string };

/** The sslmode that verifies the server's certificate and its name: anything else trusts whoever answers. */
const VERIFYING = "verify-full";

/** A PostgreSQL server of the stack that requires TLS: a workload container of a postgres image started with `ssl=on`. */
function tlsServers(resources: readonly Resource[]): Resource[] {
    return resources.filter((r) =>
        containersOf(r.type, r.props).some(
            ({ container }) => isPostgresImage(container.image) && postgresSslOn(container),
        ),
    );
}

/** What is wrong with a client's sslmode (libpq's and pgJDBC's name), or undefined when it verifies. */
export function sslmodeProblem(mode: string | undefined): string | undefined {
    if (mode === VERIFYING) return undefined;
    if (mode === undefined)
        return "no sslmode: the client's default (prefer) takes TLS without verifying the server, and falls back to none";
    return `sslmode is ${JSON.stringify(mode)}: ${mode === "verify-ca" ? "the server's name is not checked" : "the server's certificate is not verified"}`;
}

/** Every PostgreSQL client setting of the stack: JDBC URLs in ConfigMaps, Dagster's storage, libpq's environment. */
function clientSettings(resources: readonly Resource[]): { r: Resource; at: string; mode: string | undefined }[] {
    const out: { r: Resource; at: string; mode: string | undefined }[] = [];
    for (const r of resources) {
        if (!isMap(r.props)) continue;
        if (r.type === "kubernetes:core/v1:ConfigMap" && isMap(r.props.data))
            for (const [key, text] of Object.entries(r.props.data)) {
                if (typeof text !== "string") continue;
                for (const m of text.matchAll(/jdbc:postgresql:\/\/[^\s<>"']+/g)) {
                    const url = m[0].replace(/&amp;/g, "&");
                    const query = url.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
                    const mode = new URLSearchParams(query).get("sslmode") ?? undefined;
                    out.push({ r, at: `data["${key}"] › ${url.split("?")[0]}`, mode });
                }
            }
        // Dagster's chart hands postgresql.postgresqlParams to libpq for every pod with the instance.
        if (HELM_TYPES.has(r.type) && chartName(r.props.chart) === "dagster" && isMap(r.props.values)) {
            const pg = isMap(r.props.values.postgresql) ? r.props.values.postgresql : {};
            if (typeof pg.postgresqlHost === "string") {
                const params = isMap(pg.postgresqlParams) ? pg.postgresqlParams : {};
                const mode = typeof params.sslmode === "string" ? params.sslmode : undefined;
                out.push({ r, at: "values.postgresql.postgresqlParams.sslmode", mode });
            }
        }
        // libpq's environment: a container that names a server (PGHOST) or a mode (PGSSLMODE).
        for (const { path, container } of containersOf(r.type, r.props)) {
            const env = Array.isArray(container.env) ? container.env.filter(isMap) : [];
            const value = (name: string) => {
                const e = env.find((x) => x.name === name);
                return e === undefined ? undefined : typeof e.value === "string" ? e.value : "";
            };
            if (value("PGHOST") !== undefined || value("PGSSLMODE") !== undefined)
                out.push({ r, at: `${path}.env PGSSLMODE`, mode: value("PGSSLMODE") });
        }
    }
    return out;
}

export const postgresClientsVerify: StackValidationPolicy = {
    name: "postgres-clients-verify",
    description:
        "Where the stack's PostgreSQL requires TLS, every PostgreSQL client the stack configures verifies the server (sslmode=verify-full with the CA): one that does not trusts any server that answers as PostgreSQL, with its password.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const servers = tlsServers(args.resources);
        if (servers.length === 0) return;
        const server = resourceLabel(servers[0].type, servers[0].name);
        for (const { r, at, mode } of clientSettings(args.resources)) {
            const problem = sslmodeProblem(mode);
            if (problem)
                reportViolation(
                    `${resourceLabel(r.type, r.name)}: ${at}: ${problem}; ${server} requires TLS: set sslmode=verify-full and sslrootcert to the platform's CA (/etc/lakehouse/ca/ca.crt from the lakehouse-ca ConfigMap).`,
                    r.urn,
                );
        }
    },
};
