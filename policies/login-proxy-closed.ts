import { StackValidationPolicy } from "@pulumi/policy";
import { resourceLabel } from "./lib/report";
import { parseImageReference } from "./lib/rules";
import { containersOf, isMap } from "./lib/strings";

type Resource = { type: string; name: string; props: unknown; urn: string };

/** oauth2-proxy's settings that hold a secret: from a Secret (env valueFrom, a mounted file), never a flag or a literal value. */
const SECRET_SETTINGS = ["cookie-secret", "client-secret"] as const;
/** Its settings that let requests past the login: each opens the service behind it to whoever matches. */
const OPENING_FLAGS = [
    "skip-auth-route",
    "skip-auth-regex",
    "skip-auth-preflight",
    "skip-jwt-bearer-tokens",
    "trusted-ip",
] as const;

/** The image is oauth2-proxy (any registry or mirror, any tag). */
export function isLoginProxyImage(image: unknown): boolean {
    if (typeof image !== "string") return false;
    const ref = parseImageReference(image);
    return ref !== undefined && /(^|\/)oauth2-proxy$/.test(ref.repository);
}

/** `OAUTH2_PROXY_COOKIE_SECRET` for `cookie-secret`: the variable oauth2-proxy reads a setting from. */
function envName(setting: string): string {
    return `OAUTH2_PROXY_${setting.toUpperCase().replace(/-/g, "_")}`;
}

/** What makes an oauth2-proxy container leak its secrets or let requests past it. */
export function loginProxyProblems(container: Record<string, unknown>): string[] {
    const words = [container.command, container.args].flatMap((l) =>
        Array.isArray(l) ? l.filter((w): w is string => typeof w === "string") : [],
    );
    const flagged = (flag: string) => words.some((w) => w === `--${flag}` || w.startsWith(`--${flag}=`));
    const problems: string[] = [];
    const env = Array.isArray(container.env) ? container.env.filter(isMap) : [];
    for (const setting of SECRET_SETTINGS) {
        if (flagged(setting))
            problems.push(
                `--${setting} is on the command line: the secret sits in the pod spec, the plan and the state`,
            );
        const literal = env.find((e) => e.name === envName(setting) && typeof e.value === "string");
        if (literal) problems.push(`${envName(setting)} has a literal value: the secret sits in the pod spec`);
    }
    for (const flag of OPENING_FLAGS)
        if (flagged(flag))
            problems.push(
                `--${flag} lets requests past the login: what it matches reaches the service unauthenticated`,
            );
    return problems;
}

export const loginProxyClosed: StackValidationPolicy = {
    name: "login-proxy-closed",
    description:
        "Every login proxy (oauth2-proxy, as in front of Dagster's webserver with dagsterLogin) takes its cookie and client secrets from a Secret (env valueFrom or a file), never a flag or a literal value, and opens no route past the login (--skip-auth-route, --skip-auth-regex, --skip-auth-preflight, --skip-jwt-bearer-tokens, --trusted-ip).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const r of args.resources as readonly Resource[])
            for (const { path, container } of containersOf(r.type, r.props)) {
                if (!isLoginProxyImage(container.image)) continue;
                for (const problem of loginProxyProblems(container))
                    reportViolation(
                        `${resourceLabel(r.type, r.name)} ${path}: ${problem}; give secrets through a Secret (env valueFrom.secretKeyRef) and keep every route behind the login.`,
                        r.urn,
                    );
            }
    },
};
