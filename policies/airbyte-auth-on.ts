import { StackValidationPolicy } from "@pulumi/policy";
import { resourceLabel } from "./lib/report";
import { chartName } from "./lib/platform";
import { HELM_TYPES, isMap } from "./lib/strings";

type Resource = { type: string; name: string; props: unknown; urn: string };

/** The instance admin's credentials the chart would otherwise take from its values, by value path. */
const LITERAL_CREDENTIALS = [
    "global.auth.instanceAdmin.password",
    "global.auth.instanceAdmin.clientSecret",
    "global.auth.security.jwtSignatureSecret",
] as const;

function at(values: Record<string, unknown>, path: string): unknown {
    let v: unknown = values;
    for (const k of path.split(".")) v = isMap(v) ? v[k] : undefined;
    return v;
}

/** What is wrong with an Airbyte release's auth values: auth off, or an admin credential written into the values. */
export function airbyteAuthProblems(values: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const enabled = at(values, "global.auth.enabled");
    // The chart reads it through Sprig's `default`, so false and "false" both turn it off.
    if (enabled === false || enabled === "false")
        problems.push("global.auth.enabled is false: Airbyte's server and API answer anyone who reaches them");
    for (const path of LITERAL_CREDENTIALS) {
        const v = at(values, path);
        if (typeof v === "string" && v !== "")
            problems.push(
                `${path} is set in the values: the credential sits in the release's values and the chart's own Secret`,
            );
    }
    if (typeof at(values, "global.auth.secretName") !== "string" || at(values, "global.auth.secretName") === "")
        problems.push(
            "global.auth.secretName is not set: Airbyte's bootloader makes up the instance admin itself, a password no stack output or Secret of the platform holds",
        );
    return problems;
}

export const airbyteAuthOn: StackValidationPolicy = {
    name: "airbyte-auth-on",
    description:
        "Every Airbyte release keeps its auth on (the chart's default) and takes its instance admin from a Secret the stack generates (global.auth.secretName), never from a password in its values: an Airbyte without auth lets anyone who reaches it read every connection's credentials.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const r of args.resources as readonly Resource[]) {
            if (!HELM_TYPES.has(r.type) || !isMap(r.props) || chartName(r.props.chart) !== "airbyte") continue;
            const values = isMap(r.props.values) ? r.props.values : {};
            for (const problem of airbyteAuthProblems(values))
                reportViolation(
                    `${resourceLabel(r.type, r.name)}: ${problem}; keep global.auth.enabled true and give the instance admin's Secret in global.auth.secretName (the platform's airbyte-instance-admin).`,
                    r.urn,
                );
        }
    },
};
