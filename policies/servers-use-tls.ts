import { StackValidationPolicy } from "@pulumi/policy";
import { resourceLabel } from "./lib/report";
import { chartName, isPostgresServer, postgresSslOn, trinoHttpsPort } from "./lib/platform";
import { containersOf, HELM_TYPES, isMap } from "./lib/strings";

type Resource = { type: string; name: string; props: unknown; urn: string };

/** Why a Trino release's values leave its clients on plain HTTP, or undefined when it serves HTTPS. */
export function trinoTlsProblem(values: Record<string, unknown>): string | undefined {
    if (trinoHttpsPort(values) !== undefined) return undefined;
    return "Trino serves its clients plain HTTP (values.server.config.https.enabled is not true): every query, its rows and any token cross the network in clear, and Trino accepts no login over it";
}

/** Why a PostgreSQL server container accepts connections without TLS, or undefined when it requires it. */
export function postgresTlsProblem(container: Record<string, unknown>): string | undefined {
    if (!isPostgresServer(container) || postgresSslOn(container)) return undefined;
    return "PostgreSQL accepts connections without TLS (no ssl=on among its arguments): the passwords are SCRAM, but every query and its rows cross the network in clear";
}

// Advisory: the platform ships Trino's and PostgreSQL's TLS off by default (trinoAuthentication,
// postgresTls), so a default stack passes with this warning in every preview until it turns them
// on. Garage and the Hive Metastore have no TLS setting of their own: not reported here, named in
// docs/security.md.
export const serversUseTls: StackValidationPolicy = {
    name: "servers-use-tls",
    description:
        "Every server the stack runs whose software speaks TLS serves its clients over it: a Trino release serves HTTPS (server.config.https.enabled; the platform's trinoAuthentication), a PostgreSQL server starts with ssl=on (postgresTls). Without it, queries, rows and credentials cross the pod network in clear.",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        for (const r of args.resources as readonly Resource[]) {
            if (HELM_TYPES.has(r.type) && isMap(r.props) && chartName(r.props.chart) === "trino") {
                const problem = trinoTlsProblem(isMap(r.props.values) ? r.props.values : {});
                if (problem)
                    reportViolation(
                        `${resourceLabel(r.type, r.name)}: ${problem}; set server.config.https with a certificate (with this platform: trinoAuthentication true, docs/security.md).`,
                        r.urn,
                    );
            }
            for (const { path, container } of containersOf(r.type, r.props)) {
                const problem = postgresTlsProblem(container);
                if (problem)
                    reportViolation(
                        `${resourceLabel(r.type, r.name)} ${path}: ${problem}; start it with ssl=on and a certificate, and admit hostssl only (with this platform: postgresTls true, docs/security.md).`,
                        r.urn,
                    );
            }
        }
    },
};
