import { ResourceValidationPolicy } from "@pulumi/policy";
import { chartKeys, chartNameOf, checkValues, recordedVersions } from "./lib/chart-values";
import { resourceLabel } from "./lib/report";
import { isExactVersion } from "./lib/rules";
import { HELM_TYPES, isMap, isRemoteComponent } from "./lib/strings";

/** How many unknown paths a message lists before it counts the rest. */
const LISTED = 8;

export const chartValuesKnown: ResourceValidationPolicy = {
    name: "chart-values-known",
    description:
        "A Helm release's values set only keys its chart version defaults or reads (policies/chart-keys): Helm ignores any other key without a word, so a misspelt or renamed key is a setting that silently does nothing.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!HELM_TYPES.has(args.type) || !isMap(args.props) || isRemoteComponent(args.type, args.props)) return;
        const { chart, version, values, repositoryOpts } = args.props;
        // A version that is not exact is chart-version-pinned's to report: no list can describe a range.
        if (typeof chart !== "string" || typeof version !== "string" || !isExactVersion(version)) return;
        const name = chartNameOf(chart);
        const keys = chartKeys(name, version);
        const label = resourceLabel(args.type, args.name);
        if (!keys) {
            const recorded = recordedVersions(name);
            const repo =
                isMap(repositoryOpts) && typeof repositoryOpts.repo === "string" ? repositoryOpts.repo : "<repository>";
            reportViolation(
                `${label}: no value paths are recorded for chart ${name} ${version} (recorded: ${recorded.length > 0 ? recorded.join(", ") : "none"}), so its values cannot be checked. Record them from the chart (\`helm pull ${name} --repo ${repo} --version ${version} --untar\`, then \`npm run chart-keys -- ${name}\`), review the plan, and commit policies/chart-keys/${name}-${version}.json; or install a recorded version.`,
            );
            return;
        }
        if (!isMap(values)) return;
        const { unknown } = checkValues(values, keys);
        if (unknown.length === 0) return;
        const listed = unknown.slice(0, LISTED).join(", ");
        const more = unknown.length > LISTED ? ` and ${unknown.length - LISTED} more` : "";
        reportViolation(
            `${label}: values set ${unknown.length === 1 ? "a key" : `${unknown.length} keys`} chart ${name} ${version} neither defaults nor reads: ${listed}${more}. Helm ignores ${unknown.length === 1 ? "it" : "them"} without a word; the chart's values.yaml names the key it reads.`,
        );
    },
};
