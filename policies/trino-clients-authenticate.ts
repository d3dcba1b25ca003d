import { StackValidationPolicy } from "@pulumi/policy";
import { load } from "js-yaml";
import { resourceLabel } from "./lib/report";
import { chartName } from "./lib/platform";
import { HELM_TYPES, isMap } from "./lib/strings";

const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";

type Resource = { type: string; name: string; props: unknown; urn: string };

/** The Trino releases of the stack that authenticate their clients (`server.config.authenticationType`). */
function authenticatingTrinos(resources: readonly Resource[]): Resource[] {
    return resources.filter((r) => {
        if (!HELM_TYPES.has(r.type) || !isMap(r.props) || chartName(r.props.chart) !== "trino") return false;
        const values = isMap(r.props.values) ? r.props.values : {};
        const server = isMap(values.server) ? values.server : {};
        const config = isMap(server.config) ? server.config : {};
        return typeof config.authenticationType === "string" && config.authenticationType.trim() !== "";
    });
}

/** Every dbt target on Trino in a `profiles.yml` the stack ships in a ConfigMap, with where it is. */
function dbtTrinoTargets(
    resources: readonly Resource[],
): { r: Resource; at: string; target: Record<string, unknown> }[] {
    const out: { r: Resource; at: string; target: Record<string, unknown> }[] = [];
    for (const r of resources) {
        if (r.type !== CONFIG_MAP || !isMap(r.props) || !isMap(r.props.data)) continue;
        for (const [key, text] of Object.entries(r.props.data)) {
            if (!/(^|\/)profiles\.ya?ml$/.test(key) || typeof text !== "string") continue;
            let doc: unknown;
            try {
                doc = load(text);
            } catch {
                continue; // configuration-readable reports text that does not parse
            }
            if (!isMap(doc)) continue;
            for (const [profile, body] of Object.entries(doc)) {
                if (!isMap(body) || !isMap(body.outputs)) continue;
                for (const [name, target] of Object.entries(body.outputs))
                    if (isMap(target) && target.type === "trino")
                        out.push({ r, at: `data["${key}"] › ${profile}.outputs.${name}`, target });
            }
        }
    }
    return out;
}

/** What is wrong with a dbt target on a Trino that authenticates: no login, plain HTTP, or no verification. */
export function targetProblems(target: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const method = typeof target.method === "string" ? target.method : "none";
    if (method === "none") problems.push(`method is ${JSON.stringify(method)}: it sends no credentials`);
    // dbt-trino's jwt, oauth and certificate methods speak HTTPS whatever http_scheme says.
    if (target.http_scheme === "http" && !["jwt", "oauth", "oauth_console", "certificate"].includes(method))
        problems.push(
            `http_scheme is "http": the credentials would cross the network in clear, and Trino refuses them`,
        );
    if (target.cert === false || target.verify === false)
        problems.push("certificate verification is off: any server could answer as Trino");
    return problems;
}

export const trinoClientsAuthenticate: StackValidationPolicy = {
    name: "trino-clients-authenticate",
    description:
        "Where the stack's Trino authenticates its clients, every Trino client the stack configures (a dbt profile) logs in, over HTTPS, and verifies Trino's certificate: a client with no credentials fails every query, and one that skips verification trusts any server that answers.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const trinos = authenticatingTrinos(args.resources);
        if (trinos.length === 0) return;
        const server = resourceLabel(trinos[0].type, trinos[0].name);
        for (const { r, at, target } of dbtTrinoTargets(args.resources))
            for (const problem of targetProblems(target))
                reportViolation(
                    `${resourceLabel(r.type, r.name)}: ${at}: ${problem}; ${server} authenticates its clients: give the target a login (method jwt with the login's token) and the platform's CA (cert).`,
                    r.urn,
                );
    },
};
